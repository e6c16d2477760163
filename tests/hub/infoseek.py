"""Fixture: InfoSeek val in its official file layout (no hub copy exists from the authors).

Writes ``<folder>/infoseek_val.jsonl`` (``data_id, image_id, question, answer, answer_eval,
data_split``), ``<folder>/infoseek_val_qtype.jsonl`` (``data_id, question_type``) and
``<folder>/images/<image_id><ext>`` (64x64 images; extensions ``.jpg``, ``.JPEG``, ``.png`` mixed,
one image missing on purpose) - the layout the ``infoseek_val`` task reads under its ``data/``.
``answer_eval`` is polymorphic as in the official files: string aliases for string/time
questions, ``[{"wikidata": v, "range": [lo, hi]}]`` for numerical ones.
``ANSWERS`` is what the scripted test model says per ``data_id`` (hand-worked in test_infoseek.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

UQ, UE = "val_unseen_question", "val_unseen_entity"

# data_id -> (question_type or None, data_split, answer_eval, image extension or None, scripted answer, note)
QUESTIONS: dict[str, tuple[str | None, str, Any, str | None, str, str]] = {
    "infoseek_val_01": ("string", UQ, ["Spain", "Kingdom of Spain"], ".jpg", "The Kingdom of Spain.", "right"),
    "infoseek_val_02": ("string", UE, ["Spain"], ".JPEG", "France", "wrong"),
    "infoseek_val_03": ("time", UQ, ["1990"], ".jpg", "1991", "wrong: no +/- 1 year"),
    "infoseek_val_04": ("time", UE, ["1887", "1887-03"], ".jpg", "1887", "right"),
    "infoseek_val_05": ("numerical", UQ, [{"wikidata": 100, "range": [90, 110]}], ".png", "about 100 m", "right"),
    "infoseek_val_06": ("numerical", UE, [{"wikidata": 10, "range": [9, 11]}], ".jpg", "9-10", "right: inside"),
    "infoseek_val_07": ("numerical", UE, [{"wikidata": 150, "range": [100, 200]}], ".jpg", "150-300", "IoU 0.25"),
    "infoseek_val_08": ("Numerical", UQ, {"wikidata": 1100, "range": [1000, 1200]}, ".jpg", "1,100", "right"),
    "infoseek_val_09": ("numerical", UQ, [{"wikidata": 0, "range": [-5, 5]}], ".jpg", "I don't know", "right: [0,0]"),
    "infoseek_val_10": ("string", UE, ["Paris"], None, "Paris", "error: image missing"),
    "infoseek_val_11": (None, UE, ["Rome"], ".jpg", "Rome", "error: no question type"),
}
ANSWERS: dict[str, str] = {data_id: spec[4] for data_id, spec in QUESTIONS.items()}


def image_id(data_id: str) -> str:
    return "oven_0000" + data_id[-2:]


def val_rows() -> list[dict[str, Any]]:
    """The rows of ``infoseek_val.jsonl`` (the official record layout)."""
    rows = []
    for data_id, (_, split, answer_eval, _, _, _) in QUESTIONS.items():
        if isinstance(answer_eval, dict) or (answer_eval and isinstance(answer_eval[0], dict)):
            first = answer_eval if isinstance(answer_eval, dict) else answer_eval[0]
            answer = [str(first["wikidata"])]
        else:
            answer = [answer_eval[0]]
        rows.append(
            {
                "data_id": data_id,
                "image_id": image_id(data_id),
                "question": f"What is asked in {data_id}?",
                "answer": answer,
                "answer_eval": answer_eval,
                "data_split": split,
            }
        )
    return rows


def qtype_rows() -> list[dict[str, Any]]:
    """The rows of ``infoseek_val_qtype.jsonl`` (one extra id the val file lacks, as harmless)."""
    rows = [{"data_id": d, "question_type": spec[0]} for d, spec in QUESTIONS.items() if spec[0] is not None]
    return rows + [{"data_id": "infoseek_val_99", "question_type": "string"}]


def build(folder: Path) -> Path:
    """Write the JSONL files and images under ``folder`` and return it."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    images = folder / "images"
    images.mkdir(exist_ok=True)
    for name, rows in (("infoseek_val.jsonl", val_rows()), ("infoseek_val_qtype.jsonl", qtype_rows())):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for k, (data_id, spec) in enumerate(QUESTIONS.items()):
        ext = spec[3]
        if ext is None:
            continue
        fmt = "PNG" if ext == ".png" else "JPEG"
        Image.new("RGB", (64, 64), (20 * k, 100, 200)).save(images / f"{image_id(data_id)}{ext}", format=fmt)
    return folder


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "infoseek_data")))
