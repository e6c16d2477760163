"""FVQA test on a hub-shaped fixture: the direct-mode prompt (image + question + the answer-tag
instruction), the MMSearch-R1 exact-match rule with its per-category breakdown, the reasoning
variant, and the LLM-judge accuracy variant against a real local judge server."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, fvqa
from hub.common import content_text, fixture_mirror, judge_arg, records, run_evaluator
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

POST = (
    "\nWrap your final answer between <answer> and </answer>, without detailed illustrations. "
    "For example: <answer>Titanic</answer>."
)


class TableModel(common.TableModel):
    """Answers each document from ``fvqa.ANSWERS`` keyed by data_id."""

    answers = fvqa.ANSWERS


class ReasoningModel(common.TableModel):
    """Answers in the reasoning format: <think> then the same answers inside <answer>."""

    answers = {
        key: f"<think>look</think><answer>{value}</answer>"
        for key, value in {
            "fvqa_test_0": "Kingdom of Spain",
            "fvqa_test_1": "Buddha",
            "fvqa_test_2": "Paris",
            "fvqa_test_3": "1889",
            "fvqa_test_4": "Mt. Fuji",
            "fvqa_test_5": "Tokyo",
        }.items()
    }


mirror = fixture_mirror(fvqa.build)


def test_exact_match_rule_breakdown_and_prompt(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["fvqa_test"], TableModel())
    res = results["results"]["fvqa_test"]
    # fvqa_em per data_id: 0 alias "kingdom of spain" 1; 1 whole reply "it is buddha" 0; 2 "eiffel tower" 1;
    # 3 last tag "1889" 1; 4 whole reply "fujisan" (alias) 1; 5 "kyoto" 0 -> 4 / 6
    assert res["fvqa_em,none"] == pytest.approx(4 / 6)
    assert res["fvqa_parse_rate,none"] == pytest.approx(4 / 6)  # 1 and 4 have no <answer> tag
    assert res["fvqa_em,none,category=search_required"] == pytest.approx(1.0)  # 0, 2, 4
    assert res["fvqa_em,none,category=search_free"] == pytest.approx(1 / 3)  # 1, 3, 5 -> only 3
    assert res["n_samples"] == 6 and "fvqa_judge_acc,none" not in res
    assert TableModel.requests["fvqa_test_2"].prompt_text() == "What is this landmark called?" + POST
    assert len(TableModel.requests["fvqa_test_2"].images()) == 1
    logged = records(run_dir, "fvqa_test")["fvqa_test_0"]
    assert logged["target"] == ["Spain", "Kingdom of Spain", "ES"]
    assert "images" not in logged["doc"] and logged["doc"]["category"] == "search_required"


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["fvqa_test"], ReasoningModel(), prompt_variant="reasoning")
    res = results["results"]["fvqa_test"]
    # the <answer> parts: Kingdom of Spain 1, Buddha 1, Paris 0, 1889 1, "mt fuji" 0 (not an alias), Tokyo 1
    assert res["fvqa_em,none"] == pytest.approx(4 / 6)
    assert ReasoningModel.requests["fvqa_test_1"].prompt_text() == "Who is this statue dedicated to?" + REASONING


def test_llm_judge_variant_through_a_real_server(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    results, run_dir = run_evaluator(tmp_path, ["fvqa_test"], TableModel(), judge=judge_arg(openai_server))
    res = results["results"]["fvqa_test"]
    # the scripted judge says "Verdict: correct" to everything -> 6 / 6; the rule is unchanged
    assert res["fvqa_judge_acc,none"] == pytest.approx(1.0)
    assert res["fvqa_judge_acc,none,category=search_free"] == pytest.approx(1.0)
    assert res["fvqa_em,none"] == pytest.approx(4 / 6)
    block = records(run_dir, "fvqa_test")["fvqa_test_0"]["judge"]
    prompt = content_text(block["filters"]["none"]["calls"][0]["prompt"][0]["content"])
    assert "Question: What is the country of origin of this food?\nGround-truth answer: Spain\n" in prompt
    assert "Accepted aliases of the ground truth: Kingdom of Spain; ES\n" in prompt
    assert "Model response: <answer>the Kingdom of Spain</answer>\n" in prompt
    assert "Wrap your final answer" not in prompt  # the bare question, not the prompt's user text
