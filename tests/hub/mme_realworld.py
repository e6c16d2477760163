"""Fixture: hub-shaped copies of the lmms-eval MME-RealWorld datasets (default config, split ``train``).

``yifanzhang114/MME-RealWorld-lite-lmms-eval`` (the rows below), ``yifanzhang114/MME-RealWorld-
Lmms-eval`` (the same rows) and ``yifanzhang114/MME-RealWorld-CN-Lmms-eval`` (two Chinese rows).
Columns and types (``benchmark_schemas.json`` key ``mme_realworld``; lmms-eval 0.7's utils read
them so): ``index`` (int64: unverified on the hub), ``bytes`` (the image as a base64 STRING),
``question``, ``multi-choice options`` (list of strings ``"(A) ..."``), ``answer`` (letter),
``category`` (``<Task>/<Subtask>``) and ``l2-category`` (the official fine Category). Images
are small PNG drawings except one 6000x4000 solid-colour PNG. ``ANSWERS`` is what the scripted
model says per ``index``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from hub.common import encode_image, write_hub_dataset

LITE_ID = "yifanzhang114/MME-RealWorld-lite-lmms-eval"
FULL_ID = "yifanzhang114/MME-RealWorld-Lmms-eval"
CN_ID = "yifanzhang114/MME-RealWorld-CN-Lmms-eval"
BIG_SIZE = (6000, 4000)
BIG_INDEX = 6

# index -> the scripted model's reply (hand-worked scores in test_mme_realworld.py)
ANSWERS: dict[int, str] = {
    0: "D",  # right
    1: "The best answer is B",  # prefix removed -> B: right
    2: "Based on the image, C",  # official: first capital A-E is the B of "Based": wrong; lenient: C right
    3: "red car",  # no capital A-E; inside option (A)'s text: A, right; lenient: unparsed
    4: "",  # unparsed, wrong (the official script would read option A, the answer)
    5: "<think>Bars: A is low, C is highest.</think><answer>C</answer>",  # raw: B of "Bars": wrong
    BIG_INDEX: "B",  # right (the big image)
}


def _png_b64(color: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    if size == (64, 64):
        ImageDraw.Draw(image).rectangle((8, 8, 40, 56), fill=(255, 255, 255))
    return base64.b64encode(encode_image(image)).decode("ascii")


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "index": datasets.Value("int64"),
            "bytes": text,
            "question": text,
            "multi-choice options": datasets.List(text),
            "answer": text,
            "category": text,
            "l2-category": text,
        }
    )


def _row(
    index: int, category: str, l2: str, question: str, options: list[str], answer: str, image: str
) -> dict[str, Any]:
    return {
        "index": index,
        "bytes": image,
        "question": question,
        "multi-choice options": [f"({'ABCDE'[i]}) {o}" for i, o in enumerate(options)],
        "answer": answer,
        "category": category,
        "l2-category": l2,
    }


AD, MO, DT = "Perception/Autonomous_Driving", "Perception/Monitoring", "Reasoning/Diagram and Table"
_NONE = "The image does not feature the object."


def rows() -> list[dict[str, Any]]:
    """Seven rows in three categories (AD: 0, 1; MO: 2, 3, 6; DT: 4, 5)."""
    return [
        _row(
            0,
            AD,
            "Objects_Identify",
            "What is in front of the ego car?",
            ["A truck", "A bus", "A bicycle", "Many cars", _NONE],
            "D",
            _png_b64((80, 80, 80)),
        ),
        _row(
            1,
            AD,
            "Objects_Identify",
            "What is to the left of the ego car?",
            ["A tree", "A pedestrian", "A wall", "A dog", _NONE],
            "B",
            _png_b64((0, 90, 0)),
        ),
        _row(
            2,
            MO,
            "Person/attribute/color",
            "What color is the person's shirt?",
            ["red", "blue", "green", "white", _NONE],
            "C",
            _png_b64((0, 160, 0)),
        ),
        _row(
            3,
            MO,
            "Person/attribute/orientation",
            "Which vehicle is parked by the person?",
            ["The red car", "The blue truck", "The white van", "The black bike", _NONE],
            "A",
            _png_b64((200, 0, 0)),
        ),
        _row(
            4,
            DT,
            "diagram",
            "Which month has the highest value?",
            ["Jan", "Feb", "Mar", "Apr", "The image does not feature the number."],
            "A",
            _png_b64((255, 255, 255)),
        ),
        _row(
            5,
            DT,
            "diagram",
            "Which category has the highest bar?",
            ["Boats", "Cars", "Planes", "Trains", "The image does not feature the number."],
            "C",
            _png_b64((0, 0, 120)),
        ),
        _row(
            BIG_INDEX,
            MO,
            "Vehicle/counting",
            "How many buses are there?",
            ["3", "1", "7", "12", "The image does not feature the buses."],
            "B",
            _png_b64((30, 60, 200), BIG_SIZE),
        ),
    ]


def cn_rows() -> list[dict[str, Any]]:
    """Two Chinese rows (the CN copy has the same columns)."""
    return [
        _row(
            0,
            "Perception/Autonomous_Driving",
            "Objects_Identify",
            "自车前方是什么？",
            ["一辆卡车", "一辆公交车", "许多汽车", "一只狗", "图中没有该物体"],
            "C",
            _png_b64((90, 90, 90)),
        ),
        _row(
            1,
            "Reasoning/Diagram and Table",
            "diagram",
            "哪个月的数值最高？",
            ["一月", "二月", "三月", "四月", "图中没有该数值"],
            "B",
            _png_b64((255, 255, 255)),
        ),
    ]


def build(mirror: Path) -> Path:
    """Write the three fixture datasets under ``mirror``; returns the lite dataset's folder."""
    lite = rows()
    write_hub_dataset(mirror, FULL_ID, {"default": {"train": lite}}, {"default": features()})
    write_hub_dataset(mirror, CN_ID, {"default": {"train": cn_rows()}}, {"default": features()})
    return write_hub_dataset(mirror, LITE_ID, {"default": {"train": lite}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
