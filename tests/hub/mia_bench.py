"""Fixture: a hub-shaped copy of ``lmms-lab/MIA-Bench`` (config ``default``, split ``test``).

Columns and types as the card's ``dataset_info`` (README @ ``2f00804``): ``image`` (``Image``),
``instruction``, ``type`` (strings), ``num_of_component`` (``int32``), ``components``
(sequence of string), ``component_weight`` (sequence of ``int32``), ``component_type`` (sequence
of string). Images are small one-colour PNGs drawn with Pillow.

``ANSWERS``: what the scripted model says per doc id (the row index); ``JUDGE``: what the judge
stand-in replies for each model answer (the response quoted in the official prompt). The
expected scores are worked out by hand in ``test_mia_bench.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/MIA-Bench"

# (colour, instruction, type, [(component, weight, component type), ...], model answer)
ITEMS: list[tuple[tuple[int, int, int], str, str, list[tuple[str, int, str]], str]] = [
    (
        (200, 30, 30),
        "Describe the shape in the image in exactly three words.",
        "basic",
        [("Describe the shape in the image", 4, "describe"), ("in exactly three words", 6, "length_limit")],
        "A red square.",
    ),
    (
        (30, 30, 200),
        "Name the colour of the image in one word, using a simile.",
        "intermediate",
        [
            ("Name the colour of the image", 4, "describe"),
            ("in one word", 3, "length_limit"),
            ("using a simile", 3, "linguistics"),
        ],
        "Blue.",
    ),
    (
        (30, 200, 30),
        "Mention the colour, describe the shape, and mention the size.",
        "complex",
        [
            ("Mention the colour", 3, "mention"),
            ("describe the shape", 4, "describe"),
            ("mention the size", 3, "mention"),
        ],
        "<think>It is green and round.</think>A green circle.",
    ),
    (
        (200, 200, 30),
        "Write one sentence in the past tense and count the objects.",
        "advanced",
        [("Write one sentence in the past tense", 5, "grammar"), ("count the objects", 5, "math")],
        "I don't know",
    ),
    (
        (120, 120, 120),
        "Describe the image, quote any text, in two sentences, as a painter would.",
        "creative",
        [
            ("Describe the image", 3, "describe"),
            ("quote any text", 3, "textual"),
            ("in two sentences", 2, "length_limit"),
            ("as a painter would", 2, "perspective"),
        ],
        "",
    ),
    (
        (30, 200, 200),
        "Describe the image and mention its colour.",
        "basic",
        [("Describe the image", 5, "describe"), ("mention its colour", 5, "mention")],
        "Two cats.",
    ),
    (
        (250, 250, 250),
        "Describe the image.",
        "basic",
        [("Describe the image", 10, "describe")],
        "A white image.",
    ),
]
ANSWERS: dict[str, str] = {str(i): item[4] for i, item in enumerate(ITEMS)}

# model answer -> the judge stand-in's reply
JUDGE: dict[str, str] = {
    "A red square.": "score of component 1: 4/4, score of component 2: 6/6, total score: 10/10. Both followed.",
    "Blue.": "score of component 1: 2/4, score of component 2: 3/3, score of component 3: 0/3, total score: 5/10. "
    "No simile.",
    # the mention type appears twice: the third component's 1/3 overwrites the first's 3/3
    "<think>It is green and round.</think>A green circle.": "score of component 1: 3/3, score of component 2: 2/4, "
    "score of component 3: 1/3, total score: 6/10. The size is barely mentioned.",
    "I don't know": "Score: 0/10. The response does not follow the instruction.",  # no comma: judge error
    "": "score of component 1: 0/3, score of component 2: 0/3, score of component 3: 0/2, score of component 4: 0/2, "
    "total score: 0/10. Empty.",
    # three pieces before the total for a two-component row: the official IndexError, judge error
    "Two cats.": "score of component 1: 1/5, score of component 2: 0/5, score of component 3: 0/5, total score: 1/10.",
    "A white image.": "score of component 1: 7/10, total score: 7/10. Short.",
}


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "image": datasets.Image(),
            "instruction": text,
            "type": text,
            "num_of_component": datasets.Value("int32"),
            "components": datasets.Sequence(text),
            "component_weight": datasets.Sequence(datasets.Value("int32")),
            "component_type": datasets.Sequence(text),
        }
    )


def rows() -> list[dict[str, Any]]:
    from PIL import Image

    out = []
    for i, (colour, instruction, kind, parts, _) in enumerate(ITEMS):
        out.append(
            {
                "image": image_cell(Image.new("RGB", (24 + 4 * i, 16), colour)),
                "instruction": instruction,
                "type": kind,
                "num_of_component": len(parts),
                "components": [p[0] for p in parts],
                "component_weight": [p[1] for p in parts],
                "component_type": [p[2] for p in parts],
            }
        )
    return out


def build(mirror: Path) -> None:
    write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    build(Path(sys.argv[1]))
