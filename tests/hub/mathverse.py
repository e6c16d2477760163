"""Fixture: a hub-shaped copy of ``AI4Math/MathVerse`` (configs ``testmini`` and ``testmini_text_only``).

Columns as the hub card's ``dataset_info`` begins them (``sample_index``, ``problem_index``,
``problem_version``, ``question``, ``answer``, ``question_type`` strings, ``image`` an Image,
``metadata`` a struct) and as the official files hold them (``metadata`` = ``split, source,
subject, subfield`` strings; ``query_wo``, ``query_cot`` strings), plus ``question_for_eval``
(string) that the repository's "Add question_for_eval" commit added. The text-only config's
``image`` is the empty string here, as in ``data/testmini_text_only.json`` (its hub type was not
seen). Two problems x five versions, and both problems in Text Only; images are 64x64 drawings.
``ANSWERS`` is what the scripted test model says per ``sample_index``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "AI4Math/MathVerse"
VERSIONS = ("Text Dominant", "Text Lite", "Vision Intensive", "Vision Dominant", "Vision Only")

MC_WO = "Please directly answer the question and provide the correct option letter, e.g., A, B, C, D.\nQuestion: "
MC_COT = (
    "Please first conduct reasoning, and then answer the question and provide the correct option letter, "
    "e.g., A, B, C, D, at the end.\nQuestion: "
)
FF_WO = "Please directly answer the question and provide the final value, e.g., 1, 2.5, 300.\nQuestion: "
FF_COT = (
    "Please first conduct reasoning, and then answer the question and provide the final value, "
    "e.g., 1, 2.5, 300, at the end.\nQuestion: "
)
VO_WO = (
    "According to the question shown in the image, please directly answer the question and provide the "
    "final value, e.g., 1, 2.5, 300."
)

LONG = " ".join(f"w{i}" for i in range(40)) + " so L is \\boxed{14}"  # 44 words; the last 30 go to the LLM

# sample_index -> the scripted model's response (hand-worked scores in test_mathverse.py)
ANSWERS: dict[str, str] = {
    # problem 1: multi-choice, answer "D" (Plane Geometry / Angle); sample_index 1..5 = the versions
    "1": "D",  # the answer exactly: quick match, no extraction call
    "2": "The answer is D.",  # rule: letter D
    "3": "B",  # wrong
    "4": "I cannot determine it.",  # no letter: unparsed
    "5": "<think>B is wrong</think><answer>D</answer>",  # <answer> read by the rule: D
    # problem 2: free-form, answer "14" (Solid Geometry / Length); sample_index 6..10
    "6": "14",
    "7": LONG,  # boxed 14
    "8": "15",  # wrong
    "9": "",  # empty: unparsed
    "10": "<think>the diagonal</think><answer>14</answer>",
    # Text Only
    "11": "D",
    "12": "12",  # wrong
}


def _png(shade: int) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).polygon([(8, 56), (56, 56), (32, 8)], outline=(shade, 40, 90))
    return image_cell(image)


def features(text_only: bool = False) -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "sample_index": text,
            "problem_index": text,
            "problem_version": text,
            "question": text,
            "image": text if text_only else datasets.Image(),
            "answer": text,
            "question_type": text,
            "metadata": {"split": text, "source": text, "subject": text, "subfield": text},
            "query_wo": text,
            "query_cot": text,
            "question_for_eval": text,
        }
    )


def _problem1(version: str) -> tuple[str, str]:
    choices = "\nChoices:\nA:40°\nB:60°\nC:120°\nD:140°"
    if version == "Vision Only":
        return "", VO_WO.replace("final value, e.g., 1, 2.5, 300.", "correct option letter, e.g., A, B, C, D.")
    question = f"({version}) DE parallel BC, angle A = 80.0, angle B = 60.0, then the size of angle CED is (){choices}"
    return question, question


def _problem2(version: str) -> tuple[str, str]:
    if version == "Vision Only":
        return "", VO_WO
    question = f"({version}) A can has height 13 cm and radius 3 cm. Find L, the longest straw that fits."
    return question, question


def _row(index: int, problem: int, version: str, text_only: bool = False) -> dict[str, Any]:
    question, shown = (_problem1 if problem == 1 else _problem2)(version)
    multi = problem == 1
    wo, cot = (MC_WO, MC_COT) if multi else (FF_WO, FF_COT)
    query_wo = shown if version == "Vision Only" else wo + question
    query_cot = (
        query_wo.replace("directly answer", "first conduct reasoning, and then answer")
        if version == "Vision Only"
        else cot + question
    )
    return {
        "sample_index": str(index),
        "problem_index": str(problem),
        "problem_version": version,
        "question": question,
        "image": "" if text_only else _png(20 * index),
        "answer": "D" if multi else "14",
        "question_type": "multi-choice" if multi else "free-form",
        "metadata": {
            "split": "testmini",
            "source": "GeoQA" if multi else "Geo3D_collected",
            "subject": "Plane Geometry" if multi else "Solid Geometry",
            "subfield": "Angle" if multi else "Length",
        },
        "query_wo": query_wo,
        "query_cot": query_cot,
        "question_for_eval": question or shown,
    }


def testmini_rows() -> list[dict[str, Any]]:
    """Problem 1 (sample_index 1-5) and problem 2 (6-10), one row per version."""
    return [_row(5 * (p - 1) + i + 1, p, v) for p in (1, 2) for i, v in enumerate(VERSIONS)]


def text_only_rows() -> list[dict[str, Any]]:
    """Both problems as Text Only (sample_index 11, 12), no image."""
    return [_row(10 + p, p, "Text Only", text_only=True) for p in (1, 2)]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    splits = {"testmini": {"testmini": testmini_rows()}, "testmini_text_only": {"testmini_text_only": text_only_rows()}}
    feats = {"testmini": features(), "testmini_text_only": features(text_only=True)}
    return write_hub_dataset(mirror, REPO_ID, splits, feats)


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
