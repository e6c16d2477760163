"""Fixture: hub-shaped copies of ``lmms-lab/RealWorldQA`` (default config, split ``test``) and
``xai-org/RealworldQA`` (default config, split ``test_0412``), the same rows in both.

Columns and types of xAI's card ``dataset_info`` (the lmms-lab copy reads the same):
``image`` (Image), ``question`` (string: the question, ``A. option`` lines and an instruction),
``answer`` (string: a letter, or a word/number for the short-answer rows). Images are small PNGs
drawn with Pillow. ``ANSWERS`` is what the scripted model says per row (doc id = row index).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/RealWorldQA"
XAI_REPO_ID = "xai-org/RealworldQA"
LETTER = "Please answer directly with only the letter of the correct option and nothing else."
SHORT = "Please answer directly with a single word or number."

# row -> (question cell, answer)
ROWS: list[tuple[str, str]] = [
    (f"Which direction is the car facing?\nA. Left\nB. Straight\nC. Right\n{LETTER}", "C"),
    (f"Is the traffic light green?\nA. Yes\nB. No\n{LETTER}", "B"),
    (f"How many cones are on the road?\n{SHORT}", "3"),
    (f"How many lanes are there?\n{SHORT}", "2"),
    (f"What is the sign?\nA. Stop\nB. Yield\nC. Speed limit\n{LETTER}", "A"),
    (f"Where is the bus?\nA. Left lane\nB. Right lane\n{LETTER}", "B"),
    (f"What color is the car?\nA. Red\nB. Blue\n{LETTER}", "A"),
]

# row index -> the scripted model's reply (hand-worked scores in test_realworldqa.py)
ANSWERS: dict[str, str] = {
    "0": "C",  # right
    "1": "Not sure",  # gold B: the option text "No" is found inside "Not" -> B (lmms-eval quirk)
    "2": "Three",  # gold 3: the number word becomes "3"
    "3": "two.",  # gold 2: "two." is not a number word; "two" != "2"
    "4": "The answer is A.",  # gold A: lmms-eval compares the whole sentence; lenient reads A
    "5": "<think>The bus is in the right lane.</think>B",  # gold B: raw text wrong by the rule
    "6": "B",  # gold A: wrong
}


def photo(seed: int) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 36 + seed), (120, 160, 200))
    ImageDraw.Draw(image).rectangle((10, 20, 40, 30), fill=(seed * 35 % 255, 30, 30))
    return image_cell(image)


def features() -> Any:
    import datasets

    return datasets.Features(
        {"image": datasets.Image(), "question": datasets.Value("string"), "answer": datasets.Value("string")}
    )


def rows() -> list[dict[str, Any]]:
    return [{"image": photo(i), "question": q, "answer": a} for i, (q, a) in enumerate(ROWS)]


def build(mirror: Path) -> Path:
    """Write both copies under ``mirror``; returns the lmms-lab dataset folder."""
    write_hub_dataset(mirror, XAI_REPO_ID, {"default": {"test_0412": rows()}}, {"default": features()})
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
