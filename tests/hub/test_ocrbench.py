"""OCRBench on a hub-shaped fixture: the bare question as prompt, the official containment rule
(HME100k without spaces, case kept), the score in points per category, per component (Text
Recognition = the six recognition types) and in total, and the reasoning variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, ocrbench
from hub.common import fixture_mirror, run_evaluator
from lmms_eval.tasks.ocrbench import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING


class TableModel(common.TableModel):
    """Answers each document from ``ocrbench.ANSWERS`` keyed by row index; keeps the requests."""

    answers = ocrbench.ANSWERS


mirror = fixture_mirror(ocrbench.build)


def test_component_and_totals() -> None:
    assert utils.component({"question_type": "Digit String Recognition"}) == "Text Recognition"
    assert utils.component({"question_type": "Doc-oriented VQA"}) == "Doc-oriented VQA"
    assert utils.component({}) is None
    assert sum(utils.CATEGORY_TOTALS.values()) == 1000
    recognition = sum(v for k, v in utils.CATEGORY_TOTALS.items() if k in utils.RECOGNITION_TYPES)
    assert recognition == 300


def test_ocrbench_by_hand(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["ocrbench"], TableModel())[0]["results"]["ocrbench"]
    # per row: 0 "centre" in "the word is centre." 1; 1 "HOTE L" 0; 2 "coffee" occurs in the raw
    # <think> text 1; 3 empty 0; 4 1; 5 "xkq pzt" 1; 6 "stop" 1; 7 "2000" 0; 8 double space 0;
    # 9 HME100k spaces removed "y_{2}=-1" 1; 10 HME100k "X^{2}" vs "x^{2}" (case kept) 0 -> 6 points
    assert res["ocrbench_score,none"] == pytest.approx(6.0)
    assert res["ocrbench_match,none"] == pytest.approx(6 / 11)
    by_type = {
        "Regular Text Recognition": 1,
        "Irregular Text Recognition": 0,
        "Artistic Text Recognition": 1,
        "Handwriting Recognition": 0,
        "Digit String Recognition": 1,
        "Non-Semantic Text Recognition": 1,
        "Scene Text-centric VQA": 1,
        "Doc-oriented VQA": 0,
        "Key Information Extraction": 0,
        "Handwritten Mathematical Expression Recognition": 1,
    }
    for kind, points in by_type.items():
        assert res[f"ocrbench_score,none,question_type={kind}"] == pytest.approx(points), kind
    # the official printout's lines: Text Recognition = 1 + 0 + 1 + 0 + 1 + 1 = 4
    assert res["ocrbench_score,none,component=Text Recognition"] == pytest.approx(4.0)
    assert res["ocrbench_score,none,component=Handwritten Mathematical Expression Recognition"] == pytest.approx(1.0)
    assert res["ocrbench_match,none,dataset=HME100k"] == pytest.approx(1 / 2)
    # the prompt is the stripped question alone
    assert TableModel.prompts["ocrbench:0"] == "what is written in the image?"
    assert TableModel.prompts["ocrbench:6"] == "What does the sign say?"


def test_ocrbench_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["ocrbench"], TableModel(), prompt_variant="reasoning")[0]["results"]["ocrbench"]
    # row 2 is reduced to its <answer> "toffee": no longer contains "coffee" -> 5 points
    assert res["ocrbench_score,none"] == pytest.approx(5.0)
    assert res["ocrbench_score,none,question_type=Artistic Text Recognition"] == pytest.approx(0.0)
    request = TableModel.requests["ocrbench:0"]
    assert request.prompt_text() == "what is written in the image?" + REASONING
    assert request.params.max_new_tokens == 4096
