"""MMK12 on a hub-shaped fixture: the official system prompt, the official answer extraction, the
math-verify rule, the subject breakdown, the reasoning variant, and both judge blocks (the
official yes/no judge and the General STEM cascade) against a real local judge server."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, mmk12
from hub.common import content_text, fixture_mirror, judge_arg, records, run_evaluator

TASK = "mmk12_test"


class TableModel(common.TableModel):
    """Answers each document from ``mmk12.ANSWERS`` keyed by id; keeps the requests."""

    answers = mmk12.ANSWERS


mirror = fixture_mirror(mmk12.build)


def judge_prompt(record: dict, block: str) -> str:
    calls = record["judge"]["blocks"][block]["filters"]["answer"]["calls"]
    return content_text(calls[0]["prompt"][0]["content"])


def test_rule_metric_breakdown_and_prompt(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel())
    res = results["results"][TASK]
    # official extraction then math-verify: m1 "The answer is $\boxed{B}$" -> B right; m2 "A" != C;
    # p1 "D" right; p2 whole response "I am not sure." wrong; c1 FIRST <answer> "A" != B; b1 "A" right
    # -> 3 / 6
    assert res["mmk12_math_verify,answer"] == pytest.approx(3 / 6)
    assert res["mmk12_math_verify,answer,subject=math"] == pytest.approx(1 / 2)  # m1 of m1, m2
    assert res["mmk12_math_verify,answer,subject=physics"] == pytest.approx(1 / 2)  # p1 of p1, p2
    assert res["mmk12_math_verify,answer,subject=chemistry"] == pytest.approx(0.0)  # c1
    assert res["mmk12_math_verify,answer,subject=biology"] == pytest.approx(1.0)  # b1
    assert "mmk12_acc_judge,answer" not in res  # the judge metrics need --judge

    request = TableModel.requests["p1"]
    roles = [m.role for m in request.messages]
    assert roles == ["system", "user"]
    system = request.messages[0].text()
    assert system.startswith("Solve the question. The user asks a question, and you solves it.")
    assert "wrapped using the \\\\boxed{} command. Th answer should" in system  # verbatim, typo included
    assert request.messages[1].text() == mmk12.rows()[2]["question"]  # the question verbatim, nothing added
    assert len(request.images()) == 1
    assert request.params.max_new_tokens == 4096

    logged = records(run_dir, TASK)
    assert logged["m1"]["filtered"]["answer"] == "The answer is $\\boxed{B}$"
    assert logged["c1"]["filtered"]["answer"] == "A"


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), prompt_variant="reasoning")
    # c1: <think> dropped, the last <answer> "B" taken: right; the others as before -> 4 / 6
    assert results["results"][TASK]["mmk12_math_verify,answer"] == pytest.approx(4 / 6)
    user = TableModel.requests["c1"].messages[-1].text()
    assert user.endswith(
        "D. 4\nPlease reason step by step. Output the thinking process within <think> </think> "
        "tags and final answer within <answer> </answer> tags."
    )


def test_official_judge_and_cascade_through_a_real_server(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=judge_arg(openai_server, "No"))
    res = results["results"][TASK]
    # official judge on every sample, the judge says "No" to all: 0 / 6
    assert res["mmk12_acc_judge,answer"] == pytest.approx(0.0)
    # cascade: math-verify decides m1, p1, b1 (1 each); the judge says "No" for m2, p2, c1 -> 3 / 6
    assert res["mmk12_acc_cascade,answer"] == pytest.approx(3 / 6)
    assert res["mmk12_acc_cascade,answer,subject=biology"] == pytest.approx(1.0)
    assert res["mmk12_math_verify,answer"] == pytest.approx(3 / 6)  # unchanged by the judge
    blocks = results["judge"]["summary"][TASK]["blocks"]
    official, cascade = blocks["mmk12_acc_judge"], blocks["mmk12_acc_cascade"]
    assert (official["decided_by_rule"], official["decided_by_judge"], official["calls"]) == (0, 6, 6)
    # the cascade's 3 judge prompts are the official block's: served from the cache, no new call
    assert (cascade["decided_by_rule"], cascade["decided_by_judge"]) == (3, 3)
    assert (cascade["calls"], cascade["cached_calls"]) == (0, 3)

    logged = records(run_dir, TASK)
    prompt = judge_prompt(logged["p2"], "mmk12_acc_judge")
    assert prompt.startswith("You are given a question, the correct answer and a model's answer.")
    assert "(e.g., \\boxed, $...$, or similar)" in prompt
    assert "Correct Answer:\nA\n--------------------------------\nModel's Answer:\nI am not sure." in prompt
    assert "Question:\nQuestion p2 about the physics figure." in prompt
    # the official prompt ends with a newline; the judge stage drops trailing newlines of rendered prompts
    assert prompt.endswith("I am not sure.\n--------------------------------\n")  # the official final newline
    assert "Model's Answer:\nThe answer is $\\boxed{B}$\n" in judge_prompt(logged["m1"], "mmk12_acc_judge")


def test_a_reply_other_than_yes_or_no_is_a_judge_error(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    # the default scripted judge says "Verdict: correct": the official script would retry and then
    # count "no"; here it is a judge_error, never a score
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=judge_arg(openai_server), max_error_rate=1.0)
    res = results["results"][TASK]
    assert "mmk12_acc_judge,answer" not in res or res["mmk12_acc_judge,answer"] is None
    logged = records(run_dir, TASK)
    assert all(r["status"] == "judge_error" for r in logged.values())  # every sample: block 1 failed
    # the cascade's rule still decided m1, p1, b1
    cascade = {k: r["judge"]["blocks"]["mmk12_acc_cascade"]["filters"]["answer"] for k, r in logged.items()}
    assert {k for k, c in cascade.items() if c["stage"] == "rule"} == {"m1", "p1", "b1"}
