"""MME-RealWorld on hub-shaped fixtures: base64 images, the official prompt and extraction, the
breakdowns (per Task/Subtask with MGPO's macro "overall", per Task, per fine category), the
reasoning variant, the lite/full/CN tasks and the 6000x4000 image reaching the model as stored."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from scripted_model import ScriptedConfig

from hub import common, mme_realworld
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.api.request import Request
from lmms_eval.media.image import load_image
from lmms_eval.tasks.mme_realworld import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

INSTRUCTION = (
    "\nSelect the best answer to the above multiple-choice question based on the image. Respond with only "
    "the letter (A, B, C, D, or E) of the correct option.\nThe best answer is:"
)


class TableModel(common.TableModel):
    """Replies from ``mme_realworld.ANSWERS`` by index (CN rows: "C"); keeps prompts and image sizes."""

    answers = {str(index): reply for index, reply in mme_realworld.ANSWERS.items()}
    recorders = (*common.TableModel.recorders, "sizes")
    sizes: ClassVar[dict[str, list[tuple[int, int]]]]

    def keep(self, r: Request) -> None:
        super().keep(r)
        if self.config.decode:
            self.record("sizes", r, [load_image(part).size for part in r.images()])

    def reply(self, r: Request) -> str:
        return "C" if r.task == "mme_realworld_cn" else super().reply(r)


mirror = fixture_mirror(mme_realworld.build)


AD, MO, DT = mme_realworld.AD, mme_realworld.MO, mme_realworld.DT


def test_lite_official_rule_and_breakdowns(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mme_realworld_lite"], TableModel(ScriptedConfig(decode=True)))
    res = results["results"]["mme_realworld_lite"]
    # per index (official extraction): 0 "D" right; 1 "The best answer is B" -> B right; 2 "Based on the
    # image, C" -> B (of "Based") wrong; 3 "red car" -> inside option (A): A right; 4 "" unparsed wrong;
    # 5 raw "<think>Bars: ..." -> B (of "Bars") wrong; 6 "B" right -> 0, 1, 3, 6 = 4/7; parsed all but 4 = 6/7
    assert res["mme_realworld_acc,none"] == pytest.approx(4 / 7)
    assert res["mme_realworld_parse_rate,none"] == pytest.approx(6 / 7)
    # lenient (shared extractor): 0, 1 right; 2 -> standalone C right; 3 "red car" names no whole option
    # text: unparsed; 4 unparsed; 5 <answer>C</answer> right; 6 right -> 5/7
    assert res["mme_realworld_acc_lenient,none"] == pytest.approx(5 / 7)
    # per Task/Subtask: AD = 0, 1 -> 2/2; MO = 2, 3, 6 -> 2/3; DT = 4, 5 -> 0/2
    assert res[f"mme_realworld_acc,none,category={AD}"] == pytest.approx(1.0)
    assert res[f"mme_realworld_acc,none,category={MO}"] == pytest.approx(2 / 3)
    assert res[f"mme_realworld_acc,none,category={DT}"] == pytest.approx(0.0)
    # MGPO's "overall": the unweighted mean over the categories = (1 + 2/3 + 0) / 3 = 5/9 (micro: 4/7)
    assert res["mme_realworld_acc_macro_category,none"] == pytest.approx(5 / 9)
    # per Task: Perception = 0, 1, 2, 3, 6 -> 4/5; Reasoning = 4, 5 -> 0/2
    assert res["mme_realworld_acc,none,task_type=Perception"] == pytest.approx(4 / 5)
    assert res["mme_realworld_acc,none,task_type=Reasoning"] == pytest.approx(0.0)
    # fine categories, lower-cased, "attribute" ones merged: person/attribute = 2, 3 -> 1/2
    assert res[f"mme_realworld_acc,none,l2_category={MO}/person/attribute"] == pytest.approx(1 / 2)
    assert res[f"mme_realworld_acc,none,l2_category={MO}/vehicle/counting"] == pytest.approx(1.0)
    assert res[f"mme_realworld_acc,none,l2_category={AD}/objects_identify"] == pytest.approx(1.0)
    assert results["n-samples"]["mme_realworld_lite"]["effective"] == 7

    # the official prompt (evaluation/model_vqa_mme_real_world.py) and the image as stored
    key = "mme_realworld_lite:0"
    assert TableModel.prompts[key] == (
        "What is in front of the ego car? The choices are listed below: \n(A) A truck\n(B) A bus\n(C) A bicycle\n"
        "(D) Many cars\n(E) The image does not feature the object." + INSTRUCTION
    )
    assert TableModel.sizes[f"mme_realworld_lite:{mme_realworld.BIG_INDEX}"] == [mme_realworld.BIG_SIZE]
    assert TableModel.sizes[key] == [(64, 64)]
    record = records(run_dir, "mme_realworld_lite")["3"]
    assert record["target"] == "A"
    assert "bytes" not in record["doc"] and record["doc"]["question"]  # the base64 image is not logged
    assert (
        record["scores"]["mme_realworld_acc,none"] == 1.0 and record["scores"]["mme_realworld_acc_lenient,none"] == 0.0
    )


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["mme_realworld_lite"], TableModel(), prompt_variant="reasoning")
    res = results["results"]["mme_realworld_lite"]
    # 5 is reduced to "C": right; the others as before -> 0, 1, 3, 5, 6 = 5/7
    assert res["mme_realworld_acc,none"] == pytest.approx(5 / 7)
    assert res[f"mme_realworld_acc,none,category={DT}"] == pytest.approx(1 / 2)
    # macro: (1 + 2/3 + 1/2) / 3 = 13/18
    assert res["mme_realworld_acc_macro_category,none"] == pytest.approx(13 / 18)
    assert TableModel.prompts["mme_realworld_lite:1"].endswith("(E) The image does not feature the object." + REASONING)


def test_full_and_cn_tasks_load(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["mme_realworld", "mme_realworld_cn"], TableModel())
    res = results["results"]
    assert res["mme_realworld"]["mme_realworld_acc,none"] == pytest.approx(4 / 7)  # same rows as lite
    # CN: the model says "C" to both: row 0 (answer C) right, row 1 (answer B) wrong -> 1/2
    assert res["mme_realworld_cn"]["mme_realworld_acc,none"] == pytest.approx(1 / 2)
    assert TableModel.prompts["mme_realworld_cn:0"] == (
        "自车前方是什么？ 选项如下所示:\n(A) 一辆卡车\n(B) 一辆公交车\n(C) 许多汽车\n(D) 一只狗\n(E) 图中没有该物体"
        "\n根据图像选择上述多项选择题的最佳答案。只需回答正确选项的字母（A, B, C, D 或 E）。\n最佳答案为："
    )


def test_corrupt_image_cell_is_one_sample_error() -> None:
    with pytest.raises(SampleError, match=r"index=7.*not valid base64"):
        utils.doc_to_visual({"index": 7, "bytes": "not base64!"})
    with pytest.raises(SampleError, match=r"index=8.*not an image"):
        utils.doc_to_visual({"index": 8, "bytes": "aGVsbG8="})  # b"hello"
    with pytest.raises(SampleError, match=r"index=9.*not a base64 image string"):
        utils.doc_to_visual({"index": 9, "bytes": None})
    cell = mme_realworld.rows()[0]
    (image,) = utils.doc_to_visual(cell)
    assert image["path"] == "mme_realworld_0.png" and image["bytes"].startswith(b"\x89PNG")
