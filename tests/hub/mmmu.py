"""Fixture: a hub-shaped copy of ``lmms-lab/MMMU`` (default config; splits ``validation``, ``test``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``mmmu_lmms``):
``id, question, options`` (a STRING holding a Python list literal), ``explanation``,
``image_1`` ... ``image_7`` (``Image``), ``img_type, answer, topic_difficulty, question_type,
subfield`` (strings). Images are small PNGs of distinct sizes, so a test can tell them apart.
``ANSWERS`` is what the scripted test model says per ``id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/MMMU"
IMAGE_COLUMNS = tuple(f"image_{i}" for i in range(1, 8))

# id -> the scripted model's answer (hand-worked scores in test_mmmu.py)
ANSWERS: dict[str, str] = {
    "validation_Art_Theory_1": "(A)",  # MC, answer A: right (both rules)
    "validation_Art_Theory_2": "Answer:C",  # MC, answer C: official finds no letter; lenient reads C
    "validation_Math_1": "The answer is 3.429",  # open, answer ['24/7', '3.429']: 3.43 == 3.43
    "validation_Math_2": "So the phase is -120 degrees",  # open, answer -120: right
    "validation_Finance_1": "7,243,000 dollars",  # open, answer 7243000: comma number, right
    "validation_Finance_2": "<think>B looks tempting</think><answer>D</answer>",  # MC, answer D
    "validation_Finance_3": "The result is 100.",  # open, answer 1000: wrong
    "validation_Electronics_1": "(A) is wrong and (C) is right",  # MC, answer C: last bracket, right
    "validation_Electronics_2": "I don't know",  # MC, answer A: unparsed, wrong
    "validation_History_1": "The painting shows the French Revolution clearly",  # MC text match: B
    "validation_Clinical_Medicine_1": "'D'",  # MC, answer D: official strips the quotes
    "test_Art_1": "B",
    "test_Physics_1": "42 m/s",
    "test_Physics_2": "not sure",
}


def png(size: tuple[int, int], color: tuple[int, int, int]) -> dict[str, Any]:
    """An encoded PNG cell (``{"bytes", "path"}``) of one colour."""
    from PIL import Image

    return image_cell(Image.new("RGB", size, color))


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    columns: dict[str, Any] = {"id": text, "question": text, "options": text, "explanation": text}
    for column in IMAGE_COLUMNS:
        columns[column] = datasets.Image()
    for name in ("img_type", "answer", "topic_difficulty", "question_type", "subfield"):
        columns[name] = text
    return datasets.Features(columns)


def _row(
    uid: str,
    question: str,
    options: list[str],
    answer: str,
    images: dict[str, Any] | None = None,
    question_type: str = "multiple-choice",
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uid,
        "question": question,
        "options": repr(options),  # str(list) as on the hub: "['a', 'b']"
        "explanation": "",
        "img_type": "['Diagrams']",
        "answer": answer,
        "topic_difficulty": "Medium",
        "question_type": question_type,
        "subfield": "Fixture",
    }
    for column in IMAGE_COLUMNS:
        row[column] = (images or {}).get(column)
    return row


def _one_image(seed: int) -> dict[str, Any]:
    return {"image_1": png((64, 64), (seed * 40 % 255, 120, 200))}


def validation_rows() -> list[dict[str, Any]]:
    """Eleven rows over five disciplines; the first interleaves images in question and options."""
    compare = {
        "image_1": png((64, 48), (200, 40, 40)),
        "image_2": png((32, 64), (40, 200, 40)),
        "image_3": png((16, 16), (40, 40, 200)),  # no tag names it: not sent
    }
    return [
        _row(
            "validation_Art_Theory_1",
            "Compare <image 1> and <image 2>. Which is older?",
            ["<image 1>", "<image 2>", "Same age"],
            "A",
            compare,
        ),
        _row(
            "validation_Art_Theory_2", "Which style is <image 1>?", ["Baroque", "Rococo", "Cubism"], "C", _one_image(2)
        ),
        _row("validation_Math_1", "Solve for x in <image 1>.", [], "['24/7', '3.429']", _one_image(3), "open"),
        _row("validation_Math_2", "What is the phase angle in <image 1>?", [], "-120", _one_image(4), "open"),
        _row("validation_Finance_1", "What is the total in <image 1>?", [], "7243000", _one_image(5), "open"),
        _row("validation_Finance_2", "Which bond in <image 1> is riskiest?", ["W", "X", "Y", "Z"], "D", _one_image(6)),
        _row("validation_Finance_3", "How many units are sold (<image 1>)?", [], "1000", _one_image(7), "open"),
        _row(
            "validation_Electronics_1",
            "Which circuit in <image 1> is stable?",
            ["first", "second", "third"],
            "C",
            _one_image(8),
        ),
        _row("validation_Electronics_2", "<image 1> What is V?", ["1 V", "2 V"], "A", _one_image(9)),
        _row(
            "validation_History_1",
            "Which event does <image 1> depict?",
            ["The American Revolution", "The French Revolution", "The Russian Revolution"],
            "B",
            _one_image(10),
        ),
        _row(
            "validation_Clinical_Medicine_1",
            "Which finding is shown in <image 1>?",
            ["edema", "necrosis", "fibrosis", "calcification"],
            "D",
            _one_image(11),
        ),
    ]


def test_rows() -> list[dict[str, Any]]:
    """Three test rows; answers withheld (the fixture writes "?")."""
    return [
        _row("test_Art_1", "Who painted <image 1>?", ["Monet", "Manet"], "?", _one_image(12)),
        _row("test_Physics_1", "What is the speed in <image 1>?", [], "?", _one_image(13), "open"),
        _row("test_Physics_2", "Which force in <image 1> is largest?", ["F1", "F2", "F3"], "?", _one_image(14)),
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    splits = {"default": {"validation": validation_rows(), "test": test_rows()}}
    return write_hub_dataset(mirror, REPO_ID, splits, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
