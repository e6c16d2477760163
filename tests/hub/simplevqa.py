"""Fixture: a hub-shaped copy of ``m-a-p/SimpleVQA`` (``test`` split).

Columns and types as ``benchmark_schemas.json`` key ``simplevqa`` gives them (a mirror's card;
the original card was not seen): ``data_id`` int64, ``image`` Image, strings otherwise. Two EN rows,
two ZH rows; 64x64 Pillow images. ``ANSWERS`` is what the scripted test model says per ``data_id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "m-a-p/SimpleVQA"

# data_id -> (language, question, answer, vqa_category, scripted response)
ITEMS: dict[int, tuple[str, str, str, str, str]] = {
    0: ("ZH", "图中建筑位于哪个城市？", "北京", "地理", "北京"),  # lenient EM right
    1: ("ZH", "图中动物叫什么？", "大熊猫", "自然", "熊猫"),  # lenient EM wrong
    1012: ("EN", "Which city is this landmark in?", "Paris", "geography", " paris "),  # lenient EM right
    1013: ("EN", "Who painted this?", "Vincent van Gogh", "art", "I don't know."),  # lenient EM wrong
}
ANSWERS = {str(doc_id): item[4] for doc_id, item in ITEMS.items()}


def _png(shade: int) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 54, 54), fill=(shade, 90, 160))
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    columns = ["image_description", "language", "question", "answer", "original_category", "source"]
    columns += ["atomic_question", "atomic_fact", "vqa_category"]
    return datasets.Features(
        {"data_id": datasets.Value("int64"), "image": datasets.Image(), **{c: text for c in columns}}
    )


def rows() -> list[dict[str, Any]]:
    """One row per ``ITEMS`` entry."""
    out = []
    for n, (doc_id, (language, question, answer, category, _r)) in enumerate(ITEMS.items()):
        out.append(
            {
                "data_id": doc_id,
                "image": _png(50 * n),
                "image_description": f"picture {doc_id}",
                "language": language,
                "question": question,
                "answer": answer,
                "original_category": category,
                "source": "fixture",
                "atomic_question": question,
                "atomic_fact": answer,
                "vqa_category": category,
            }
        )
    return out


def build(mirror: Path) -> None:
    """Write the fixture under ``mirror``."""
    write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})
