"""MMK12's official answer extraction, its math-verify rule and its judge-reply acceptance.

Expected values follow MM-Eureka ``eval/mmk12/extract_calculate.py`` (azaj01/MM-EUREKA @ 17132c2):
``re.search(r"<answer>(.*?)</answer>", response, re.DOTALL)`` (the FIRST tag, stripped), else the
last match of a balanced-brace ``\\boxed{...}`` regex (stripped), else the response unchanged; a
judge reply counts when ``reply.strip().lower()`` is exactly "yes" or "no".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lmms_eval.judge.parsing import VerdictError, parse_binary
from lmms_eval.metrics.mmk12 import balanced_boxed_contents, mmk12_math_verify, official_answer
from lmms_eval.tasks.yaml_loader import load_yaml_with_includes

TASK_YAML = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "mmk12" / "mmk12_test.yaml"

EXTRACTION = [
    # (response, extracted answer, found by a tag or a box)
    ("<answer> The answer is $\\boxed{2}$ </answer>", "The answer is $\\boxed{2}$", True),  # tag wins, box kept
    ("<answer>A</answer> then <answer>B</answer>", "A", True),  # the FIRST tag (re.search)
    ("<answer>\nC\n</answer>", "C", True),  # across lines, stripped
    ("<ANSWER>C</ANSWER>", "<ANSWER>C</ANSWER>", False),  # tags are case-sensitive
    ("<answer>unclosed \\boxed{D}", "D", True),  # no closed tag: the box
    ("\\boxed{A} first, finally \\boxed{ B }", "B", True),  # the LAST box, stripped
    ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}", True),  # nested braces
    ("\\boxed{x \\boxed{y}} done", "x \\boxed{y}", True),  # an outer box swallows an inner one
    ("\\boxed{open \\boxed{C}", "C", True),  # an unclosed box is skipped, the closed one inside found
    ("\\boxed{}", "", True),  # an empty box is an (empty) answer
    ("The answer is C.", "The answer is C.", False),  # nothing delimited: the whole response
    ("  spaced  ", "  spaced  ", False),  # ... unchanged, not stripped
    ("", "", False),
]


@pytest.mark.parametrize(("response", "expected", "found"), EXTRACTION)
def test_official_answer(response: str, expected: str, found: bool) -> None:
    assert official_answer(response) == (expected, found)


def test_balanced_boxed_contents_in_order() -> None:
    assert balanced_boxed_contents("\\boxed{1} and \\boxed{{2}} and \\boxed{3") == ["1", "{2}"]


MATH_VERIFY = [
    # (extracted answer, reference, expected)
    ("B", "B", 1.0),  # a bare letter: read as $B$ (the shared math_verify metric gives 0 here)
    ("A", "B", 0.0),
    ("c", "C", 1.0),  # math-verify compares these symbols case-insensitively
    ("(C)", "C", 1.0),
    ("The answer is $\\boxed{B}$", "B", 1.0),  # a box left inside the <answer> content
    ("\\frac{1}{2}", "0.5", 1.0),
    ("B. 3 cm", "B", 0.0),  # option letter with its text: left to the judge
    ("The answer is C.", "C", 0.0),  # prose: left to the judge
    ("", "A", 0.0),
]


@pytest.mark.parametrize(("answer", "reference", "expected"), MATH_VERIFY)
def test_mmk12_math_verify(answer: str, reference: str, expected: float) -> None:
    assert mmk12_math_verify(answer, reference) == expected


def _judge_blocks() -> list[dict]:
    return load_yaml_with_includes(str(TASK_YAML))["judge"]


@pytest.mark.parametrize(
    ("reply", "correct"),
    [("Yes", True), ("yes", True), ("  YES \n", True), ("No", False), ("no", False)],
)
def test_judge_accepts_exactly_yes_or_no(reply: str, correct: bool) -> None:
    for block in _judge_blocks():
        assert parse_binary(reply, block["verdict_pattern"], block["labels"]) is correct


@pytest.mark.parametrize("reply", ["Yes.", "Yes, it matches.", "The answer is correct", "Verdict: correct", "1", ""])
def test_judge_refuses_what_the_official_script_refuses(reply: str) -> None:
    # the official script retries such replies and finally counts "no"; here: a judge_error
    for block in _judge_blocks():
        with pytest.raises(VerdictError):
            parse_binary(reply, block["verdict_pattern"], block["labels"])
