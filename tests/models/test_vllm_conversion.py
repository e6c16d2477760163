"""The vLLM adapter without vLLM: request -> engine input conversion, SamplingParams mapping,
output handling, the guarded import, and the data-parallel process pool (with a fake engine)."""

from __future__ import annotations

import importlib
import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from lmms_eval.api.errors import UsageError  # noqa: E402
from lmms_eval.api.generation import GenerationParams  # noqa: E402
from lmms_eval.api.messages import Audio, Image, Message, Text, Video  # noqa: E402
from lmms_eval.api.request import Request  # noqa: E402
from lmms_eval.media import FrameSampling, MediaSpec  # noqa: E402
from lmms_eval.models import vllm_engine as ve  # noqa: E402
from lmms_eval.models.families import FAMILIES, ModelFamily  # noqa: E402


def test_module_imports_without_vllm_and_construction_says_how_to_install():
    importlib.reload(ve)  # importing never needs vllm
    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed here")
    with pytest.raises(UsageError) as err:
        ve.VLLM.from_args("pretrained=some/model")
    assert str(err.value) == "vllm is not installed: pip install 'lmms_eval[vllm]'"
    assert "\n" not in str(err.value)


def _render(messages, continue_final):
    """A stand-in chat template: role tags and a placeholder per media part."""
    out = []
    for m in messages:
        body = "".join(p["text"] if p["type"] == "text" else f"<{p['type']}>" for p in m["content"])
        out.append(f"[{m['role']}]{body}")
    return "".join(out) + ("" if continue_final else "[assistant]")


def _frames(n, w=32, h=24):
    from PIL import Image as PILImage

    return [PILImage.fromarray(np.full((h, w, 3), 10 * i, np.uint8)) for i in range(n)]


def test_request_to_vllm_input_images_video_audio_in_order():
    from PIL import Image as PILImage

    a, b = PILImage.new("RGB", (8, 8), "red"), PILImage.new("RGB", (8, 8), "blue")
    wave = np.linspace(-1, 1, 8000, dtype=np.float32)
    request = Request(
        "t",
        0,
        [
            Message(
                "user",
                [
                    Image(data=a),
                    Text("first"),
                    Video(frames=_frames(10), fps=5.0),
                    Image(data=b),
                    Audio(array=wave, sampling_rate=8000),
                    Text("?"),
                ],
            )
        ],
        GenerationParams(),
    )
    spec = MediaSpec(images=True, audio=True, video=FrameSampling(fps=1.0, max_frames=8))
    out = ve.request_to_vllm_input(request, _render, spec, system_prompt="sys")
    assert out["prompt"] == "[system]sys[user]<image>first<video><image><audio>?[assistant]"
    mm = out["multi_modal_data"]
    assert [np.asarray(i)[0, 0].tolist() for i in mm["image"]] == [[255, 0, 0], [0, 0, 255]]
    ((frames, meta),) = mm["video"]
    # 10 frames at 5 fps = 2 s; 1 fps -> 2 frames, first and last.
    assert frames.shape == (2, 24, 32, 3) and frames.dtype == np.uint8
    assert int(frames[1, 0, 0, 0]) == 90
    assert meta == {
        "total_num_frames": 10,
        "frames_indices": [0, 9],
        "video_backend": "frames",
        "do_sample_frames": False,
        "fps": 5.0,
        "duration": 2.0,
    }
    assert out["mm_processor_kwargs"] == {"do_sample_frames": False}
    ((audio, rate),) = mm["audio"]
    assert rate == 8000 and audio.shape == (8000,)


def test_request_to_vllm_input_text_only_and_prefill():
    request = Request("t", 0, [Message("user", [Text("hi")]), Message("assistant", [Text("Answer:")])])
    out = ve.request_to_vllm_input(request, _render, MediaSpec())
    assert out == {"prompt": "[user]hi[assistant]Answer:"}  # continues the assistant turn, no media keys
    no_metadata = ModelFamily("no_metadata", video_metadata=False)
    bare = ve.request_to_vllm_input(
        Request("t", 0, [Message("user", [Video(frames=_frames(4))])]), _render, MediaSpec(), traits=no_metadata
    )
    assert bare["multi_modal_data"]["video"][0].shape == (4, 24, 32, 3) and "mm_processor_kwargs" not in bare


