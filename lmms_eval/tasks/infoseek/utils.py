"""InfoSeek val from the official JSONL files (``open-vision-language/infoseek``; no hub copy).

The task reads ``data/`` beside its YAML (a folder or a symlink to one):

* ``data/infoseek_val.jsonl`` - one question a line: ``data_id``, ``image_id``, ``question``,
  ``answer``, ``answer_eval``, ``data_split``;
* ``data/infoseek_val_qtype.jsonl`` - ``data_id`` -> ``question_type`` (time / numerical / string);
* ``data/images/`` - the OVEN images, ``<image_id><ext>`` with ``ext`` one of :data:`IMAGE_EXTENSIONS`
  (tried in that order), e.g. ``data/images/oven_01963180.jpg``.

The task's ``data_files`` list both JSONL files, so the loader reads them as one list of rows;
:func:`process_docs` joins them by ``data_id``. Images are read by path when a sample is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics.infoseek import split_of

DATA_DIR = Path(__file__).resolve().parent / "data"
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".JPEG", ".jpeg", ".JPG", ".png")


def process_docs(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The question rows with ``question_type`` joined from the qtype rows (rows that hold only
    ``data_id`` and ``question_type``). A question without a type keeps ``question_type: None``
    (scoring it is that sample's error, naming the qtype file)."""
    qtypes: dict[str, str] = {}
    questions: list[dict[str, Any]] = []
    for row in rows:
        if "question" in row:
            questions.append(row)
        elif "question_type" in row and "data_id" in row:
            qtypes[str(row["data_id"])] = str(row["question_type"])
    return [{**row, "question_type": qtypes.get(str(row.get("data_id")))} for row in questions]


def image_path(doc: dict[str, Any], image_dir: Path | None = None) -> Path:
    """The image file of a row: ``<image_dir>/<image_id><ext>`` for the first extension that exists."""
    folder = image_dir or DATA_DIR / "images"
    image_id = str(doc.get("image_id") or "")
    if not image_id:
        raise SampleError(f"InfoSeek {doc.get('data_id')!r} has no image_id")
    for ext in IMAGE_EXTENSIONS:
        candidate = folder / f"{image_id}{ext}"
        if candidate.is_file():
            return candidate
    tried = "|".join(IMAGE_EXTENSIONS)
    raise SampleError(
        f"InfoSeek {doc.get('data_id')!r}: image {folder / image_id}{{{tried}}} not found; put the OVEN image "
        f"{image_id} in {folder} (see lmms_eval/tasks/infoseek/README.md, 'Data')"
    )


def doc_to_visual(doc: dict[str, Any]) -> list[str]:
    """The row's image, by path."""
    return [str(image_path(doc))]


def split_name(doc: dict[str, Any]) -> str:
    """``unseen_question`` or ``unseen_entity`` (the official routing by ``data_split`` suffix)."""
    return split_of(doc.get("data_split"))


def question_type(doc: dict[str, Any]) -> str | None:
    """The lower-cased question type (the official scorer lower-cases it too), None when absent."""
    qtype = doc.get("question_type")
    return str(qtype).lower() if qtype else None
