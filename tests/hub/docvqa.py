"""Fixture: a hub-shaped copy of ``lmms-lab/DocVQA`` (config ``DocVQA``; splits ``validation``, ``test``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``docvqa``):
``questionId`` (a STRING), ``question``, ``question_types`` (list of strings), ``image``
(``Image``), ``docId`` (int64), ``ucsf_document_id``, ``ucsf_document_page_no``, ``answers``
(list of strings), ``data_split``. Test rows carry no answers and no question types (null; the
hub's test cells were not seen). Images: small drawn "documents" of distinct sizes.
``ANSWERS`` is what the scripted test model says per ``questionId``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/DocVQA"
CONFIG = "DocVQA"

# questionId -> the scripted model's answer (hand-worked ANLS in test_docvqa.py)
ANSWERS: dict[str, str] = {
    "1001": "12/15/89",  # ["12/15/88"]: 1 edit / 8 -> 0.875 (both rules)
    "1002": "1256",  # ["1234"]: 2 / 4 -> similarity 0.5: official keeps 0.5, normalised 0
    "1003": "  Tota1 ",  # ["total"]: 1 edit; official / raw length 8 -> 0.875, normalised / 5 -> 0.8
    "1004": "Chicago",  # ["Denver"]: wrong, 0
    "1005": "",  # ["Dr. Lobo"]: empty, 0
    "1006": "<think>The letter is signed by Dr. Lobo.</think><answer>Dr. Lobo</answer>",  # reasoning-wrapped
    "1007": "denver broncos",  # ["Denver Broncos", "Denver R. Broncos"]: 1
    "2001": "Dr. Lobo",
    "2002": "",
    "2003": "<think>It is 1999.</think><answer>1999</answer>",
}


def document(size: tuple[int, int], text: str) -> dict[str, Any]:
    """A white page with one line of black text, as an encoded PNG cell."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", size, (255, 255, 255))
    ImageDraw.Draw(page).text((4, 4), text, fill=(0, 0, 0))
    return image_cell(page)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "questionId": text,
            "question": text,
            "question_types": datasets.Sequence(text),
            "image": datasets.Image(),
            "docId": datasets.Value("int64"),
            "ucsf_document_id": text,
            "ucsf_document_page_no": text,
            "answers": datasets.Sequence(text),
            "data_split": text,
        }
    )


def _row(
    qid: str, question: str, answers: list[str] | None, types: list[str] | None, split: str, doc_id: int
) -> dict[str, Any]:
    return {
        "questionId": qid,
        "question": question,
        "question_types": types,
        "image": document((80 + doc_id % 7 * 8, 100), f"doc {doc_id}"),
        "docId": doc_id,
        "ucsf_document_id": f"fixture{doc_id:04d}",
        "ucsf_document_page_no": "1",
        "answers": answers,
        "data_split": split,
    }


def validation_rows() -> list[dict[str, Any]]:
    """Seven questions; question types as on the hub (multi-label)."""
    return [
        _row("1001", "What is the date mentioned?", ["12/15/88"], ["handwritten", "form"], "val", 11),
        _row("1002", "What is the code?", ["1234"], ["form"], "val", 12),
        _row("1003", "What is the heading of the last column?", ["total"], ["table/list"], "val", 13),
        _row("1004", "Which city is named?", ["Denver"], ["layout"], "val", 14),
        _row("1005", "Who signed the letter?", ["Dr. Lobo"], ["handwritten"], "val", 15),
        _row("1006", "To whom is the letter addressed?", ["Dear Dr. Lobo", "Dr. Lobo"], ["layout"], "val", 16),
        _row("1007", "Which team is mentioned?", ["Denver Broncos", "Denver R. Broncos"], ["free_text"], "val", 17),
    ]


def test_rows() -> list[dict[str, Any]]:
    """Three test questions; answers and question types withheld (null)."""
    return [
        _row("2001", "Who signed the letter?", None, None, "test", 21),
        _row("2002", "What is the total?", None, None, "test", 22),
        _row("2003", "In which year was it written?", None, None, "test", 23),
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    splits = {CONFIG: {"validation": validation_rows(), "test": test_rows()}}
    return write_hub_dataset(mirror, REPO_ID, splits, {CONFIG: features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
