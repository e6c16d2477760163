"""Fixture: a hub-shaped copy of ``echo840/OCRBench`` (default config; split ``test``).

Columns and types of the repository lmms-eval's ``upload_ocrbench.py`` pushed
(``benchmark_schemas.json`` key ``ocrbench``): ``dataset``, ``question``, ``question_type``
(strings), ``answer`` (a LIST of strings, also for one answer), ``image`` (``Image``). No id
column: documents are numbered by row. Images: small text crops drawn with Pillow. ``ANSWERS``
is what the scripted test model says per row index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "echo840/OCRBench"
RECOGNISE = "what is written in the image?"
LATEX = "Please write out the expression of the formula in the image using LaTeX format."

# (dataset, question_type, question, answers, the scripted model's reply); scores in test_ocrbench.py
ROWS: list[tuple[str, str, str, list[str], str]] = [
    ("IIIT5K", "Regular Text Recognition", RECOGNISE, ["CENTRE"], "The word is centre."),  # 1
    ("svt", "Irregular Text Recognition", RECOGNISE, ["HOTEL"], "HOTE L"),  # 0
    (
        "WordArt",
        "Artistic Text Recognition",
        RECOGNISE,
        ["coffee"],
        "<think>It might say coffee but</think><answer>toffee</answer>",
    ),  # raw: "coffee" occurs (in the thinking) -> 1; reasoning variant: "toffee" -> 0
    ("IAM", "Handwriting Recognition", RECOGNISE, ["morning"], ""),  # empty -> 0
    ("ORAND", "Digit String Recognition", RECOGNISE, ["12345"], "12345"),  # 1
    ("NonSemanticText", "Non-Semantic Text Recognition", RECOGNISE, ["xkq pzt"], "XKQ PZT"),  # 1
    ("STVQA", "Scene Text-centric VQA", " What does the sign say? ", ["stop"], "It says STOP"),  # 1
    ("docVQA", "Doc-oriented VQA", "In which year?", ["1999", "nineteen ninety-nine"], "2000"),  # 0
    ("FUNSD", "Key Information Extraction", "What is the name?", ["John Smith"], "name: john  smith"),  # 0
    (
        "HME100k",
        "Handwritten Mathematical Expression Recognition",
        LATEX,
        ["y _ { 2 } = - 1\n", "y_2 = - 1\n"],
        "y_{2}=-1",
    ),  # spaces removed: 1
    ("HME100k", "Handwritten Mathematical Expression Recognition", LATEX, ["x ^ { 2 }"], "X^{2}"),  # case: 0
]
ANSWERS: dict[str, str] = {str(i): row[4] for i, row in enumerate(ROWS)}


def crop(text: str, width: int) -> dict[str, Any]:
    """A small image with ``text`` drawn on it, as an encoded PNG cell."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, 24), (250, 250, 240))
    ImageDraw.Draw(image).text((2, 6), text, fill=(10, 10, 10))
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "dataset": text,
            "question": text,
            "question_type": text,
            "answer": datasets.Sequence(text),
            "image": datasets.Image(),
        }
    )


def test_rows() -> list[dict[str, Any]]:
    return [
        {"dataset": ds, "question": q, "question_type": kind, "answer": answers, "image": crop(answers[0], 60 + 4 * i)}
        for i, (ds, kind, q, answers, _) in enumerate(ROWS)
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": test_rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
