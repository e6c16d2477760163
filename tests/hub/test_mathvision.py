"""MATH-Vision on a hub-shaped fixture: loading, the official prompt and rule, the breakdowns by
subject and level, both scored splits, the reasoning variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, mathvision
from hub.common import fixture_mirror, run_evaluator
from lmms_eval.tasks.mathvision import utils

INSTRUCTION = (
    '\nPlease solve the problem and put your answer in one "\\boxed{}". '
    'If it is a multiple choice question, only one letter is allowed in the "\\boxed{}".'
)


class TableModel(common.TableModel):
    """Answers each document from ``mathvision.ANSWERS`` keyed by id; keeps the prompts."""

    answers = mathvision.ANSWERS


mirror = fixture_mirror(mathvision.build)


def test_prompt_formats_options_as_the_official_code() -> None:
    doc = {"question": "Q?\n<image1>", "options": ["3", "4", "5", "6", "7"]}
    kwargs = {"pre_prompt": "", "post_prompt": "\nEND"}
    assert utils.doc_to_text(doc, kwargs) == "Q?\n<image1>\n(A) 3\n(B) 4\n(C) 5\n(D) 6\n(E) 7\nEND"
    # options that are only the letters are drawn in the image: no option lines
    assert utils.doc_to_text({"question": "Q?", "options": list("ABCDE")}, kwargs) == "Q?\nEND"
    assert utils.doc_to_text({"question": "Q?", "options": []}, kwargs) == "Q?\nEND"


def test_testmini_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["mathvision_testmini"], TableModel())[0]["results"]["mathvision_testmini"]
    # 1 boxed C = C: right; 2 boxed 4 = text of option B: right; 3 3/4 = 0.75: right; 4 "12cm" != 12;
    # 5 raw <think>/<answer> text is no number: wrong; 6 "a" is neither D nor its text "D": wrong -> 3/6
    assert res["mathvision_acc,none"] == pytest.approx(3 / 6)
    # parsed: 1, 2, 3, 6 (boxed); 4 and 5 have no marker and are no number -> 4/6
    assert res["mathvision_parse_rate,none"] == pytest.approx(4 / 6)
    # subject: length {1 right, 4 wrong} 1/2; counting {2} 1; arithmetic {3 right, 5 wrong} 1/2; solid {6} 0
    assert res["mathvision_acc,none,subject=metric geometry - length"] == pytest.approx(0.5)
    assert res["mathvision_acc,none,subject=counting"] == pytest.approx(1.0)
    assert res["mathvision_acc,none,subject=solid geometry"] == pytest.approx(0.0)
    assert res["mathvision_acc_macro_subject,none"] == pytest.approx((0.5 + 1 + 0.5 + 0) / 4)
    # level 1 {1, 6} 1/2; level 2 {2, 3} 1; level 3 {4, 5} 0
    assert res["mathvision_acc,none,level=1"] == pytest.approx(0.5)
    assert res["mathvision_acc,none,level=2"] == pytest.approx(1.0)
    assert res["mathvision_acc,none,level=3"] == pytest.approx(0.0)
    assert TableModel.prompts["2"] == "How many triangles?\n<image1>\n(A) 3\n(B) 4\n(C) 5\n(D) 6\n(E) 7" + INSTRUCTION
    assert TableModel.prompts["6"] == "Which picture shows the cube?\n<image1>" + INSTRUCTION


def test_reasoning_variant_and_test_split(mirror: Path, tmp_path: Path) -> None:
    tasks = ["mathvision_testmini", "mathvision_test"]
    results = run_evaluator(tmp_path, tasks, TableModel(), prompt_variant="reasoning")[0]["results"]
    # id 5 "<think>..</think><answer>5</answer>" -> "5": right and parsed (a number); others unchanged
    assert results["mathvision_testmini"]["mathvision_acc,none"] == pytest.approx(4 / 6)
    assert results["mathvision_testmini"]["mathvision_parse_rate,none"] == pytest.approx(5 / 6)
    assert TableModel.prompts["5"].startswith("What is the sum?\n<image1>\nPlease reason step by step.")
    # test split is scored too (answers public): 11 boxed 60 right; 12 "e" vs answer A wrong
    assert results["mathvision_test"]["mathvision_acc,none"] == pytest.approx(1 / 2)
