"""Fixture: a hub-shaped copy of ``lmms-lab/MMBench`` (configs ``en`` and ``cn``; splits ``dev``, ``test``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``mmbench``):
``index`` (STRING in ``en``, int64 in ``cn``), ``question, hint, answer, A, B, C, D, category``,
``image`` (``Image``), ``source, L2-category, comment, split`` (strings). As in the hub copy and
the official TSVs, every rotation of a question is its own row: rotation ``i`` has index
``main + i * 1e6`` and its options shifted as VLMEvalKit's ``CIRCULAR`` tool shifts them
(:func:`rotate`). Missing options are null, or the text ``"nan"`` (both seen in lmms-eval's
handling of the hub rows). ``ANSWERS`` is what the scripted model says per (task, index).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "lmms-lab/MMBench"
LETTERS = "ABCD"
OFFSET = 1_000_000


def rotate(options: list[str | None], answer: str, shift: int) -> tuple[list[str | None], str]:
    """Rotation ``shift`` of a question with ``k`` options (VLMEvalKit ``vlmeval/tools.py`` CIRCULAR):
    the new option at letter ``j`` is the old option ``(j + shift) % k``, so the answer's letter
    moves from position ``p`` to ``(p - shift) % k``; absent options stay absent at the end."""
    present = [o for o in options if o is not None and o != "nan"]
    k = len(present)
    moved = [present[(j + shift) % k] for j in range(k)]
    tail = options[k:]
    return [*moved, *tail], LETTERS[(LETTERS.index(answer) - shift) % k]


def png(seed: int) -> dict[str, Any]:
    """A small PNG cell (``{"bytes", "path"}``) of one colour."""
    from PIL import Image

    return image_cell(Image.new("RGB", (24 + seed, 16), (seed * 37 % 255, 90, 160)))


def features(index_type: str) -> Any:
    import datasets

    text = datasets.Value("string")
    columns: dict[str, Any] = {"index": datasets.Value(index_type)}
    for name in ("question", "hint", "answer", "A", "B", "C", "D", "category"):
        columns[name] = text
    columns["image"] = datasets.Image()
    for name in ("source", "L2-category", "comment", "split"):
        columns[name] = text
    return datasets.Features(columns)


def question_rows(
    main: int,
    question: str,
    options: list[str | None],
    answer: str | None,
    category: str,
    l2: str,
    split: str,
    hint: str | None = None,
) -> list[dict[str, Any]]:
    """Every rotation of one question (rotation 0 is the main row), in rotation order."""
    k = len([o for o in options if o is not None and o != "nan"])
    rows = []
    for shift in range(k):
        if answer is None:  # test split: answers withheld, the options rotate all the same
            rotated, letter = rotate(options, "A", shift)[0], None
        else:
            rotated, letter = rotate(options, answer, shift)
        row: dict[str, Any] = {
            "index": main + shift * OFFSET,
            "question": question,
            "hint": hint,
            "answer": letter,
            "category": category,
            "image": png(main),
            "source": "fixture",
            "L2-category": l2,
            "comment": None,
            "split": split,
        }
        row.update(dict(zip(LETTERS, rotated)))
        rows.append(row)
    return rows


STYLE = ("image_style", "coarse_perception")
OCR = ("ocr", "finegrained_perception (instance-level)")
FUTURE = ("future_prediction", "logic_reasoning")


def en_dev_rows() -> list[dict[str, Any]]:
    """Five questions, 15 rotation rows (hand-worked scores in test_mmbench.py)."""
    groups = [
        question_rows(
            1, "Which style is this image?", ["Oil painting", "Sketch", "Digital art", "Photo"], "A", *STYLE, "dev"
        ),
        question_rows(2, "What is the weather?", ["Sunny", "Rainy", "Snowy", "Foggy"], "B", *STYLE, "dev"),
        question_rows(3, "What is the word in the image?", ["STOP", "GO", "nan", None], "A", *OCR, "dev"),
        question_rows(
            4,
            "What will happen next?",
            ["The ball falls", "The ball rises", "The ball stays", None],
            "A",
            *FUTURE,
            "dev",
            hint="The ball is dropped.",
        ),
        question_rows(5, "Which one is not an animal?", ["cat", "car", None, None], "B", *FUTURE, "dev"),
    ]
    return sorted((row for group in groups for row in group), key=lambda r: int(r["index"]))


def cn_dev_rows() -> list[dict[str, Any]]:
    """Two Chinese questions (the judge prompt is then build_prompt_cn)."""
    groups = [
        question_rows(10, "图中的动物是什么", ["猫", "狗", None, None], "A", *STYLE, "dev"),
        question_rows(11, "图片的风格是什么", ["油画", "素描", "数字艺术", "照片"], "D", *STYLE, "dev"),
    ]
    return sorted((row for group in groups for row in group), key=lambda r: int(r["index"]))


def en_test_rows() -> list[dict[str, Any]]:
    """One test question (3 options, answers withheld) with a newline in its hint."""
    rows = question_rows(
        20, "Which season is it?", ["Spring", "Summer", "Winter", None], None, *STYLE, "test", "Line one\nline two"
    )
    return sorted(rows, key=lambda r: int(r["index"]))


def cn_test_rows() -> list[dict[str, Any]]:
    return sorted(
        question_rows(30, "这是哪个季节", ["春", "夏", None, None], None, *STYLE, "test"), key=lambda r: r["index"]
    )


# (task, index) -> the scripted model's answer; worked by hand in test_mmbench.py
ANSWERS: dict[tuple[str, str], str] = {
    # Q1 (answer A; rotation letters A, D, C, B): all right by rule
    ("mmbench_en_dev", "1"): "A",
    ("mmbench_en_dev", "1000001"): "The answer is D.",
    ("mmbench_en_dev", "2000001"): "(C)",
    ("mmbench_en_dev", "3000001"): "B. Oil painting",
    # Q2 (answer B; rotation letters B, A, D, C): right in 3 of 4 rotations -> the question scores 0
    ("mmbench_en_dev", "2"): "B",
    ("mmbench_en_dev", "1000002"): "A",
    ("mmbench_en_dev", "2000002"): "D",
    ("mmbench_en_dev", "3000002"): "A",
    # Q3 (two options STOP/GO; letters A, B): matched by option text
    ("mmbench_en_dev", "3"): "stop sign",
    ("mmbench_en_dev", "1000003"): "Stop.",
    # Q4 (three options; letters A, C, B): the third rotation is unmatched -> the judge decides
    ("mmbench_en_dev", "4"): "A",
    ("mmbench_en_dev", "1000004"): "C",
    ("mmbench_en_dev", "2000004"): "I am not sure about this one",
    # Q5 (cat/car, answer B; letters B, A): reasoning-wrapped answers
    ("mmbench_en_dev", "5"): "<think>A cat is an animal, so maybe A?</think>The answer is B",
    ("mmbench_en_dev", "1000005"): "<think>Is it B? No.</think><answer>A</answer>",
    # CN Q10 (猫/狗, answer A; letters A, B): the second rotation goes to the judge
    ("mmbench_cn_dev", "10"): "A",
    ("mmbench_cn_dev", "1000010"): "我不确定",
    # CN Q11 (answer D; letters D, C, B, A): all right
    ("mmbench_cn_dev", "11"): "D",
    ("mmbench_cn_dev", "1000011"): "C",
    ("mmbench_cn_dev", "2000011"): "B",
    ("mmbench_cn_dev", "3000011"): "A",
    # test: predictions only
    ("mmbench_en_test", "20"): "B",
    ("mmbench_en_test", "1000020"): "Summer\tor spring",
    ("mmbench_en_test", "2000020"): "no idea",
    ("mmbench_cn_test", "30"): "A",
    ("mmbench_cn_test", "1000030"): "B",
}


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    en_test = en_test_rows()
    for row in en_test:
        row["index"] = str(row["index"])
    en_dev = en_dev_rows()
    for row in en_dev:
        row["index"] = str(row["index"])
    splits = {
        "en": {"dev": en_dev, "test": en_test},
        "cn": {"dev": cn_dev_rows(), "test": cn_test_rows()},
    }
    return write_hub_dataset(mirror, REPO_ID, splits, {"en": features("string"), "cn": features("int64")})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
