"""MMMU on a hub-shaped fixture: the official prompt with images interleaved at their tags, the
official parser (no random fallback), the lenient variant, subject/discipline breakdowns, the
reasoning variant and the prediction files (validation and the EvalAI test file)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hub import common, mmmu
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Image, Text
from lmms_eval.tasks.mmmu import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

MC_INSTRUCTION = "\nAnswer with the option's letter from the given choices directly."
OPEN_INSTRUCTION = "\nAnswer the question using a single word or phrase."


class TableModel(common.TableModel):
    """Answers each document from ``mmmu.ANSWERS`` keyed by id; keeps the requests."""

    answers = mmmu.ANSWERS


mirror = fixture_mirror(mmmu.build)


def _size(part: Image) -> tuple[int, int]:
    from PIL import Image as PILImage

    assert part.raw is not None
    return PILImage.open(io.BytesIO(part.raw)).size


def test_prompt_text_is_the_official_format() -> None:
    mc = {"id": "v_A_1", "question": "Q?", "options": "['x', 'y']", "question_type": "multiple-choice"}
    # construct_prompt with llava1.5.yaml: "{}\n{}\nAnswer..." where the options block is "(A) x\n(B) y\n"
    assert utils.prompt_text(mc, {"pre_prompt": "", "post_prompt": None}) == "Q?\n(A) x\n(B) y\n" + MC_INSTRUCTION
    opened = {"id": "v_A_2", "question": "Q?", "options": "[]", "question_type": "open"}
    assert utils.prompt_text(opened, {}) == "Q?" + OPEN_INSTRUCTION
    # a post_prompt string (the reasoning variant) replaces the instruction of either type
    assert utils.prompt_text(mc, {"post_prompt": REASONING}) == "Q?\n(A) x\n(B) y\n" + REASONING
    assert utils.prompt_text(opened, {"pre_prompt": "Hi. ", "post_prompt": ""}) == "Hi. Q?"


def test_images_stand_where_their_tags_stand() -> None:
    doc = mmmu.validation_rows()[0]  # "Compare <image 1> and <image 2>. ..." options <image 1>, <image 2>
    (message,) = utils.doc_to_messages(doc, {"post_prompt": None})
    parts = message.content
    kinds = [p.type for p in parts]
    assert kinds == ["text", "image", "text", "image", "text", "image", "text", "image", "text"]
    texts = [p.text for p in parts if isinstance(p, Text)]
    assert texts == ["Compare ", " and ", ". Which is older?\n(A) ", "\n(B) ", "\n(C) Same age\n" + MC_INSTRUCTION]
    # image_1 is 64x48, image_2 32x64: question order 1, 2, then options 1, 2 (each tag sends its
    # image, so an image named twice is sent twice); image_3 (16x16) has no tag and is not sent
    sizes = [_size(p) for p in parts if isinstance(p, Image)]
    assert sizes == [(64, 48), (32, 64), (64, 48), (32, 64)]


def test_tag_of_an_empty_image_column_is_the_samples_error() -> None:
    doc = {**mmmu.validation_rows()[1], "question": "Compare <image 1> with <image 2>."}  # image_2 empty
    with pytest.raises(SampleError, match="'validation_Art_Theory_2'.*<image 2>.*'image_2' is empty"):
        utils.doc_to_messages(doc, {})


def test_mmmu_val_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mmmu_val", "mmmu_test"], TableModel())
    res = results["results"]
    val = res["mmmu_val"]
    # official (per hub.mmmu.ANSWERS): right = Art_Theory_1 "(A)", Math_1 3.43, Math_2 -120,
    # Finance_1 7,243,000, Electronics_1 last bracket (C), History_1 option text, Clinical_Medicine_1
    # "'D'" -> 7 of 11. Wrong: Art_Theory_2 "Answer:C" (unparsed), Finance_2 raw <answer>D</answer>
    # (unparsed), Finance_3 100 vs 1000, Electronics_2 (unparsed).
    assert val["mmmu_acc,none"] == pytest.approx(7 / 11)
    # lenient: + Art_Theory_2 (C), + Finance_2 (<answer>D), - Electronics_1 (two brackets: none),
    # - Clinical_Medicine_1 ('D' missed): 7 + 2 - 2 = 7 of 11, on other samples
    assert val["mmmu_acc_lenient,none"] == pytest.approx(7 / 11)
    # parsed: all but Art_Theory_2, Finance_2, Electronics_2 -> 8 of 11 (open answers are all non-empty)
    assert val["mmmu_parse_rate,none"] == pytest.approx(8 / 11)
    # per subject (mean over its samples): Finance 1 right of 3, Art_Theory 1 of 2, Math 2 of 2
    assert val["mmmu_acc,none,subject=Finance"] == pytest.approx(1 / 3)
    assert val["mmmu_acc,none,subject=Art_Theory"] == pytest.approx(1 / 2)
    assert val["mmmu_acc,none,subject=Math"] == pytest.approx(1.0)
    assert val["mmmu_acc_lenient,none,subject=Electronics"] == pytest.approx(0.0)  # 0 of 2
    # per discipline: Business = Finance (1/3); Tech and Engineering = Electronics (1/2);
    # Health and Medicine = Clinical_Medicine (1/1)
    assert val["mmmu_acc,none,discipline=Business"] == pytest.approx(1 / 3)
    assert val["mmmu_acc,none,discipline=Tech and Engineering"] == pytest.approx(1 / 2)
    assert val["mmmu_acc,none,discipline=Health and Medicine"] == pytest.approx(1.0)
    assert val["breakdown_n"]["discipline"]["Science"] == 2

    # the logged prompt of the interleaved item: parts in reading order
    record = records(run_dir, "mmmu_val")["validation_Art_Theory_1"]
    kinds = [p["type"] for m in record["prompt"] for p in m["content"]]
    assert kinds == ["text", "image", "text", "image", "text", "image", "text", "image", "text"]
    assert record["prompt"][0]["content"][-1]["text"].endswith("(C) Same age\n" + MC_INSTRUCTION)
    assert TableModel.requests["validation_Math_1"].prompt_text().endswith("in ." + OPEN_INSTRUCTION)

    # the file main_eval_only.py scores: letters (""= unparsed), open responses as given
    val_file = json.loads((run_dir / "submissions" / "mmmu_val_output.json").read_text())
    assert val_file["validation_Electronics_1"] == "C" and val_file["validation_Art_Theory_2"] == ""
    assert val_file["validation_Math_1"] == "The answer is 3.429"
    assert len(val_file) == 11

    # test split: prediction only; the EvalAI file maps id -> letter / response
    test = res["mmmu_test"]
    # parsed: test_Art_1 "B", test_Physics_1 non-empty open; test_Physics_2 "not sure" unparsed -> 2/3
    assert test["mmmu_parse_rate,none"] == pytest.approx(2 / 3)
    assert "mmmu_acc,none" not in test
    test_file = json.loads((run_dir / "submissions" / "mmmu_test_for_submission.json").read_text())
    assert test_file == {"test_Art_1": "B", "test_Physics_1": "42 m/s", "test_Physics_2": ""}


def test_mmmu_val_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["mmmu_val"], TableModel(), prompt_variant="reasoning")[0]["results"]
    val = res["mmmu_val"]
    # the <answer> content of Finance_2 ("D") is scored: official 7 + 1 = 8 of 11; parsed 8 + 1 = 9;
    # lenient already read it: 7 of 11
    assert val["mmmu_acc,none"] == pytest.approx(8 / 11)
    assert val["mmmu_parse_rate,none"] == pytest.approx(9 / 11)
    assert val["mmmu_acc_lenient,none"] == pytest.approx(7 / 11)
    request = TableModel.requests["validation_Finance_2"]
    assert request.prompt_text().endswith("(D) Z\n" + REASONING)
    assert TableModel.requests["validation_Math_2"].prompt_text().endswith("angle in ?" + REASONING)
    assert request.params.max_new_tokens == 4096
