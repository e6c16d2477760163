"""Fixture: a hub-shaped copy of ``FanqingM/MMK12`` (default config, ``test`` split).

Columns as the official evaluation reads them (``eval/mmk12/evaluate_mmk12.py``: ``id``,
``question``, ``image``, ``answer``) plus ``subject`` (third-party loaders); types as
``benchmark_schemas.json`` key ``mmk12`` gives them (strings and an ``Image``; the hub card's
``dataset_info`` was not seen). Questions carry their options inline (``A. ...`` lines) and the
answer is a letter, as in the test split. Images are 64x64 Pillow drawings. ``ANSWERS`` is what
the scripted test model says per ``id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "FanqingM/MMK12"

# id -> (subject, answer, the scripted model's response); hand-worked scores in test_mmk12.py
ITEMS: dict[str, tuple[str, str, str]] = {
    "m1": ("math", "B", "Since 2+2=4. <answer> The answer is $\\boxed{B}$ </answer>"),  # right
    "m2": ("math", "C", "So the result is \\boxed{A}"),  # boxed, wrong
    "p1": ("physics", "D", "The force doubles, \\boxed{D}"),  # boxed, right
    "p2": ("physics", "A", "I am not sure."),  # no tag, no box: the whole response goes on; wrong
    # the official extraction takes the FIRST <answer> ("A", wrong); the reasoning variant drops
    # the <think> block and takes the last <answer> ("B", right)
    "c1": ("chemistry", "B", "<think>maybe <answer>A</answer>?</think><answer>B</answer>"),
    "b1": ("biology", "A", "<answer>A</answer>"),  # right
}
ANSWERS = {doc_id: response for doc_id, (_s, _a, response) in ITEMS.items()}


def _png(shade: int) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).ellipse((12, 12, 52, 52), fill=(shade, 120, 200))
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features({"id": text, "subject": text, "question": text, "answer": text, "image": datasets.Image()})


def rows() -> list[dict[str, Any]]:
    """One row per ``ITEMS`` entry: a question with four inline options and a letter answer."""
    out = []
    for n, (doc_id, (subject, answer, _response)) in enumerate(ITEMS.items()):
        question = f"Question {doc_id} about the {subject} figure. Which option is right?\nA. 1\nB. 2\nC. 3\nD. 4"
        out.append({"id": doc_id, "subject": subject, "question": question, "answer": answer, "image": _png(40 * n)})
    return out


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
