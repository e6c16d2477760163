"""Answer filters: the shared extraction behind boxed, mcq_letter, yes_no; old filters unchanged."""

from __future__ import annotations

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.api.registry import FILTERS


def run(name: str, value: str, doc: dict | None = None, **kwargs: object) -> str:
    return FILTERS.get(name)(value, doc=doc, **kwargs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("so \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("\\boxed{1} then \\boxed{2}", "2"),
        ("\\boxed{{a}}", "{a}"),
        ("none here", ""),
        ("\\boxed{unclosed", ""),
    ],
)
def test_boxed(value: str, expected: str) -> None:
    assert run("boxed", value) == expected


def test_boxed_fallback() -> None:
    assert run("boxed", "none", fallback="?") == "?"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("The answer is (b).", "B"), ("I'd say banana", ""), ("A cat", ""), ("nothing", ""), ("<answer>D</answer>", "D")],
)
def test_mcq_letter_without_choices(value: str, expected: str) -> None:
    assert run("mcq_letter", value, letters="ABCD") == expected


def test_mcq_letter_reads_choices_from_the_doc() -> None:
    doc = {"options": ["pear", "banana", "cherry"], "options_str": "['pear', 'banana', 'cherry']"}
    assert run("mcq_letter", "I'd say banana", doc, choices_key="options") == "B"
    assert run("mcq_letter", "I'd say banana", doc, choices_key="options_str") == "B"
    assert run("mcq_letter", "D", doc, choices_key="options") == ""  # only 3 options


def test_mcq_letter_bad_choices_key() -> None:
    with pytest.raises(SampleError, match="choices_key"):
        run("mcq_letter", "B", {"q": 1}, choices_key="options")
    with pytest.raises(SampleError, match="not a list"):
        run("mcq_letter", "B", {"options": "pear, banana("}, choices_key="options")


@pytest.mark.parametrize(("value", "expected"), [("Yes, it is.", "yes"), ("There is no dog", "no"), ("unsure", "")])
def test_yes_no(value: str, expected: str) -> None:
    assert run("yes_no", value) == expected


def test_existing_filters_keep_their_behaviour() -> None:
    assert run("answer_tag", "x <answer> 1 </answer> <answer>2</answer>") == "2"
    assert run("answer_tag", "no tag") == ""
    assert run("strip_think", "<think>hmm</think> B") == "B"
    assert run("strip_think", "thinking... </think> C") == "C"
    assert run("regex", "Answer: 42.", regex_pattern=r"Answer: (\d+)") == "42"
    assert run("regex", "none", regex_pattern=r"(\d+)") == ""
    assert run("lowercase", "AbC") == "abc" and run("uppercase", "aBc") == "ABC" and run("strip", " x ") == "x"
