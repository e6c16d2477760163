"""Fixture: a hub-shaped copy of ``Lin-Chen/MMStar`` (config ``val``, split ``val``).

Columns and types of the card's ``dataset_info`` (commit a9beb09 "init"): ``index`` (int64),
``question`` (string, the options written inline as ``Options: A: ..., B: ...``), ``image``
(Image), ``answer`` (string letter), ``category``, ``l2_category`` (strings), ``meta_info``
(struct ``source``, ``split``, ``image_path``). Images are small PNGs drawn with Pillow.
``ANSWERS`` is what the scripted model says per ``index``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "Lin-Chen/MMStar"

# index -> (question stem, options A-D, answer, category, l2_category)
ROWS: dict[int, tuple[str, list[str], str, str, str]] = {
    1: (
        "What mood does the image convey?",
        ["happy", "sad", "angry", "calm"],
        "A",
        "coarse perception",
        "image emotion",
    ),
    2: (
        "Where was the photo taken?",
        ["beach", "forest", "city", "desert"],
        "B",
        "coarse perception",
        "image scene and topic",
    ),
    3: ("How many apples are there?", ["1", "2", "3", "4"], "D", "fine-grained perception", "object counting"),
    4: ("Where is the red dot?", ["left", "right", "top", "bottom"], "C", "fine-grained perception", "localization"),
    5: ("What is angle x?", ["30", "45", "60", "90"], "A", "math", "geometry"),
    6: ("What is the median of the bars?", ["10", "20", "30", "40"], "B", "math", "statistical reasoning"),
    7: ("Which side is longest?", ["AB", "BC", "CA", "all equal"], "D", "math", "geometry"),
}

# index -> the scripted model's reply (hand-worked scores in test_mmstar.py)
ANSWERS: dict[str, str] = {
    "1": "A",  # right everywhere
    "2": "Based on the image, the answer is C.",  # gold B: the official rule reads the "b" of "Based"
    "3": "(D) 4",  # right everywhere
    "4": "Answer: C",  # gold C: official reads "a" (wrong); VLMEvalKit and lenient read C
    "5": "<think>Angles sum to 180.</think>A",  # gold A: official/VLMEvalKit wrong; lenient reads the lone A
    "6": "",  # empty reply: wrong, unparsed
    "7": "<answer>D</answer>",  # gold D: official/VLMEvalKit wrong; lenient D
}


def question_text(stem: str, options: list[str]) -> str:
    """The question cell: ``{stem}\\nOptions: A: x, B: y, C: z, D: w`` (as MMStar writes it)."""
    return stem + "\nOptions: " + ", ".join(f"{'ABCD'[i]}: {o}" for i, o in enumerate(options))


def picture(seed: int) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (40, 32 + seed), (240, 240, 240))
    ImageDraw.Draw(image).ellipse((6, 6, 26, 26), fill=(200, seed * 30 % 255, 40))
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "index": datasets.Value("int64"),
            "question": text,
            "image": datasets.Image(),
            "answer": text,
            "category": text,
            "l2_category": text,
            "meta_info": {"source": text, "split": text, "image_path": text},
        }
    )


def rows() -> list[dict[str, Any]]:
    return [
        {
            "index": index,
            "question": question_text(stem, options),
            "image": picture(index),
            "answer": answer,
            "category": category,
            "l2_category": l2,
            "meta_info": {"source": "Fixture", "split": "val", "image_path": f"{index}.jpg"},
        }
        for index, (stem, options, answer, category, l2) in ROWS.items()
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"val": {"val": rows()}}, {"val": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
