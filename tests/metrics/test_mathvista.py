"""MathVista's official rule (lupantech/MathVista @ 53d5258, evaluation/extract_answer.py and
calculate_score.py), case by case; expected values worked by hand from the official code."""

from __future__ import annotations

from typing import Any

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.metrics import mathvista as mv

MC = {"pid": "1", "question_type": "multi_choice", "answer_type": "text", "choices": ["3/11", "8/11", "6/11", "3/5"]}
INT = {"pid": "2", "question_type": "free_form", "answer_type": "integer", "choices": None, "precision": None}
FLOAT1 = {"pid": "3", "question_type": "free_form", "answer_type": "float", "choices": None, "precision": 1.0}
FLOAT2 = {"pid": "4", "question_type": "free_form", "answer_type": "float", "choices": None, "precision": 2.0}
LIST = {"pid": "5", "question_type": "free_form", "answer_type": "list", "choices": None, "precision": None}

# (response, doc, rule extraction): extract_answer before its LLM call; None = the LLM is asked
EXTRACT_TABLE: list[tuple[str, dict[str, Any], str | None]] = [
    ("", MC, ""),  # empty -> ""
    ("8/11", MC, "8/11"),  # exactly a choice
    ("8/11 ", MC, None),  # not exactly a choice (no strip in the official check)
    ("B", MC, None),  # a letter is not a choice text: the LLM extracts
    ("14", INT, "14"),
    (" 14\n", INT, "14"),  # int() accepts surrounding whitespace
    ("14.0", INT, None),  # int("14.0") raises: the LLM extracts
    ("The answer is 14.", INT, None),
    ('The answer is "14".', INT, None),  # the quick-extract regex is off in the official runs
    ("1.25", FLOAT1, "1.25"),
    ("2", FLOAT1, "2.0"),  # str(float("2"))
    ("[2007, 2008]", LIST, None),  # lists always go to the LLM
]


@pytest.mark.parametrize(("response", "doc", "expected"), EXTRACT_TABLE)
def test_rule_extraction(response: str, doc: dict[str, Any], expected: str | None) -> None:
    assert mv.rule_extract(response, doc) == expected


# (extraction, doc, normalised): normalize_extracted_answer
NORMALIZE_TABLE: list[tuple[Any, dict[str, Any], str | None]] = [
    ("B", MC, "8/11"),  # letter -> its choice
    (" B ", MC, "8/11"),  # stripped first
    ("(C) 6/11", MC, "6/11"),  # "(X)" letter wins
    ("(c)", MC, "6/11"),  # upper-cased
    ("The answer is (D).", MC, "3/5"),
    ("E", MC, "3/5"),  # no 5th option: edit distances to "E": 3/11=4, 8/11=4, 6/11=4, 3/5=3 -> "3/5"
    ("8/12", MC, "8/11"),  # closest text: 1 edit
    ("", MC, "3/5"),  # empty: closest to "" is the shortest choice, "3/5" (3 edits vs 4)
    ("14", INT, "14"),
    ("14.0", INT, "14"),  # str(int(float(x)))
    ("14.9", INT, "14"),  # int() truncates
    ("fourteen", INT, None),
    ("1.25", FLOAT1, "1.2"),  # round(1.25, 1): 1.25 is exact in binary, banker's rounding -> 1.2
    ("1.35", FLOAT1, "1.4"),  # 1.35 is stored as 1.350000000000000088...: rounds up
    ("0.6", FLOAT1, "0.6"),
    ("1.456", FLOAT2, "1.46"),
    ("3", FLOAT2, "3.0"),  # str(round(3.0, 2)) = "3.0": a "3.00" answer would not match
    ("abc", FLOAT1, None),
    ("[2007, 2008]", LIST, "[2007, 2008]"),  # str(x)
]


@pytest.mark.parametrize(("extraction", "doc", "expected"), NORMALIZE_TABLE)
def test_normalisation(extraction: Any, doc: dict[str, Any], expected: str | None) -> None:
    assert mv.normalize_extracted_answer(extraction, doc) == expected


def test_float_precision_stored_as_float64_is_accepted() -> None:
    """lmms-eval 0.7 calls round(x, 1.0) with the parquet's float precision: TypeError -> always wrong."""
    with pytest.raises(TypeError):
        round(1.2, 1.0)  # type: ignore[call-overload]
    assert mv.mathvista_acc_rule("1.2", "1.2", doc=FLOAT1) == 1.0
    assert mv.mathvista_acc_rule("1.23", "1.23", doc=FLOAT2) == 1.0


# (response, doc, answer, acc_rule, rule_decision, parse_rate)
METRIC_TABLE: list[tuple[str, dict[str, Any], str, float, float | None, float]] = [
    ("8/11", MC, "8/11", 1.0, 1.0, 1.0),
    ("6/11", MC, "8/11", 0.0, 0.0, 1.0),
    ("B", MC, "8/11", 0.0, None, 0.0),  # rules cannot: the judge (LLM) decides in mathvista_acc
    ("", MC, "3/5", 1.0, 1.0, 0.0),  # "" -> closest "3/5": officially right; not counted as parsed
    ("14", INT, "14", 1.0, 1.0, 1.0),
    ("15", INT, "14", 0.0, 0.0, 1.0),
    ("It is 14", INT, "14", 0.0, None, 0.0),
    ("1.25", FLOAT1, "1.2", 1.0, 1.0, 1.0),
    ("[2007, 2008]", LIST, "[2007, 2008]", 0.0, None, 0.0),
]


@pytest.mark.parametrize(("response", "doc", "answer", "acc", "decision", "parsed"), METRIC_TABLE)
def test_metrics(
    response: str, doc: dict[str, Any], answer: str, acc: float, decision: float | None, parsed: float
) -> None:
    assert mv.mathvista_acc_rule(response, answer, doc=doc) == acc
    assert mv.mathvista_rule_decision(response, answer, doc=doc) == decision
    assert mv.mathvista_parse_rate(response, answer, doc=doc) == parsed


@pytest.mark.parametrize(("response", "doc", "answer", "acc", "decision", "parsed"), METRIC_TABLE)
def test_score_with_equals_the_rule_where_the_rules_extract(
    response: str, doc: dict[str, Any], answer: str, acc: float, decision: float | None, parsed: float
) -> None:
    """The judge scores rule-decided samples with mathvista_acc_extracted on the response itself."""
    if decision is not None:
        assert mv.mathvista_acc_extracted(response, answer, doc=doc) == decision


@pytest.mark.parametrize(
    ("extracted", "doc", "answer", "expected"),
    [
        ("B", MC, "8/11", 1.0),
        ("(B) 8/11", MC, "8/11", 1.0),
        ("[2007, 2008]", LIST, "[2007, 2008]", 1.0),
        ("2007, 2008", LIST, "[2007, 2008]", 0.0),
        ("14", INT, "14", 1.0),
        ("", INT, "14", 0.0),
    ],
)
def test_llm_extracted_answer_is_normalised(extracted: str, doc: dict[str, Any], answer: str, expected: float) -> None:
    assert mv.mathvista_acc_extracted(extracted, answer, doc=doc) == expected


def test_missing_answer_or_columns_is_one_sample_error() -> None:
    with pytest.raises(SampleError, match="no answer.*mathvista_test"):
        mv.mathvista_acc_rule("14", "", doc={**INT, "answer": ""})
    with pytest.raises(SampleError, match="'question_type'"):
        mv.mathvista_acc_rule("14", "14", doc={"pid": "9"})
