"""MMStar on a hub-shaped fixture: the official MMStar_eval rule (default), VLMEvalKit's rule
part and the shared extractor (variants), per category / l2_category / macro, the reasoning
variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, mmstar
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.tasks.mmstar import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

INSTRUCTION = "\nAnswer with the option's letter from the given choices directly"


class TableModel(common.TableModel):
    answers = mmstar.ANSWERS


mirror = fixture_mirror(mmstar.build)


def test_prompt_keeps_the_inline_options() -> None:
    doc = {"question": " Q?\nOptions: A: x, B: y \n"}
    assert (
        utils.doc_to_text(doc, {"pre_prompt": "", "post_prompt": INSTRUCTION})
        == "Q?\nOptions: A: x, B: y" + INSTRUCTION
    )


def test_mmstar_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mmstar"], TableModel())
    res = results["results"]["mmstar"]
    # official: 1 "a"; 2 "based..." -> "b" == b (quirk); 3 "(d"; 4 "answer: c" reads "a" (wrong);
    # 5 "<" ; 6 empty; 7 "<" -> 1, 2, 3 = 3 of 7
    assert res["mmstar_acc,none"] == pytest.approx(3 / 7)
    # VLMEvalKit rule: 1 A; 2 lone C (wrong); 3 D; 4 C; 5, 7 no token, text rule too long -> 1, 3, 4
    assert res["mmstar_acc_vlmevalkit,none"] == pytest.approx(3 / 7)
    # lenient: 1, 3, 4, 5 (the lone capital A after </think>), 7 (<answer>D) -> 5 of 7
    assert res["mmstar_acc_lenient,none"] == pytest.approx(5 / 7)
    # the compared character is an option letter for 1 (a), 2 (b), 3 (d), 4 (a) -> 4 of 7
    assert res["mmstar_parse_rate,none"] == pytest.approx(4 / 7)
    # per category (official): coarse 1, 2 -> 2/2; fine-grained 3 of 3, 4 -> 1/2; math 0/3
    assert res["mmstar_acc,none,category=coarse perception"] == pytest.approx(1.0)
    assert res["mmstar_acc,none,category=fine-grained perception"] == pytest.approx(1 / 2)
    assert res["mmstar_acc,none,category=math"] == pytest.approx(0.0)
    assert res["mmstar_acc,none,l2_category=object counting"] == pytest.approx(1.0)
    assert res["mmstar_acc,none,l2_category=geometry"] == pytest.approx(0.0)
    # lmms-eval's "average": the mean of the l2 accuracies: (1 + 1 + 1 + 0 + 0 + 0) / 6
    assert res["mmstar_acc_macro_l2_category,none"] == pytest.approx(3 / 6)
    assert TableModel.prompts["2"] == mmstar.question_text(*mmstar.ROWS[2][:2]) + INSTRUCTION
    assert records(run_dir, "mmstar")["4"]["target"] == "C"


def test_mmstar_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["mmstar"], TableModel(), prompt_variant="reasoning")[0]["results"]["mmstar"]
    # rows 5 -> "A", 7 -> "D" after the reduction: official 3 + 2 = 5; VLMEvalKit 3 + 2 = 5;
    # lenient unchanged 5; parsed 4 + 2 = 6
    assert res["mmstar_acc,none"] == pytest.approx(5 / 7)
    assert res["mmstar_acc_vlmevalkit,none"] == pytest.approx(5 / 7)
    assert res["mmstar_acc_lenient,none"] == pytest.approx(5 / 7)
    assert res["mmstar_parse_rate,none"] == pytest.approx(6 / 7)
    request = TableModel.requests["5"]
    assert request.prompt_text().endswith("D: 90" + REASONING)
    assert request.params.max_new_tokens == 4096
