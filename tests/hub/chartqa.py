"""Fixture: a hub-shaped copy of ``lmms-lab/ChartQA`` (default config; split ``test``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``chartqa``):
``type`` (``human_test`` / ``augmented_test``, the two official test files), ``question``,
``answer`` (strings), ``image`` (``Image``). No id column: documents are numbered by row.
Images: small bar charts drawn with Pillow. ``ANSWERS`` is what the scripted test model says
per row index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/ChartQA"

# (type, question, answer, the scripted model's reply); hand-worked scores in test_chartqa.py
ROWS: list[tuple[str, str, str, str]] = [
    ("human_test", "How many bars are there?", "5", "5"),  # right (both)
    ("human_test", "Is the first bar the tallest?", "Yes", "Yes "),  # official: no strip -> 0; lenient 1
    ("human_test", "What is the total?", "1020", "1,000"),  # official: a string -> 0; lenient 1.96 % -> 1
    ("human_test", "What is the average?", "24.5", "I cannot tell"),  # wrong (both)
    ("augmented_test", "What is the value of 2019?", "12", "<think>It looks like 12</think>12"),  # raw: 0
    ("augmented_test", "What share is red?", "0.45", "45%"),  # 45 % = 0.45: right (both)
    ("augmented_test", "Which colour is largest?", "Blue", "blue"),  # case-insensitive: right
    ("augmented_test", "What is the peak?", "105", "100"),  # 5/105 = 4.8 %: right
    ("augmented_test", "Which chart type is this?", "Pie", "Bar"),  # wrong
]
ANSWERS: dict[str, str] = {str(i): row[3] for i, row in enumerate(ROWS)}


def chart(heights: list[int]) -> dict[str, Any]:
    """A small bar chart (one bar per height) as an encoded PNG cell."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (16 * len(heights) + 8, 72), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i, height in enumerate(heights):
        draw.rectangle((4 + 16 * i, 68 - height, 14 + 16 * i, 68), fill=(40, 80, 200))
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features({"type": text, "question": text, "answer": text, "image": datasets.Image()})


def test_rows() -> list[dict[str, Any]]:
    return [
        {"type": kind, "question": question, "answer": answer, "image": chart([10 + i * 5, 30, 20 + i])}
        for i, (kind, question, answer, _) in enumerate(ROWS)
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": test_rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