def test_request_to_vllm_input_with_a_real_chat_template():
    """The tiny Qwen2.5-VL processor's template produces the placeholders vLLM expands."""
    pytest.importorskip("torchvision")
    import tiny_vision as tv
    from transformers import AutoProcessor

    proc = AutoProcessor.from_pretrained(tv.tiny_qwen2_5_vl())

    def render(messages, continue_final):
        return proc.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=not continue_final, continue_final_message=continue_final
        )

    request = Request(
        "t",
        0,
        [Message("user", [Image(data=tv.make_images(1)[0]), Text("Describe."), Video(frames=tv.make_frames(5))])],
    )
    qwen = FAMILIES["qwen2_5_vl"]
    spec = MediaSpec(images=True, video=ve.frame_sampling(qwen, None, 8))
    out = ve.request_to_vllm_input(request, render, spec, traits=qwen)
    assert out["prompt"].endswith(
        "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe."
        "<|vision_start|><|video_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n"
    )
    assert len(out["multi_modal_data"]["video"][0][1]["frames_indices"]) == 4  # paired frames: 5 -> 4


def test_outputs_become_responses():
    output = SimpleNamespace(
        prompt_token_ids=[1, 2, 3],
        outputs=[SimpleNamespace(text="B. dog\n\nQ:", token_ids=[7, 8, 9, 10], finish_reason="length")],
    )
    gen = ve.output_to_generated(output)
    assert gen == ve.Generated("B. dog\n\nQ:", 3, 4, "length")
    resp = ve.generated_to_response(gen, GenerationParams(until=["\n\n"]), 0.5, 3)
    assert resp.text == "B. dog" and resp.prompt_tokens == 3 and resp.completion_tokens == 4 and resp.batch_size == 3
    assert resp.latency_s == 0.5 and resp.extra == {"finish_reason": "length"} and resp.error is None


def test_engine_kwargs_pass_only_what_was_set():
    cfg = ve.VLLMConfig(
        pretrained="org/m",
        tensor_parallel_size=2,
        limit_mm_per_prompt={"image": 4},
        mm_processor_kwargs={"max_pixels": 1003520},
    )
    assert ve.engine_kwargs(cfg) == {
        "model": "org/m",
        "tensor_parallel_size": 2,
        "trust_remote_code": False,
        "limit_mm_per_prompt": {"image": 4},
        "mm_processor_kwargs": {"max_pixels": 1003520},
    }
    cfg = ve.VLLMConfig(pretrained="org/m", dtype="bfloat16", max_model_len=8192, engine_kwargs={"swap_space": 4})
    assert ve.engine_kwargs(cfg)["dtype"] == "bfloat16" and ve.engine_kwargs(cfg)["swap_space"] == 4
    with pytest.raises(UsageError, match="engine_kwargs repeats"):
        ve.engine_kwargs(ve.VLLMConfig(pretrained="org/m", max_model_len=10, engine_kwargs={"max_model_len": 5}))


def test_data_parallel_device_groups():
    assert ve.dp_device_groups(2, 2, "0,1,2,3") == ["0,1", "2,3"]
    assert ve.dp_device_groups(3, 1, "4,5,6,7") == ["4", "5", "6"]
    with pytest.raises(UsageError, match="needs 4 GPUs"):
        ve.dp_device_groups(2, 2, "0,1")


class FakeLLM:
    """A ``vllm.LLM`` stand-in: echoes the prompt, its image count and the replica's GPUs."""

    def __init__(self, kwargs):
        self.kwargs = kwargs

    def generate(self, prompts, params, use_tqdm=False):
        out = []
        for prompt, p in zip(prompts, params):
            n_img = len(prompt.get("multi_modal_data", {}).get("image", []))
            text = f"{prompt['prompt']}|{n_img}|{os.environ.get('CUDA_VISIBLE_DEVICES')}|{p['max_tokens']}"
            out.append(
                SimpleNamespace(
                    prompt_token_ids=[0] * len(prompt["prompt"]),
                    outputs=[SimpleNamespace(text=text, token_ids=[1], finish_reason="stop")],
                )
            )
        return out


def make_fake(kwargs):
    if kwargs.get("fail"):
        raise RuntimeError("no GPU here")
    return FakeLLM(kwargs)


def test_replica_pool_splits_batches_and_keeps_order():
    from PIL import Image as PILImage

    pool = ve.ReplicaPool(2, {"model": "m"}, ["0,1", "2,3"], factory="test_vllm_conversion:make_fake")
    try:
        prompts = [
            {"prompt": f"p{i}", "multi_modal_data": {"image": [PILImage.new("RGB", (4, 4))] * (i % 2)}}
            for i in range(5)
        ]
        params = [{"max_tokens": 10 + i} for i in range(5)]
        got = pool.generate(prompts, params)
        assert [g.text for g in got] == ["p0|0|0,1|10", "p1|1|0,1|11", "p2|0|0,1|12", "p3|1|2,3|13", "p4|0|2,3|14"]
        assert pool.generate(prompts[:1], params[:1])[0].text == "p0|0|0,1|10"  # a shard may be empty
    finally:
        pool.close()
    with pytest.raises(UsageError, match="replica 0 failed to start: RuntimeError: no GPU here"):
        ve.ReplicaPool(1, {"fail": True}, [None], factory="test_vllm_conversion:make_fake")
