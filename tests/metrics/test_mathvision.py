"""MATH-Vision's official extraction and matching (mathllm/MATH-V @ a1f5cc3, evaluation/evaluate.py
and evaluation/utils.py), case by case. Expected values are what the official code returns (run
on these inputs with latex2sympy2_extended standing in for latex2sympy2), each explained."""

from __future__ import annotations

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics import mathvision as mvn

# (response, official model_answer)
EXTRACT_TABLE = [
    ("The answer is \\boxed{\\frac{1}{3}}", "\\frac{1}{3}"),  # boxed content
    ("so the answer is 60.", "60"),  # "is <number>" (step 3)
    ("\\boxed{C}", "c"),  # lower-cased by find_math_answer
    ("(B)\nbecause", "b"),  # starts with "(B)\n" (step 2)
    ("The answer is C.", "c"),  # ends with " C." (step 2)
    ("I pick option (D).", "d"),  # ends with " (D)."
    ("(A) A\nok", "a"),
    ("The correct answer is 12 cm. Next", "12cm"),  # flag, cut at ". "; spaces removed, unit kept
    ("Therefore, the answer is \\boxed{12\\text{ cm}}.", "12{cm}"),  # \text dropped, braces stay
    ("\\boxed{5} and then \\boxed{7}", "7"),  # several boxes: the last
    ("\\boxed{\\dfrac{3}{4}}", "\\frac{3}{4}"),  # dfrac -> frac
    ("\\boxed{45^\\circ}", "45"),  # degrees
    ("\\boxed{90^{\\circ}}", "90"),
    ("\\boxed{\\frac12\\sqrt3}", "\\frac{1}{2}\\sqrt{3}"),  # braces added (only because sqrt is there)
    ("\\boxed{3/4}", "\\frac{3}{4}"),  # a/b of integers
    ("\\boxed{.5}", "\\frac{1}{2}"),  # leading "." -> "0.5" -> \frac{1}{2}
    ("\\boxed{50\\%}", "50"),  # percent sign removed
    ("The answer should be 8 km", "8"),  # "km" removed
    ("the answer is $\\sqrt{41}$.", "\\sqrt{41}"),  # dollars removed
    ("\\boxed{x=3}", "3"),  # after "="
    ("\\boxed{\\text{B}}", "b"),
    ("\\boxed{(3,-4)}", "(3,-4)"),
    ("The answer is (c)", "c"),  # "(c)" -> "c" (step 6)
    ("no idea", "noidea"),  # no marker: the whole text, spaces removed
    ("", ""),
]


@pytest.mark.parametrize(("response", "expected"), EXTRACT_TABLE)
def test_extract_answer(response: str, expected: str) -> None:
    assert mvn.extract_answer(response) == expected


# (a, b, official is_equal)
EQUAL_TABLE = [
    ("60", "60.0", True),  # numeric, rounded to 2 decimals
    ("\\frac{1}{3}", "0.33", True),  # round(1/3, 2) = 0.33
    ("1/3", "\\frac{1}{3}", True),
    ("4\\pi", "12.566", True),  # 12.566.. -> 12.57 both
    ("\\sqrt{41}", "6.40", True),  # 6.403 -> 6.4
    ("\\frac{90}{23}", "3.91", True),
    ("45", "45.0", True),
    ("(3,-4)", "(3, -4)", True),  # tuples: element-wise evaluation
    ("(6,7)", "(6.0,7)", False),  # elements print "6" vs "6.0": the official string compare fails
    ("c", "C", True),  # case-insensitive
    ("", "0", False),  # empty side
    ("x+1", "x+1", True),  # same string
    ("x+1", "1+x", False),  # free symbols never evaluate
    ("2", "3", False),
    ("12", "12cm", False),  # a unit left in the answer makes it symbolic
]


@pytest.mark.parametrize(("a", "b", "expected"), EQUAL_TABLE)
def test_is_equal(a: str, b: str, expected: bool) -> None:
    assert mvn.is_equal(a, b) is expected
    assert mvn.is_equal(b, a) is expected


OPTIONS = ["3", "4", "5", "6", "7"]

# (response, answer, options, mathvision_acc, parse_rate)
SCORE_TABLE = [
    ("\\boxed{B}", "B", OPTIONS, 1.0, 1.0),  # the letter
    ("The answer is \\boxed{4}", "B", OPTIONS, 1.0, 1.0),  # the option's text also counts
    ("\\boxed{5}", "B", OPTIONS, 0.0, 1.0),
    ("B", "B", ["A", "B", "C", "D", "E"], 1.0, 1.0),  # a bare letter counts as parsed
    ("\\boxed{\\frac{3}{4}}", "0.75", [], 1.0, 1.0),  # free-form, numeric
    ("\\boxed{\\frac{3}{4}}", "$\\frac{3}{4}$", [], 1.0, 1.0),  # reference LaTeX with dollars
    ("The area is 25\\pi", "25\\pi", [], 0.0, 0.0),  # no marker: "theareais25\\pi" is not 25pi
    ("<think>it is 6</think><answer>6</answer>", "6", [], 0.0, 0.0),  # raw tags are not stripped
    ("", "6", [], 0.0, 0.0),
]


@pytest.mark.parametrize(("response", "answer", "options", "acc", "parsed"), SCORE_TABLE)
def test_metrics(response: str, answer: str, options: list[str], acc: float, parsed: float) -> None:
    doc = {"id": "1", "answer": answer, "options": options}
    assert mvn.mathvision_acc(response, answer, doc=doc) == acc
    assert mvn.mathvision_parse_rate(response, answer, doc=doc) == parsed


def test_bad_answer_letter_is_one_sample_error() -> None:
    with pytest.raises(SampleError, match="'7'.*not a letter of its 5 options"):
        mvn.mathvision_acc("\\boxed{A}", "F", doc={"id": "7", "answer": "F", "options": OPTIONS})
