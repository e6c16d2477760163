"""Fixture: a hub-shaped copy of ``lmms-lab/vstar-bench`` (default config, split ``test``).

Columns and types as the copy users load (``benchmark_schemas.json`` key ``vstar``): ``image``
(``Image``), ``text`` (question, ``(A) ...`` option lines and the instruction "Answer with the
option's letter from the given choices directly."), ``category`` (``direct_attributes`` /
``relative_position``), ``question_id`` (string, "0".."190" upstream) and ``label`` (the letter).
Images are small Pillow drawings (JPEG, as upstream) except one 6000x4000 solid-colour JPEG, to
check the image reaches the model as stored. ``ANSWERS`` is what the scripted model says per
``question_id``; ``CHOICE`` is what the scripted likelihood model picks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/vstar-bench"
INSTRUCTION = "Answer with the option's letter from the given choices directly."
BIG_SIZE = (6000, 4000)
BIG_ID = "2"

# question_id -> the scripted model's reply (hand-worked scores in test_vstar_bench.py)
ANSWERS: dict[str, str] = {
    "0": "Based on the image, the answer is C.",  # C: right (lmms-eval 0.7 reads the B of "Based")
    "1": "Answer: B",  # B: right (lmms-eval 0.7 reads the A of "Answer")
    "2": "A",  # right (the big image)
    "3": "I cannot tell.",  # no option named: unparsed, wrong
    "4": "<think>The dog is at the right edge.</think><answer>B</answer>",  # B: right either way
    "5": "<think>It is (A).</think><answer>left</answer>",  # raw: only "(A)" -> A right; reduced "left": unparsed
    "6": "D",  # parsed, wrong (label A)
}

# question_id -> index of the option the scripted likelihood model gives the lowest loss
CHOICE: dict[str, int] = {"0": 2, "1": 0, "2": 0, "3": 3, "4": 1, "5": 1, "6": 0}


def _jpeg(color: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    if size == (64, 64):
        ImageDraw.Draw(image).ellipse((16, 16, 48, 48), fill=(255, 255, 255))
    return image_cell(image, "JPEG", quality=80)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {"image": datasets.Image(), "text": text, "category": text, "question_id": text, "label": text}
    )


def text_cell(question: str, options: list[str]) -> str:
    """A ``text`` cell as the hub copy stores it."""
    lines = "".join(f"\n({'ABCD'[i]}) {option}" for i, option in enumerate(options))
    return f"{question}{lines}\n{INSTRUCTION}"


def _row(qid: str, category: str, question: str, options: list[str], label: str, image: Any) -> dict[str, Any]:
    return {
        "image": image,
        "text": text_cell(question, options),
        "category": category,
        "question_id": qid,
        "label": label,
    }


def rows() -> list[dict[str, Any]]:
    """Seven rows: five direct_attributes (4 options), two relative_position (2 options)."""
    da, rp = "direct_attributes", "relative_position"
    left_right = ["The dog is on the left side of the car.", "The dog is on the right side of the car."]
    return [
        _row("0", da, "What is the color of the cup?", ["red", "blue", "green", "white"], "C", _jpeg((0, 128, 0))),
        _row(
            "1",
            da,
            "What is the material of the glove?",
            ["rubber", "cotton", "kevlar", "leather"],
            "B",
            _jpeg((90, 90, 90)),
        ),
        _row(
            BIG_ID,
            da,
            "What is the color of the flag?",
            ["yellow", "black", "purple", "orange"],
            "A",
            _jpeg((250, 220, 0), BIG_SIZE),
        ),
        _row("3", da, "What is the color of the umbrella?", ["pink", "gray", "brown", "blue"], "D", _jpeg((0, 0, 200))),
        _row("4", rp, "Is the dog on the left or right side of the car?", left_right, "B", _jpeg((200, 100, 0))),
        _row("5", rp, "Is the dog on the left or right side of the car?", left_right, "A", _jpeg((100, 0, 200))),
        _row("6", da, "What is the color of the bag?", ["black", "white", "red", "green"], "A", _jpeg((10, 10, 10))),
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
