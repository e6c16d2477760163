"""MathVerse on a hub-shaped fixture: the `query_wo` prompt, the per-version tasks and group, the
judge-free rule variant, the breakdowns, the reasoning variant, the output file, and the official
two-step LLM rule (extract block, then the 0/1 scoring block on its extraction) against a real
local judge server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, mathverse
from hub.common import content_text, fixture_mirror, judge_arg, records, run_evaluator
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING


class TableModel(common.TableModel):
    """Answers each document from ``mathverse.ANSWERS`` keyed by sample_index; keeps the requests."""

    answers = mathverse.ANSWERS


mirror = fixture_mirror(mathverse.build)


def first_prompt(entry: dict) -> str:
    return content_text(entry["filters"]["none"]["calls"][0]["prompt"][0]["content"])


def test_all_versions_rule_variant_breakdowns_and_output(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mathverse_testmini"], TableModel())
    res = results["results"]["mathverse_testmini"]
    # rule variant, per sample_index: 1 "D" right; 2 "The answer is D." right; 3 "B" wrong; 4 no letter;
    # 5 <answer>D right; 6 "14" right; 7 \boxed{14} right; 8 "15" wrong; 9 "" unparsed; 10 <answer>14 right
    assert res["mathverse_acc_rule,none"] == pytest.approx(6 / 10)
    assert res["mathverse_parse_rate,none"] == pytest.approx(8 / 10)  # all but 4 and 9
    # per version (1 and 6 are Text Dominant, ..., 5 and 10 Vision Only)
    assert res["mathverse_acc_rule,none,problem_version=Text Dominant"] == pytest.approx(1.0)
    assert res["mathverse_acc_rule,none,problem_version=Vision Intensive"] == pytest.approx(0.0)  # 3, 8
    assert res["mathverse_parse_rate,none,problem_version=Vision Dominant"] == pytest.approx(0.0)  # 4, 9
    assert res["mathverse_acc_rule,none,problem_version=Vision Only"] == pytest.approx(1.0)  # 5, 10
    # per subject: Plane Geometry = 1..5 -> 1, 2, 5 right = 3/5; Solid Geometry 6..10 -> 6, 7, 10 = 3/5
    assert res["mathverse_acc_rule,none,subject=Plane Geometry"] == pytest.approx(3 / 5)
    assert res["mathverse_acc_rule,none,subfield=Length"] == pytest.approx(3 / 5)
    assert res["mathverse_acc_rule,none,question_type=multi-choice"] == pytest.approx(3 / 5)
    assert "mathverse_acc,none" not in res  # the official metric needs --judge

    # the prompt is query_wo, nothing appended
    rows = {r["sample_index"]: r for r in mathverse.testmini_rows()}
    assert TableModel.requests["2"].prompt_text() == rows["2"]["query_wo"]
    assert len(TableModel.requests["5"].images()) == 1
    output = json.loads((run_dir / "submissions" / "mathverse_testmini_output.json").read_text())
    assert [e["sample_index"] for e in output] == [str(i) for i in range(1, 11)]
    assert output[6]["model_answer"] == mathverse.LONG and output[6]["problem_version"] == "Text Lite"
    assert output[0]["metadata"]["subfield"] == "Angle" and output[0]["query_wo"] == rows["1"]["query_wo"]


def test_version_tasks_group_and_text_only(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["mathverse", "mathverse_testmini_text_only"], TableModel())
    res = results["results"]
    assert res["mathverse_testmini_vision_only"]["n_samples"] == 2
    assert res["mathverse_testmini_text_lite"]["mathverse_acc_rule,none"] == pytest.approx(1.0)  # 2, 7
    assert res["mathverse_testmini_vision_dominant"]["mathverse_acc_rule,none"] == pytest.approx(0.0)  # 4, 9
    # the group: correct / total over the five versions = (2 + 2 + 0 + 0 + 2) / 10
    assert res["mathverse"]["mathverse_acc_rule,none"] == pytest.approx(6 / 10)
    # Text Only: 11 "D" right, 12 "12" != 14 -> 1/2; no image sent
    assert res["mathverse_testmini_text_only"]["mathverse_acc_rule,none"] == pytest.approx(1 / 2)
    assert TableModel.requests["11"].images() == []


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(
        tmp_path, ["mathverse_testmini_vision_only"], TableModel(), prompt_variant="reasoning"
    )
    # 5 and 10 carry <think>/<answer>: the variant scores "D" and "14" (the rule reads the <answer>
    # tag under the default prompt too, so the same 2/2)
    assert results["results"]["mathverse_testmini_vision_only"]["mathverse_acc_rule,none"] == pytest.approx(1.0)
    rows = {r["sample_index"]: r for r in mathverse.testmini_rows()}
    assert TableModel.requests["10"].prompt_text() == rows["10"]["query_wo"] + REASONING
    output = json.loads((run_dir / "submissions" / "mathverse_testmini_vision_only_output.json").read_text())
    assert [e["model_answer"] for e in output] == ["D", "14"]  # the <answer> parts


def test_official_two_step_judge_through_a_real_server(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    # the scripted judge replies "1" to every prompt: as an extraction it is the answer "1", as a
    # judgement it is "consistent"
    results, run_dir = run_evaluator(
        tmp_path, ["mathverse_testmini"], TableModel(), judge=judge_arg(openai_server, "1")
    )
    res = results["results"]["mathverse_testmini"]
    # extract block (always the LLM, as the official step 1) + quick match: all 10 are extracted as
    # "1", which equals none of the answers ("D", "14", ...) -> 0 / 10
    assert res["mathverse_acc_quick,none"] == pytest.approx(0.0)
    # scoring block on every extraction: the judge says 1 -> 10 / 10
    assert res["mathverse_acc,none"] == pytest.approx(1.0)
    assert res["mathverse_acc,none,problem_version=Vision Only"] == pytest.approx(1.0)
    assert res["mathverse_acc_rule,none"] == pytest.approx(6 / 10)  # unchanged by the judge
    blocks = results["judge"]["summary"]["mathverse_testmini"]["blocks"]
    assert (blocks["mathverse_acc_quick"]["decided_by_rule"], blocks["mathverse_acc_quick"]["decided_by_judge"]) == (
        0,
        10,
    )
    assert blocks["mathverse_acc"]["decided_by_judge"] == 10

    logged = records(run_dir, "mathverse_testmini")
    extract = first_prompt(logged["7"]["judge"]["blocks"]["mathverse_acc_quick"])
    assert extract.startswith("I am providing you a response from a model to a math problem, termed 'Model Response'.")
    # the response cut to its last 30 words: w14 ... w39 so L is \boxed{14}
    last30 = " ".join(mathverse.LONG.split(" ")[-30:])
    assert last30.startswith("w14 ")
    assert extract.endswith(f"7.\n\nModel response: '{last30}'\nExtracted Answer: ")  # official trailing space
    score = first_prompt(logged["3"]["judge"]["blocks"]["mathverse_acc"])
    assert score.startswith("Below are two answers to a math question.")
    assert "B:2\u221a{3}" in score  # the official "{{3}}" after str.format
    rows = {r["sample_index"]: r for r in mathverse.testmini_rows()}
    assert score.endswith(f"[Question]: {rows['3']['question']}\n[Standard Answer]: D\n[Model_answer] : 1\nJudgement:")
    # sample 1's response is "D" itself: still extracted by the LLM, and its extraction is judged
    assert first_prompt(logged["1"]["judge"]["blocks"]["mathverse_acc"]).endswith("[Model_answer] : 1\nJudgement:")
