"""Fixture: a hub-shaped copy of ``lmms-lab/ai2d`` (default config, split ``test``).

Columns and types of the hub card's ``dataset_info``: ``question`` (string), ``options``
(list of strings), ``answer`` (string: the option INDEX, ``"2"``), ``image`` (Image). Images are
small PNG diagrams drawn with Pillow. ``ANSWERS`` is what the scripted model says per row
(doc id = row index); ``CHOICE`` is the option the scripted likelihood scorer picks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/ai2d"

# row -> (question, options, answer index as a string)
ROWS: list[tuple[str, list[str], str]] = [
    ("Which part of the plant is labelled X?", ["stem", "leaf", "root", "flower"], "1"),
    ("Which body gives light to the others?", ["sun", "moon", "earth"], "2"),
    ("Which stage comes after the pupa?", ["larva", "pupa", "adult", "egg"], "3"),
    ("What does the rabbit eat?", ["herbivore", "carnivore"], "0"),
    ("How many legs does the insect have?", ["6", "8", "4", "2"], "0"),
    ("What happens at stage B of the water cycle?", ["evaporation", "condensation", "precipitation"], "1"),
    ("Where does the arrow point?", ["north", "south"], "1"),
]

# row index -> the scripted model's reply (hand-worked scores in test_ai2d.py)
ANSWERS: dict[str, str] = {
    "0": "B",  # gold B: right under every rule
    "1": "C. earth",  # gold C: the leading "C." is read
    "2": "The answer is D.",  # gold D: lmms-eval's rule compares the whole text (wrong); lenient D
    "3": "B",  # gold A: wrong
    "4": "I cannot tell",  # gold A: unparsed
    "5": "<think>A or B? It condenses.</think>B",  # gold B: raw text wrong everywhere
    "6": "<answer>B</answer>",  # gold B: the default reads "answerbanswer"; lenient B
}

# row index -> option index the scripted likelihood scorer makes win
CHOICE: dict[str, int] = {"0": 1, "1": 0, "2": 3, "3": 0, "4": 0, "5": 2, "6": 1}


def diagram(seed: int) -> dict[str, Any]:
    """A small PNG: a coloured box and a line (distinct per row)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (48 + seed, 40), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 20, 20), outline=(seed * 30 % 255, 80, 160), width=2)
    draw.line((24, 30, 44, 8), fill=(20, 20, 20), width=2)
    return image_cell(image)


def features() -> Any:
    import datasets

    return datasets.Features(
        {
            "question": datasets.Value("string"),
            "options": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.Value("string"),
            "image": datasets.Image(),
        }
    )


def rows() -> list[dict[str, Any]]:
    return [
        {"question": q, "options": options, "answer": answer, "image": diagram(i)}
        for i, (q, options, answer) in enumerate(ROWS)
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
