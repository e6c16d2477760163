"""ChartQA on a hub-shaped fixture: the lmms-eval prompt, pix2struct's relaxed correctness (no
stripping, no thousands separators) and the lenient variant, per split (human / augmented) and
their average, and the reasoning variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import chartqa, common
from hub.common import fixture_mirror, run_evaluator
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

INSTRUCTION = "\nAnswer the question with a single word."


class TableModel(common.TableModel):
    """Answers each document from ``chartqa.ANSWERS`` keyed by row index; keeps the requests."""

    answers = chartqa.ANSWERS


mirror = fixture_mirror(chartqa.build)


def test_chartqa_by_hand(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["chartqa"], TableModel())[0]["results"]["chartqa"]
    # official, rows 0-3 human: "5" right, "Yes " (no strip) wrong, "1,000" (a string) wrong,
    # prose wrong -> 1/4; rows 4-8 augmented: "<think>..</think>12" (a string) wrong, "45%" = 0.45
    # right, "blue" right, 100 vs 105 (4.8 %) right, "Bar" wrong -> 3/5
    assert res["relaxed_accuracy,none"] == pytest.approx(4 / 9)
    assert res["relaxed_accuracy,none,type=human_test"] == pytest.approx(1 / 4)
    assert res["relaxed_accuracy,none,type=augmented_test"] == pytest.approx(3 / 5)
    # the reported ChartQA number: the average of the two splits
    assert res["relaxed_accuracy_macro_type,none"] == pytest.approx((1 / 4 + 3 / 5) / 2)
    # lenient: + "Yes " (stripped), + "1,000" (1000 vs 1020: 1.96 %) -> human 3/4, augmented 3/5
    assert res["relaxed_accuracy_lenient,none"] == pytest.approx(6 / 9)
    assert res["relaxed_accuracy_lenient,none,type=human_test"] == pytest.approx(3 / 4)
    assert res["relaxed_accuracy_lenient_macro_type,none"] == pytest.approx((3 / 4 + 3 / 5) / 2)
    assert res["breakdown_n"]["type"] == {"augmented_test": 5, "human_test": 4}
    assert TableModel.prompts["chartqa:0"] == "How many bars are there?" + INSTRUCTION


def test_chartqa_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["chartqa"], TableModel(), prompt_variant="reasoning")[0]["results"]["chartqa"]
    # the reduction drops the <think> block and strips: row 4 -> "12" right, row 1 -> "Yes" right;
    # official: human 2/4, augmented 4/5
    assert res["relaxed_accuracy,none,type=human_test"] == pytest.approx(2 / 4)
    assert res["relaxed_accuracy,none,type=augmented_test"] == pytest.approx(4 / 5)
    assert res["relaxed_accuracy_macro_type,none"] == pytest.approx((2 / 4 + 4 / 5) / 2)
    assert res["relaxed_accuracy_lenient,none"] == pytest.approx(7 / 9)  # only "I cannot tell", "Bar" wrong
    request = TableModel.requests["chartqa:3"]
    assert request.prompt_text() == "What is the average?" + REASONING
    assert request.params.max_new_tokens == 4096
