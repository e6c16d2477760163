"""Fixture: a hub-shaped copy of ``lmms-lab/MME`` (default config, split ``test``).

Columns and types as the hub card's ``dataset_info`` declares them (``benchmark_schemas.json``
key ``mme``): ``question_id`` (string, ``<category>/<file name>``: the image, shared by its two
questions), ``image`` (``Image``), ``question`` (string, ending with " Please answer yes or
no."), ``answer`` (``Yes``/``No``), ``category`` (string, the subtask). Two images per subtask
in two perception (existence, color) and two cognition (code_reasoning, text_translation)
subtasks, one image alone in text_translation; each image has its two questions (a Yes and a
No), so acc+ pairs them. Images are small Pillow drawings.

``ROWS`` lists (question_id, question, answer, category, scripted reply); the scripted model
answers by row index (the doc id). Hand-worked scores are in ``test_mme.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/MME"
ASK = " Please answer yes or no."
CODE = "The image shows a python code. Is the output of the code"
TRANSLATE = "Is it appropriate to translate the Chinese in the image into English"
THOUGHT = "<think>The circle is blue.</think><answer>No</answer>"

# (question_id, question without the instruction, answer, category, the scripted model's reply)
ROWS: list[tuple[str, str, str, str, str]] = [
    # existence: image 1 both right; image 2 one wrong -> acc 3/4, acc+ 1/2
    ("existence/000000000001.jpg", "Is there a red circle in this image?", "Yes", "existence", "Yes"),
    ("existence/000000000001.jpg", "Is there a blue square in this image?", "No", "existence", "no."),
    ("existence/000000000002.jpg", "Is there a green triangle in this image?", "Yes", "existence", " yes"),
    ("existence/000000000002.jpg", "Is there a yellow star in this image?", "No", "existence", "Yes, it is"),
    # color: image 1 both right ("yesterday": quirk); image 2 both "other" -> acc 2/4, acc+ 1/2
    ("color/000000000003.jpg", "Is the square red?", "Yes", "color", "yesterday"),
    ("color/000000000003.jpg", "Is the square green?", "No", "color", "No"),
    ("color/000000000004.jpg", "Is the circle blue?", "Yes", "color", "I think yes"),
    ("color/000000000004.jpg", "Is the circle white?", "No", "color", THOUGHT),
    # code_reasoning: image 1 both right; image 2 one unparseable -> acc 3/4, acc+ 1/2
    ("code_reasoning/0001.png", f"{CODE} '3'?", "Yes", "code_reasoning", "Yes"),
    ("code_reasoning/0001.png", f"{CODE} '4'?", "No", "code_reasoning", "No"),
    ("code_reasoning/0002.png", f"{CODE} 'ab'?", "Yes", "code_reasoning", "I cannot tell."),
    ("code_reasoning/0002.png", f"{CODE} 'ba'?", "No", "code_reasoning", "no"),
    # text_translation: one image, both right ("Nobody ...": quirk) -> acc 1, acc+ 1
    ("text_translation/0001.png", f"{TRANSLATE} 'hello'?", "Yes", "text_translation", "Yes"),
    ("text_translation/0001.png", f"{TRANSLATE} 'goodbye'?", "No", "text_translation", "Nobody would say so"),
]  # fmt: skip

# doc id (row index) -> the scripted model's reply
ANSWERS: dict[str, str] = {str(i): row[4] for i, row in enumerate(ROWS)}


def _image(seed: int, kind: str) -> dict[str, Any]:
    """A small drawing: JPEG for the photo subtasks, PNG for the rendered ones (as upstream)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (48 + 8 * seed, 40), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 20, 20), fill=(200, 30 * seed % 255, 40))
    draw.ellipse((24, 8, 40, 24), fill=(40, 60, 200))
    if kind == "png":
        draw.text((4, 26), f"print({seed})", fill=(0, 0, 0))
        return image_cell(image)
    return image_cell(image, "JPEG", quality=85)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {"question_id": text, "image": datasets.Image(), "question": text, "answer": text, "category": text}
    )


def rows() -> list[dict[str, Any]]:
    """The test split: one image cell per question_id (drawn once, shared by its two rows)."""
    images: dict[str, dict[str, Any]] = {}
    out = []
    for question_id, question, answer, category, _ in ROWS:
        if question_id not in images:
            images[question_id] = _image(len(images) + 1, "png" if question_id.endswith(".png") else "jpg")
        out.append(
            {
                "question_id": question_id,
                "image": images[question_id],
                "question": question + ASK,
                "answer": answer,
                "category": category,
            }
        )
    return out


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
