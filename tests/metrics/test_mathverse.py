"""MathVerse's quick match, the judge-free rule variant, and the acceptance of judge replies.

Official behaviour: ZrrSkywalker/MathVerse @ 937b090, evaluation/score_answer_s2.py
(``match_answer``: ``--quick_match`` is ``inst['answer'] == inst['extraction']``; a judgement is
``reply.replace("Judgement:", "").strip()`` and must be "0" or "1") and extract_answer_s1.py
(``extraction.replace('Extracted Answer: ', '').strip()``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.judge.parsing import VerdictError, parse_binary, parse_extracted
from lmms_eval.metrics.mathverse import mathverse_acc_rule, mathverse_parse_rate, mathverse_quick_match
from lmms_eval.tasks.yaml_loader import load_yaml_with_includes

TASK_DIR = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "mathverse"
MC = {"question_type": "multi-choice", "sample_index": "1"}
FF = {"question_type": "free-form", "sample_index": "2"}

QUICK = [
    # (extraction, answer, expected): exact string equality after the extraction's strip()
    ("D", "D", 1.0),
    (" D \n", "D", 1.0),
    ("d", "D", 0.0),  # case matters
    ("(D)", "D", 0.0),
    ("14", "14", 1.0),
    ("14.0", "14", 0.0),  # no numeric comparison in the quick match
    ("14 cm", "14", 0.0),
    ("null", "D", 0.0),  # the LLM's "no answer" extraction
    ("", "14", 0.0),
]


@pytest.mark.parametrize(("extraction", "answer", "expected"), QUICK)
def test_quick_match(extraction: str, answer: str, expected: float) -> None:
    assert mathverse_quick_match(extraction, answer) == expected


RULE = [
    # (response, answer, doc, correct, parsed)
    ("D", "D", MC, 1.0, 1.0),
    ("The answer is D.", "D", MC, 1.0, 1.0),
    ("(B)", "D", MC, 0.0, 1.0),
    ("<think>B is wrong</think><answer>D</answer>", "D", MC, 1.0, 1.0),
    ("\\boxed{D}", "D", MC, 1.0, 1.0),
    ("I cannot determine it.", "D", MC, 0.0, 0.0),  # no option letter
    ("Either A or B", "D", MC, 0.0, 0.0),  # two letters: no answer
    ("14", "14", FF, 1.0, 1.0),
    ("so L is \\boxed{14}", "14", FF, 1.0, 1.0),
    ("<answer>14.0</answer>", "14", FF, 1.0, 1.0),  # math-verify: numeric equality
    ("\\frac{1}{2}", "0.5", FF, 1.0, 1.0),
    ("15", "14", FF, 0.0, 1.0),
    ("", "14", FF, 0.0, 0.0),
    ("<answer> </answer>", "14", FF, 0.0, 0.0),  # an empty final answer
    ("<answer>y = 2x + 1</answer>", "y=2x+1", FF, 1.0, 1.0),
    # undelimited text is read by math-verify as plain text, which takes a number, not the equation
    ("y = 2x + 1", "y=2x+1", FF, 0.0, 1.0),
]


@pytest.mark.parametrize(("response", "answer", "doc", "correct", "parsed"), RULE)
def test_rule_variant(response: str, answer: str, doc: dict, correct: float, parsed: float) -> None:
    assert mathverse_acc_rule(response, answer, doc=doc) == correct
    assert mathverse_parse_rate(response, answer, doc=doc) == parsed


def test_rule_variant_needs_the_question_type() -> None:
    with pytest.raises(SampleError, match="question_type"):
        mathverse_acc_rule("D", "D", doc={"sample_index": "9"})


def _blocks() -> list[dict]:
    return load_yaml_with_includes(str(TASK_DIR / "mathverse_testmini.yaml"))["judge"]


@pytest.mark.parametrize(
    ("reply", "correct"),
    [("1", True), ("0", False), (" 1 \n", True), ("Judgement: 1", True), ("Judgement:0", False)],
)
def test_scoring_block_accepts_the_official_judgements(reply: str, correct: bool) -> None:
    score = _blocks()[1]
    assert score["answer_from"] == _blocks()[0]["metric"]
    assert parse_binary(reply, score["verdict_pattern"], score["labels"]) is correct


@pytest.mark.parametrize("reply", ["1.", "Judgement: 1 (consistent)", "yes", "10", "", "Verdict: correct"])
def test_scoring_block_refuses_other_replies(reply: str) -> None:
    # the official script asks again until it gets 0 or 1; here such a reply is a judge_error
    score = _blocks()[1]
    with pytest.raises(VerdictError):
        parse_binary(reply, score["verdict_pattern"], score["labels"])


@pytest.mark.parametrize(
    ("reply", "extraction"),
    [
        ("22.3", "22.3"),
        ("Extracted Answer: D", "D"),
        ("Extracted answer: f(x) = -x^2 - 2x + 1", "f(x) = -x^2 - 2x + 1"),
    ],
)
def test_extraction_replies(reply: str, extraction: str) -> None:
    assert parse_extracted(reply) == extraction


def test_multi_line_extraction_is_a_judge_error_here() -> None:
    # the official demo 3 extracts "Domain: ...\nRange: ..." (two lines, kept whole officially); the
    # shared extract parser refuses a multi-line reply without an "Extracted answer:" tag
    with pytest.raises(VerdictError):
        parse_extracted("Domain: \\((-3, 3]\\)\nRange: \\((-4, 1]\\)")


def test_templates_hold_the_official_text() -> None:
    extract = (TASK_DIR / "extract_prompt.jinja").read_text()
    assert "5.\nModel response: 'Given that AB = 17.6 meters, we can now substitute into the equation:\n\n" in extract
    assert "d = 17.6 / cos(38\u00b0)" in extract
    assert "Extracted Answer: Domain: \\((-3, 3]\\)\nRange: \\((-4, 1]\\)" in extract  # "\\(" in Python is "\("
    score = (TASK_DIR / "score_prompt.jinja").read_text()
    assert "[Model_answer] : Extracted Answer: \\((-2, 1)\\)\nJudgement: 0" in score
    assert "A. \\frac{x^2}{81} + \\frac{y^2}{9} = 1 B. Can not determine.\n\n[Standard Answer]: A" in score
    assert score.rstrip().endswith("[Model_answer] : {{ prediction }}\nJudgement:")
