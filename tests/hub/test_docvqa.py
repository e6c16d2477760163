"""DocVQA on a hub-shaped fixture: the lmms-eval prompt, ANLS exactly as the RRC script (0.5 kept,
raw lengths) next to the normalised variant, per question type, the reasoning variant and the
RRC submission files (validation and the prediction-only test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub import common, docvqa
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

INSTRUCTION = "\nAnswer the question using a single word or phrase."


class TableModel(common.TableModel):
    """Answers each document from ``docvqa.ANSWERS`` keyed by questionId; keeps the requests."""

    answers = docvqa.ANSWERS


mirror = fixture_mirror(docvqa.build)


def test_docvqa_val_and_test_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["docvqa_val", "docvqa_test"], TableModel())
    val = results["results"]["docvqa_val"]
    # official (RRC script), per questionId: 1001 1 - 1/8 = 0.875; 1002 "1256" vs "1234" 1 - 2/4 = 0.5
    # (kept); 1003 "  Tota1 " vs "total": 1 edit over the raw length 8 -> 0.875; 1004 wrong 0; 1005
    # empty 0; 1006 the whole <think>..<answer> reply (75 characters vs 8 or 13) -> 0; 1007 1.0
    assert val["anls,none"] == pytest.approx((0.875 + 0.5 + 0.875 + 0 + 0 + 0 + 1) / 7)
    # normalised variant: 1002 NL 0.5 -> 0; 1003 1 edit over the normalised length 5 -> 0.8
    assert val["anls_normalized,none"] == pytest.approx((0.875 + 0 + 0.8 + 0 + 0 + 0 + 1) / 7)
    # per question type (multi-label): handwritten = 1001, 1005; form = 1001, 1002; layout = 1004, 1006
    assert val["anls,none,question_type=handwritten"] == pytest.approx(0.875 / 2)
    assert val["anls,none,question_type=form"] == pytest.approx((0.875 + 0.5) / 2)
    assert val["anls,none,question_type=layout"] == pytest.approx(0.0)
    assert val["anls,none,question_type=table/list"] == pytest.approx(0.875)
    assert val["breakdown_n"]["question_type"] == {
        "form": 2,
        "free_text": 1,
        "handwritten": 2,
        "layout": 2,
        "table/list": 1,
    }

    # the prompt: question + the lmms-eval instruction, one image
    assert TableModel.prompts["docvqa_val:1001"] == "What is the date mentioned?" + INSTRUCTION
    record = records(run_dir, "docvqa_val")["1002"]
    kinds = [p["type"] for m in record["prompt"] for p in m["content"]]
    assert kinds.count("image") == 1

    # the RRC-format files: a JSON array of {"questionId": int, "answer": str}
    val_file = json.loads((run_dir / "submissions" / "docvqa_val_results.json").read_text())
    assert val_file[0] == {"questionId": 1001, "answer": "12/15/89"}
    assert len(val_file) == 7
    test = results["results"]["docvqa_test"]
    assert test["answered,none"] == pytest.approx(2 / 3)  # 2002 is empty
    assert "anls,none" not in test
    test_file = json.loads((run_dir / "submissions" / "docvqa_test_for_submission.json").read_text())
    assert test_file == [
        {"questionId": 2001, "answer": "Dr. Lobo"},
        {"questionId": 2002, "answer": ""},
        {"questionId": 2003, "answer": "<think>It is 1999.</think><answer>1999</answer>"},
    ]


def test_docvqa_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["docvqa_val", "docvqa_test"], TableModel(), prompt_variant="reasoning")
    val = results["results"]["docvqa_val"]
    # the reply is reduced (think dropped, last <answer> taken, stripped): 1006 -> "Dr. Lobo" = 1.0;
    # 1003 -> "Tota1", now over the raw length 5 -> 0.8; the rest unchanged
    assert val["anls,none"] == pytest.approx((0.875 + 0.5 + 0.8 + 0 + 0 + 1 + 1) / 7)
    assert val["anls_normalized,none"] == pytest.approx((0.875 + 0 + 0.8 + 0 + 0 + 1 + 1) / 7)
    request = TableModel.requests["docvqa_val:1001"]
    assert request.prompt_text() == "What is the date mentioned?" + REASONING
    assert request.params.max_new_tokens == 4096
    test_file = json.loads((run_dir / "submissions" / "docvqa_test_for_submission.json").read_text())
    assert test_file[2] == {"questionId": 2003, "answer": "1999"}
