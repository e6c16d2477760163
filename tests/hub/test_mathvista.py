"""MathVista on a hub-shaped fixture: loading, the `query` prompt, the official rules, the
breakdowns, the reasoning variant, the LLM-extraction judge path and the submission files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, mathvista
from hub.common import content_text, fixture_mirror, judge_arg, records, run_evaluator


class TableModel(common.TableModel):
    """Answers each document from ``mathvista.ANSWERS`` keyed by pid; keeps the prompts."""

    answers = mathvista.ANSWERS


mirror = fixture_mirror(mathvista.build)


def test_testmini_rules_breakdowns_and_submission(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mathvista_testmini"], TableModel())
    res = results["results"]["mathvista_testmini"]
    # rule-only, per pid: 1 "8/11" right; 2 "B" unparsed 0; 3 "14" right; 4 "1.25" -> round(1.25, 1) = 1.2
    # right; 5 "15" wrong; 6 prose unparsed 0; 7 "" -> closest choice "No" right; 8 <think>.. unparsed 0
    assert res["mathvista_acc_rule,none"] == pytest.approx(4 / 8)
    # parsed (non-empty rule extraction): 1, 3, 4, 5 -> 4/8
    assert res["mathvista_parse_rate,none"] == pytest.approx(4 / 8)
    # multi_choice = pids 1, 2, 7 -> right 1, 7 = 2/3; free_form = 3, 4, 5, 6, 8 -> right 3, 4 = 2/5
    assert res["mathvista_acc_rule,none,question_type=multi_choice"] == pytest.approx(2 / 3)
    assert res["mathvista_acc_rule,none,question_type=free_form"] == pytest.approx(2 / 5)
    # float answers (pids 4, 8): 4 right -> 1/2 (lmms-eval 0.7's round(x, 1.0) scores both wrong)
    assert res["mathvista_acc_rule,none,answer_type=float"] == pytest.approx(1 / 2)
    # skills are multi-label: arithmetic = pids 1, 2, 3, 5, 6 -> right 1, 3 = 2/5; geometry = pid 2 -> 0
    assert res["mathvista_acc_rule,none,skills=arithmetic reasoning"] == pytest.approx(2 / 5)
    assert res["mathvista_acc_rule,none,skills=geometry reasoning"] == pytest.approx(0.0)
    assert res["mathvista_acc_rule,none,language=chinese"] == pytest.approx(0.0)  # pid 5
    assert res["mathvista_acc_rule,none,task=math word problem"] == pytest.approx(1 / 2)  # pids 3 right, 6 not
    assert "mathvista_acc,none" not in res  # the judge metric needs --judge

    # the prompt is the dataset's `query`, post_prompt "" by default
    assert TableModel.prompts["3"].endswith("Question: Which number is missing?")
    submission = json.loads((run_dir / "submissions" / "mathvista_testmini_output.json").read_text())
    assert submission["4"]["extraction"] == "1.25" and submission["4"]["prediction"] == "1.2"
    assert submission["4"]["true_false"] is True and submission["4"]["precision"] == 1
    assert submission["7"]["prediction"] == "No" and submission["7"]["response"] == ""
    assert "extraction" not in submission["2"]  # rules could not extract and no judge ran
    assert submission["1"]["metadata"]["skills"] == ["arithmetic reasoning"]


def test_reasoning_variant_scores_the_answer_tag(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["mathvista_testmini"], TableModel(), prompt_variant="reasoning")
    res = results["results"]["mathvista_testmini"]
    # pid 8 "<think>..</think><answer>1.2</answer>" -> "1.2": right and parsed; the others as before
    assert res["mathvista_acc_rule,none"] == pytest.approx(5 / 8)
    assert res["mathvista_parse_rate,none"] == pytest.approx(5 / 8)
    assert TableModel.prompts["3"].endswith(
        "Question: Which number is missing?\nPlease reason step by step. "
        "Output the thinking process within <think> </think> tags and final "
        "answer within <answer> </answer> tags."
    )


def test_test_split_is_prediction_only(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mathvista_test"], TableModel())
    # t1 "6" parsed (integer); t2 prose not: 1/2
    assert results["results"]["mathvista_test"]["mathvista_parse_rate,none"] == pytest.approx(1 / 2)
    submission = json.loads((run_dir / "submissions" / "mathvista_test_output.json").read_text())
    assert set(submission) == {"t1", "t2"}
    assert submission["t1"]["extraction"] == "6" and "answer" not in submission["t1"]
    assert "extraction" not in submission["t2"]  # left to the organisers' LLM extraction
    assert submission["t2"]["response"] == "The right one is bigger."
    assert submission["t2"]["choices"] == ["left", "right"] and submission["t2"]["pid"] == "t2"


def test_llm_extraction_through_a_real_local_judge(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    results, run_dir = run_evaluator(
        tmp_path, ["mathvista_testmini"], TableModel(), judge=judge_arg(openai_server, "7")
    )
    res = results["results"]["mathvista_testmini"]
    # rules decide pids 1, 3, 4, 5, 7 (1 + 1 + 1 + 0 + 1; the empty answer 7 is right by the rule, so
    # decided; an empty answer the rule scores 0 would go to the judge, which the official code skips).
    # The judge extracts "7" for 2, 6, 8: 2 MC -> closest of red/blue to "7" is "red" (3 edits vs 4):
    # right; 6 "7" == "7": right; 8 float str(round(7.0, 1)) = "7.0" != "1.2": wrong. (4 + 2) / 8.
    assert res["mathvista_acc,none"] == pytest.approx(6 / 8)
    assert res["mathvista_acc_rule,none"] == pytest.approx(4 / 8)  # unchanged by the judge
    summary = results["judge"]["summary"]["mathvista_testmini"]
    assert (summary["decided_by_rule"], summary["decided_by_judge"]) == (5, 3)
    record = records(run_dir, "mathvista_testmini")["6"]
    prompt = content_text(record["judge"]["filters"]["none"]["calls"][0]["prompt"][0]["content"])
    assert prompt.startswith("Please read the following example. Then extract the answer")
    # the official prompt ends "Extracted answer: ", with its trailing space
    assert prompt.endswith("Question: How many apples?\n\nThe answer is 7 apples.\n\nExtracted answer: ")
    submission = json.loads((run_dir / "submissions" / "mathvista_testmini_output.json").read_text())
    assert submission["2"]["extraction"] == "7" and submission["2"]["prediction"] == "red"
