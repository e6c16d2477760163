"""Fixture: a hub-shaped copy of ``MathLLMs/MathVision`` (default config, ``testmini`` and ``test``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``mathvision``):
``id, question, options`` (``list<string>``, empty for free-form), ``image`` (a path string),
``decoded_image`` (``Image``), ``answer`` (a letter for multiple choice), ``solution`` (nullable),
``level`` (int64), ``subject``. Images are 64x64 Pillow drawings. ``ANSWERS`` is what the scripted
test model says per ``id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "MathLLMs/MathVision"

# id -> the scripted model's answer (hand-worked scores in test_mathvision.py)
ANSWERS: dict[str, str] = {
    "1": "The answer is \\boxed{C}",  # MC, answer C: right
    "2": "So the answer is \\boxed{4}",  # MC, answer B whose text is "4": right through the option text
    "3": "\\boxed{\\frac{3}{4}}",  # free-form "0.75": right (numeric)
    "4": "I think it is 12 cm",  # free-form "12": "12cm" stays symbolic: wrong, unparsed
    "5": "<think>2+3</think><answer>5</answer>",  # free-form "5": raw wrong; reasoning variant right
    "6": "\\boxed{A}",  # MC with letter-only options, answer D: wrong
    "11": "\\boxed{60}",  # test split, answer 60: right
    "12": "\\boxed{E}",  # test split, answer A: wrong
}


def _png(shade: int) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).ellipse((12, 12, 52, 52), fill=(shade, 120, 200))
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "id": text,
            "question": text,
            "options": datasets.List(text),
            "image": text,
            "decoded_image": datasets.Image(),
            "answer": text,
            "solution": text,
            "level": datasets.Value("int64"),
            "subject": text,
        }
    )


def _row(uid: str, question: str, options: list[str], answer: str, level: int, subject: str) -> dict[str, Any]:
    return {
        "id": uid,
        "question": f"{question}\n<image1>",
        "options": options,
        "image": f"images/{uid}.jpg",
        "decoded_image": _png(20 * int(uid) % 255),
        "answer": answer,
        "solution": None,
        "level": level,
        "subject": subject,
    }


def testmini_rows() -> list[dict[str, Any]]:
    """Six problems: three multiple choice (one with letter-only options), three free-form."""
    return [
        _row("1", "Which kite has the longest string?", ["1", "2", "3", "4", "5"], "C", 1, "metric geometry - length"),
        _row("2", "How many triangles?", ["3", "4", "5", "6", "7"], "B", 2, "counting"),
        _row("3", "What fraction is shaded?", [], "0.75", 2, "arithmetic"),
        _row("4", "How long is the side?", [], "12", 3, "metric geometry - length"),
        _row("5", "What is the sum?", [], "5", 3, "arithmetic"),
        _row("6", "Which picture shows the cube?", ["A", "B", "C", "D", "E"], "D", 1, "solid geometry"),
    ]


def test_rows() -> list[dict[str, Any]]:
    """Two test problems (the test split has its answers on the hub)."""
    return [
        _row("11", "Which number is missing?", [], "60", 2, "arithmetic"),
        _row("12", "Which bike is most expensive?", ["A", "B", "C", "D", "E"], "A", 2, "arithmetic"),
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    splits = {"testmini": testmini_rows(), "test": test_rows()}
    return write_hub_dataset(mirror, REPO_ID, {"default": splits}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
