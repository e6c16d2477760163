"""MMSearch end-to-end in direct mode on a hub-shaped fixture: the official answer round prompt
without websites, the query image only when there is one, official answer F1 (max over the
alternatives) per area and subfield, and --limit (lmms-eval 0.7 asserted 300 results)."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from hub import common, mmsearch
from hub.common import content_text, fixture_mirror, judge_arg, records, run_evaluator
from lmms_eval.api.messages import Image, Text

TASK = "mmsearch_end2end"


class TableModel(common.TableModel):
    """Answers each query from ``mmsearch.ANSWERS`` keyed by sample_id; keeps the requests."""

    answers = mmsearch.ANSWERS


mirror = fixture_mirror(mmsearch.build)


def test_mmsearch_end2end_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel())
    res = results["results"][TASK]
    # news_0 exact 1.0; news_1 "it was on 20240811" vs "20240811": P 1/4, R 1 -> F1 0.4;
    # news_2 0; knowledge_0 "starry night painting": vs "The Starry Night" 0.8, vs the
    # alternative "Starry Night painting" 1.0 -> 1.0. Mean (1 + 0.4 + 0 + 1) / 4 = 0.6
    assert res["mmsearch_f1,none"] == pytest.approx(0.6)
    assert res["mmsearch_f1,none,area=news"] == pytest.approx(1.4 / 3)
    assert res["mmsearch_f1,none,area=knowledge"] == pytest.approx(1.0)
    assert res["mmsearch_f1,none,subfield=sports"] == pytest.approx(0.7)
    assert res["mmsearch_f1,none,subfield=finance"] == pytest.approx(0.0)
    with_image = TableModel.requests["news_0"].messages[-1].content
    text_only = TableModel.requests["news_1"].messages[-1].content
    assert isinstance(with_image[0], Image) and not any(isinstance(p, Image) for p in text_only)
    text = "".join(p.text for p in text_only if isinstance(p, Text))
    assert text.startswith("You are a helpful assistant. I am giving you a question.\n")
    tail = "The question is: Question news_1?.\nPlease directly output the answer without any explanation: "
    assert text.endswith(tail)


def test_limit_runs_below_300(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), limit=2)
    assert results["results"][TASK]["mmsearch_f1,none"] == pytest.approx((1 + 0.4) / 2)


def test_llm_judge_variant_through_a_real_server(
    openai_server: LocalOpenAIServer,  # noqa: F811
    mirror: Path,
    tmp_path: Path,
) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=judge_arg(openai_server))
    res = results["results"][TASK]
    assert res["mmsearch_judge_acc,none"] == pytest.approx(1.0)  # the scripted judge says "correct"
    assert res["mmsearch_f1,none"] == pytest.approx(0.6)  # the official score is unchanged
    block = records(run_dir, TASK)["knowledge_0"]["judge"]
    prompt = content_text(block["filters"]["none"]["calls"][0]["prompt"][0]["content"])
    assert "Question: Question knowledge_0?\nGround-truth answer: The Starry Night\n" in prompt
    assert "Accepted aliases of the ground truth: Starry Night painting\n" in prompt
