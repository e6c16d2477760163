"""MME on a hub-shaped fixture: lmms-eval's prompt (and MME's own under ``--prompt_variant
official``), the official calculation.py answer parsing with its quirks, acc/acc+/score per
subtask, the Perception and Cognition totals, the lenient variant, the parse rate and the
reasoning variant. Expected values worked by hand from ``hub.mme.ROWS``."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, mme
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.media.image import load_image
from lmms_eval.tasks.mme import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

LMMS_EVAL_POST = "\nAnswer the question using a single word or phrase."


class TableModel(common.TableModel):
    """Replies from ``mme.ANSWERS`` (by row index); keeps the requests."""

    answers = mme.ANSWERS


mirror = fixture_mirror(mme.build)


def test_prompt_replaces_the_yes_no_instruction_only_when_a_kwarg_is_set() -> None:
    doc = {"question": "  Is there a cat? Please answer yes or no. "}
    assert (
        utils.doc_to_text(doc, {"pre_prompt": "", "post_prompt": LMMS_EVAL_POST}) == "Is there a cat?" + LMMS_EVAL_POST
    )
    assert utils.doc_to_text(doc, {"pre_prompt": "", "post_prompt": ""}) == "Is there a cat? Please answer yes or no."
    assert utils.doc_to_text(doc, {"pre_prompt": "Q: ", "post_prompt": ""}) == "Q: Is there a cat?"
    assert utils.doc_to_text(doc, None) == "Is there a cat? Please answer yes or no."
    assert utils.task_type({"category": "OCR"}) == "Perception"
    assert utils.task_type({"category": "code_reasoning"}) == "Cognition"
    assert utils.task_type({"category": "ocr"}) is None


def test_mme_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mme"], TableModel())
    res = results["results"]["mme"]
    # official parse_pred_ans per row (ROWS order), R = right:
    # existence: "Yes" R, "no." R | " yes" R, "Yes, it is" (ref No) wrong -> acc 75, acc+ 50 = 125
    # color: "yesterday" R (quirk), "No" R | "I think yes" other, "<think>..." other -> 50 + 50 = 100
    # code_reasoning: "Yes" R, "No" R | "I cannot tell." other, "no" R -> 75 + 50 = 125
    # text_translation: "Yes" R, "Nobody would say so" R (quirk: "nobo") -> 100 + 100 = 200
    assert res["mme_perception,none"] == pytest.approx(125 + 100)
    assert res["mme_cognition,none"] == pytest.approx(125 + 200)
    assert res["mme_score,none"] == pytest.approx(225 + 325)
    assert res["mme_acc,none"] == pytest.approx(10 / 14)
    assert res["mme_acc_plus,none"] == pytest.approx(4 / 7)  # images all right: e1, c3, cr1, t1
    assert res["mme_parse_rate,none"] == pytest.approx(11 / 14)  # three "other"
    # per subtask: acc and acc+ as fractions, the score in points
    assert res["mme_acc,none,category=existence"] == pytest.approx(0.75)
    assert res["mme_acc_plus,none,category=existence"] == pytest.approx(0.5)
    assert res["mme_score,none,category=existence"] == pytest.approx(125)
    assert res["mme_score,none,category=color"] == pytest.approx(100)
    assert res["mme_acc,none,category=color"] == pytest.approx(0.5)
    assert res["mme_score,none,category=code_reasoning"] == pytest.approx(125)
    assert res["mme_score,none,category=text_translation"] == pytest.approx(200)
    assert res["mme_acc_plus,none,category=text_translation"] == pytest.approx(1.0)
    # the totals per subtask: the subtask's score in its own total, no value in the other
    assert res["mme_perception,none,category=color"] == pytest.approx(100)
    assert res["mme_perception,none,category=code_reasoning"] is None
    assert res["mme_cognition,none,category=existence"] is None
    assert res["mme_acc,none,task_type=Perception"] == pytest.approx(5 / 8)
    assert res["mme_acc,none,task_type=Cognition"] == pytest.approx(5 / 6)
    assert res["breakdown_n"]["category"] == {"code_reasoning": 4, "color": 4, "existence": 4, "text_translation": 2}
    # lenient (extract_yes_no): existence 125; color "yesterday" wrong, "I think yes" and the tagged
    # "No" right -> 75 + 50 = 125; code_reasoning 125; text_translation "Nobody ..." wrong -> 50 + 0
    assert res["mme_score_lenient,none"] == pytest.approx(125 + 125 + 125 + 50)

    # lmms-eval's prompt: MME's instruction replaced by the short-answer one; the image is sent
    request = TableModel.requests["0"]
    assert request.prompt_text() == "Is there a red circle in this image?" + LMMS_EVAL_POST
    assert [load_image(p).size for p in request.images()] == [(56, 40)]
    assert request.params.max_new_tokens == 16
    record = records(run_dir, "mme")["3"]
    assert record["target"] == "No" and record["doc"]["question_id"] == "existence/000000000002.jpg"


def test_official_prompt_variant_sends_the_stored_question(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["mme"], TableModel(), prompt_variant="official")[0]["results"]["mme"]
    assert TableModel.requests["8"].prompt_text() == (
        "The image shows a python code. Is the output of the code '3'? Please answer yes or no."
    )
    assert res["mme_perception,none"] == pytest.approx(225)  # the same replies, the same scores


def test_reasoning_variant_reads_the_answer_tag(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["mme"], TableModel(), prompt_variant="reasoning")[0]["results"]["mme"]
    # the reply reduced to its <answer>: color's "<think>...</think><answer>No</answer>" -> "No" right:
    # color 75 + 50 = 125 (its second image still has "I think yes"), Perception 125 + 125
    assert res["mme_perception,none"] == pytest.approx(250)
    assert res["mme_cognition,none"] == pytest.approx(325)
    assert res["mme_parse_rate,none"] == pytest.approx(12 / 14)
    assert res["mme_score,none,category=color"] == pytest.approx(125)
    request = TableModel.requests["0"]
    assert request.prompt_text() == "Is there a red circle in this image?" + REASONING
    assert request.params.max_new_tokens == 4096
