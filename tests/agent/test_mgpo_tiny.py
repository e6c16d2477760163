"""MGPO's two-turn grounding with a real (tiny, random) Qwen2.5-VL on a high-resolution image.

The tiny model really runs both turns (processor, chat template, generate); only its turn-1 text
is replaced by a scripted box (a random model writes no JSON), so the test can check the crop the
loop sends in turn 2 against the box mapped back to the ORIGINAL image by hand, and the fallback
(original image again, MGPO's fallback text) for a box outside the image.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hub import vstar_bench
from hub.common import fixture_mirror, image_cell, write_hub_dataset

ORIG = (2400, 1600)
GOOD, BAD = "hi", "bad"
# turn-1 replies (in pixels of the model input: 112x84 for the tiny processor's 12,544-pixel budget)
BOXES = {
    GOOD: 'I look at the top left.\n```json\n[{"bbox_2d": [14, 21, 70, 63], "label": "flag"}]\n```\nmore text',
    BAD: '```json\n[{"bbox_2d": [10, 10, 200, 60], "label": "flag"}]\n```',
}


def gradient() -> Any:
    """2400x1600 RGB whose pixel (x, y) is (x % 256, y % 256, (x // 256 + y // 256) % 256): any
    crop offset shows in its pixels."""
    from PIL import Image

    x = np.arange(ORIG[0])[None, :]
    y = np.arange(ORIG[1])[:, None]
    rgb = np.stack(np.broadcast_arrays(x % 256, y % 256, (x // 256 + y // 256) % 256), axis=-1).astype(np.uint8)
    return Image.fromarray(rgb)


def build(root: Path) -> Path:
    rows = [
        vstar_bench._row(qid, "direct_attributes", "What is the color of the flag?", ["red", "blue"], "A", None)
        for qid in (GOOD, BAD)
    ]
    for row in rows:
        row["image"] = image_cell(gradient(), "PNG")
    return write_hub_dataset(
        root, vstar_bench.REPO_ID, {"default": {"test": rows}}, {"default": vstar_bench.features()}
    )


mirror = fixture_mirror(build)


@pytest.fixture(scope="module")
def tiny_model() -> str:
    from models.tiny_vision import tiny_qwen2_5_vl

    return tiny_qwen2_5_vl()


def grounding_model(pretrained: str) -> Any:
    """The real adapter, its turn-1 text replaced by the scripted box after generating."""
    from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL

    class Grounding(Qwen2_5_VL):
        sent: list[Any] = []

        def generate(self, requests: Any) -> Any:
            responses = super().generate(requests)
            for request, response in zip(requests, responses):
                self.sent.append(request)
                if not any(m.role == "assistant" for m in request.messages):
                    response.text = BOXES[str(request.doc_id)]
            return responses

    return Grounding.from_args({"pretrained": pretrained})


def test_mgpo_crops_the_original_image_at_the_mapped_box(mirror: Path, tiny_model: str, tmp_path: Path) -> None:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tools.crop import MGPO_SYSTEM_PROMPT, mgpo_process_image

    model = grounding_model(tiny_model)
    cfg = RunConfig(
        model="qwen2_5_vl",
        tasks=["vstar_bench"],
        output_path=str(tmp_path / "out"),
        show_progress=False,
        prompt_variant="mgpo",
        gen_kwargs={"max_new_tokens": 4},
        batch_size=2,
    )
    outcome = Evaluator(cfg, model=model).run()
    assert outcome.exit_code == 0, outcome.message
    assert model.image_pixel_limits()[1] == 12544
    turn2 = {str(r.doc_id): r for r in model.sent if any(m.role == "assistant" for m in r.messages)}
    assert sorted(turn2) == [BAD, GOOD] and len(model.sent) == 4  # 2 samples x 2 turns, batched per turn

    # by hand: process_image leaves 2400x1600 (3.84 MP) at int(2400*s) x int(1600*s), s = sqrt(1003520 / 3840000)
    # -> 1226x817; the processor's smart_resize at 12,544 pixels -> 112x84 (floor to multiples of 28).
    # Box (14, 21, 70, 63) on 112x84 -> original (int(14/112*2400), int(21/84*1600), ...) = (300, 400, 1500, 1200).
    request = turn2[GOOD]
    assert request.messages[0].text() == MGPO_SYSTEM_PROMPT
    first, crop = request.images()
    assert first.data.size == (1226, 817)
    expected = mgpo_process_image(gradient().crop((300, 400, 1500, 1200)))
    assert crop.data.size == expected.size == (1200, 800)
    assert np.array_equal(np.asarray(crop.data), np.asarray(expected))
    assert request.messages[2].text().startswith("I look at the top left.\n```json")  # cut after the block
    assert not request.messages[2].text().endswith("more text")
    assert request.messages[3].text().startswith("Based on the provided coordinates, return the sub-image:\n")
    assert "Question: What is the color of the flag? The choices are listed below:\n(A) red\n(B) blue\n" in (
        request.messages[3].text()
    )

    fallback = turn2[BAD]  # x2 = 200 > 112: MGPO's fallback, the processed original again
    assert np.array_equal(np.asarray(fallback.images()[1].data), np.asarray(mgpo_process_image(gradient())))
    assert fallback.messages[3].text().startswith("Not providing correct coordinates or invalid coordinate values")

    lines = (Path(outcome.run_dir) / "samples_vstar_bench.jsonl").read_text().splitlines()
    records = {r["doc_id"]: r for r in map(json.loads, lines)}
    good = records[GOOD]["extra"]["agent"]["grounding"]
    assert good["valid"] and good["box_original"] == [300, 400, 1500, 1200] and good["input_size"] == [112, 84]
    bad = records[BAD]["extra"]["agent"]["grounding"]
    assert not bad["valid"] and bad["reason"].startswith("x2 <= input width failed")
    assert records[BAD]["status"] == "ok"  # a failed grounding is data, not an error
    tool = [t for t in records[GOOD]["transcript"] if t["role"] == "tool"][0]
    assert tool["tool"] == "crop" and tool["grounding"]["cropped"] is True
    res = outcome.results["results"]["vstar_bench"]
    assert res["grounding_valid,agent"] == pytest.approx(0.5)
    assert res["turns,agent"] == pytest.approx(2.0)
    assert res["breakdown_n"]["grounding"] == {"invalid": 1, "valid": 1}
