"""Fixture: a hub-shaped copy of ``AI4Math/MathVista`` (default config, ``testmini`` and ``test``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``mathvista``):
``pid, question, image`` (a path string), ``decoded_image`` (``Image``), ``choices``
(``list<string>``, null for free-form), ``unit``, ``precision`` (**float64**, ``1.0``/``2.0`` for
float answers, null otherwise), ``answer, question_type, answer_type``, ``metadata`` (struct with
``img_height``/``img_width`` int64 and ``skills`` list<string>) and ``query``. Images are 64x64
Pillow drawings. ``ANSWERS`` is what the scripted test model says per ``pid``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import image_cell, write_hub_dataset

REPO_ID = "AI4Math/MathVista"

MC_HINT = "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end.\n"
_INT_VALUES = "e.g., 1, 2, 3, at the end.\n"
INT_HINT = f"Hint: Please answer the question requiring an integer answer and provide the final value, {_INT_VALUES}"
FLOAT1_HINT = (
    "Hint: Please answer the question requiring a floating-point number with one decimal place and provide the "
    "final value, e.g., 1.2, 1.3, 1.4, at the end.\n"
)
LIST_HINT = (
    "Hint: Please answer the question requiring a Python list as an answer and provide the final list, "
    "e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.\n"
)

# pid -> the scripted model's answer (hand-worked scores in test_mathvista.py)
ANSWERS: dict[str, str] = {
    "1": "8/11",  # MC, exactly a choice: rules extract it; right
    "2": "B",  # MC letter, not a choice text: rules cannot extract (the LLM would)
    "3": "14",  # integer, int() parses: right
    "4": "1.25",  # float, precision 1.0: round(1.25, 1) = 1.2: right (lmms-eval 0.7 scores it wrong)
    "5": "15",  # integer: wrong
    "6": "The answer is 7 apples.",  # integer, prose: rules cannot extract
    "7": "",  # MC, empty: extraction "" -> Levenshtein-closest choice "No" (official, 2 edits vs 3): right
    "8": "<think>0.5 + 0.7</think><answer>1.2</answer>",  # float: raw unparsed; reasoning variant: right
    "t1": "6",  # test split: no answer; the rules extract "6"
    "t2": "The right one is bigger.",  # test split: left to the organisers' LLM extraction
}


def _png(color: tuple[int, int, int]) -> dict[str, Any]:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((16, 16, 48, 48), fill=color)
    return image_cell(image)


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    metadata = {
        "category": text,
        "context": text,
        "grade": text,
        "img_height": datasets.Value("int64"),
        "img_width": datasets.Value("int64"),
        "language": text,
        "skills": datasets.List(text),
        "source": text,
        "split": text,
        "task": text,
    }
    return datasets.Features(
        {
            "pid": text,
            "question": text,
            "image": text,
            "decoded_image": datasets.Image(),
            "choices": datasets.List(text),
            "unit": text,
            "precision": datasets.Value("float64"),
            "answer": text,
            "question_type": text,
            "answer_type": text,
            "metadata": metadata,
            "query": text,
        }
    )


def _row(
    pid: str,
    question: str,
    answer: str | None,
    answer_type: str,
    *,
    choices: list[str] | None = None,
    precision: float | None = None,
    task: str = "figure question answering",
    skills: tuple[str, ...] = ("arithmetic reasoning",),
    language: str = "english",
    split: str = "testmini",
) -> dict[str, Any]:
    if choices:
        options = "\n".join(f"({chr(ord('A') + i)}) {c}" for i, c in enumerate(choices))
        query = f"{MC_HINT}Question: {question}\nChoices:\n{options}"
    else:
        hint = {"integer": INT_HINT, "float": FLOAT1_HINT, "list": LIST_HINT}[answer_type]
        query = f"{hint}Question: {question}"
    return {
        "pid": pid,
        "question": question,
        "image": f"images/{pid}.jpg",
        "decoded_image": _png((37 * len(pid + question) % 255, 90, 160)),
        "choices": choices,
        "unit": None,
        "precision": precision,
        "answer": answer,
        "question_type": "multi_choice" if choices else "free_form",
        "answer_type": answer_type,
        "metadata": {
            "category": "math-targeted-vqa" if choices else "general-vqa",
            "context": "bar chart",
            "grade": "high school",
            "img_height": 64,
            "img_width": 64,
            "language": language,
            "skills": list(skills),
            "source": "FixtureQA",
            "split": split,
            "task": task,
        },
        "query": query,
    }


def testmini_rows() -> list[dict[str, Any]]:
    """Eight problems: 3 multi-choice (text), 3 integer, 2 float (precision 1.0)."""
    return [
        _row("1", "What fraction of the shape is blue?", "8/11", "text", choices=["3/11", "8/11", "6/11", "3/5"]),
        _row(
            "2",
            "Which bar is tallest?",
            "red",
            "text",
            choices=["red", "blue"],
            task="geometry problem solving",
            skills=("geometry reasoning", "arithmetic reasoning"),
        ),
        _row("3", "Which number is missing?", "14", "integer", task="math word problem"),
        _row("4", "What is the length?", "1.2", "float", precision=1.0, skills=("statistical reasoning",)),
        _row("5", "How many cubes?", "14", "integer", language="chinese"),
        _row("6", "How many apples?", "7", "integer", task="math word problem"),
        _row("7", "Is the square red?", "No", "text", choices=["Yes", "No"], skills=()),
        _row("8", "What is the sum?", "1.2", "float", precision=1.0, skills=("algebraic reasoning",)),
    ]


def test_rows() -> list[dict[str, Any]]:
    """Two test problems (answers withheld on the hub: empty here)."""
    return [
        _row("t1", "How many sides?", "", "integer", split="test"),
        _row("t2", "Which is bigger?", "", "text", choices=["left", "right"], split="test"),
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    splits = {"testmini": testmini_rows(), "test": test_rows()}
    return write_hub_dataset(mirror, REPO_ID, {"default": splits}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
