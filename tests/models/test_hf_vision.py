"""The Hugging Face vision/video/audio adapters, end to end on tiny random checkpoints (CPU).

Every checkpoint is built offline by ``tiny_vision`` once per session and loaded through the
adapter's real ``from_pretrained`` path, so the real processors, chat templates and
``generate`` run. Outputs of random models are gibberish; the tests check structure (token
counts, frame choices, prompt lengths) and invariants (batch size must not change greedy
outputs; right padding would).
"""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("torchvision")

sys.path.insert(0, os.path.dirname(__file__))

import tiny_vision as tv  # noqa: E402
import torch  # noqa: E402

from lmms_eval.api.errors import UsageError  # noqa: E402
from lmms_eval.api.generation import GenerationParams  # noqa: E402
from lmms_eval.api.messages import Audio, Image, Message, Text, Video  # noqa: E402
from lmms_eval.api.registry import MODELS  # noqa: E402
from lmms_eval.api.request import Request  # noqa: E402
from lmms_eval.media import FrameSampling, VideoClip, sample_frame_indices, video_backends  # noqa: E402
from lmms_eval.models.hf import placement as hp  # noqa: E402
from lmms_eval.models.hf.chat import to_hf_chat  # noqa: E402
from lmms_eval.models.hf.generation import completion_lengths  # noqa: E402
from lmms_eval.models.hf_chat import HFChat  # noqa: E402
from lmms_eval.models.llava_onevision import LlavaOneVision  # noqa: E402
from lmms_eval.models.llava_vid import LlavaVid, time_instruction  # noqa: E402
from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL  # noqa: E402

GEN = {"max_new_tokens": 6}


def req(doc_id, *parts, role="user", **gen):
    params = GenerationParams.from_kwargs({**GEN, **gen})
    return Request(task="t", doc_id=doc_id, messages=[Message(role, list(parts))], params=params)


# --------------------------------------------------------------------------- pure helpers


def test_completion_lengths_ignore_padding_after_an_early_stop():
    rows = torch.tensor([[5, 6, 2, 0, 0], [5, 6, 7, 8, 9], [5, 0, 0, 0, 0]])
    assert completion_lengths(rows, eos_ids=[2], pad_id=0) == [3, 5, 1]


def test_llava_video_sampling_and_time_instruction():
    def stride(total, native, fps, max_frames, force=False):
        return sample_frame_indices(total, native, FrameSampling(fps, max_frames, mode="stride", force_count=force))

    # 10 s at 30 fps, 1 fps -> every 30th frame.
    assert stride(300, 30.0, 1.0, 64) == list(range(0, 300, 30))
    # Too many -> max_frames uniform frames, linspace(0, 299, 8) truncated.
    assert stride(300, 30.0, 1.0, 8) == [0, 42, 85, 128, 170, 213, 256, 299]
    assert stride(300, 30.0, 1.0, 4, force=True) == [0, 99, 199, 299]
    assert stride(5, None, 1.0, 64) == [0, 1, 2, 3, 4]
    clip = VideoClip(
        np.zeros((2, 4, 4, 3), np.uint8), [0, 30], [0.0, 1.0], total_frames=60, native_fps=30.0, backend="x"
    )
    assert time_instruction(clip) == (
        "The video lasts for 2.00 seconds, and 2 frames are uniformly sampled from it. These frames are located "
        "at 0.00s,1.00s.Please answer the following questions related to this video."
    )
    clip.native_fps, clip.timestamps = None, None
    assert time_instruction(clip) is None


def test_to_hf_chat_keeps_media_order_and_adds_system_prompt():
    img, vid = Image(data=tv.make_images(1)[0]), Video(frames=tv.make_frames(2))
    msgs = [Message("user", [Text("a"), img, Text("b"), vid])]
    chat = to_hf_chat(msgs, system_prompt="Be brief.")
    assert chat.messages == [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "a"},
                {"type": "image"},
                {"type": "text", "text": "b"},
                {"type": "video"},
            ],
        },
    ]
    assert chat.images == [img] and chat.videos == [vid]
    own = [Message("system", [Text("sys")]), Message("user", [Text("q")])]
    assert to_hf_chat(own, system_prompt="ignored").messages[0]["content"][0]["text"] == "sys"


def test_dtype_device_attention_resolution():
    assert hp.resolve_dtype("auto", "cpu") == torch.float32
    assert hp.resolve_dtype("bf16", "cpu") == torch.bfloat16
    assert hp.resolve_dtype("float16", "cuda") == torch.float16
    with pytest.raises(UsageError):
        hp.resolve_dtype("int3", "cpu")
    if not torch.cuda.is_available():
        assert hp.resolve_device("auto") == "cpu"
        with pytest.raises(UsageError):
            hp.resolve_device("cuda:0")
    assert hp.resolve_attn_implementation(None, "cpu", torch.float32) == "sdpa"
    assert hp.resolve_attn_implementation("eager", "cpu", torch.float32) == "eager"
    with pytest.raises(UsageError, match="flash_attention_2"):
        hp.resolve_attn_implementation("flash_attention_2", "cpu", torch.float32)


# --------------------------------------------------------------------------- adapters


@pytest.fixture(scope="module")
def qwen():
    model = Qwen2_5_VL.from_args(f"pretrained={tv.tiny_qwen2_5_vl()},batch_size=8,max_frames=8")
    yield model
    model.close()


@pytest.fixture(scope="module")
def llava():
    model = LlavaOneVision.from_args(f"pretrained={tv.tiny_llava_onevision()},batch_size=8,max_frames=6")
    yield model
    model.close()


def mixed_requests():
    """Requests of very different lengths and modalities (images, multi-image, video, text)."""
    imgs = tv.make_images(4)
    frames = tv.make_frames(8)
    return [
        req(0, Image(data=imgs[0]), Text("What is shown?")),
        req(1, Text("Describe the video in one sentence, then count the frames."), Video(frames=frames)),
        req(2, Text("hello")),
        req(3, Image(data=imgs[1]), Image(data=imgs[2]), Text("Which option is correct? A. cat B. dog")),
        req(4, Image(data=imgs[3]), Text("Answer with a single word: what colour is the square?")),
    ]


def assert_batch_invariant(model, requests):
    """Greedy outputs at batch N equal batch 1; right padding (the classic bug) would change them."""
    singles = [model.generate([r])[0] for r in requests]
    batched = model.generate(requests)
    for s, b in zip(singles, batched):
        assert s.error is None and b.error is None
        assert b.completion_tokens and b.completion_tokens > 0 and b.text
        assert (b.text, b.prompt_tokens, b.completion_tokens) == (s.text, s.prompt_tokens, s.completion_tokens)
    assert len({s.prompt_tokens for s in singles}) >= 3  # really mixed lengths, so padding is exercised
    assert [b.batch_size for b in batched] == [len(requests)] * len(requests)  # one generate call
    assert {s.batch_size for s in singles} == {1}
    model.padding_side = "right"
    try:
        right = model.generate(requests)
    finally:
        model.padding_side = "left"
    assert any(r.text != s.text for r, s in zip(right, singles)), "test inputs cannot detect padding bugs"


def test_qwen_image_end_to_end(qwen):
    (r,) = qwen.generate([req(0, Image(data=tv.make_images(1)[0]), Text("What is shown?"))])
    assert r.error is None and r.text and r.completion_tokens == 6
    assert r.prompt_tokens > 20 and r.latency_s > 0
    info = qwen.describe()
    assert info["resolved"]["dtype"] == "float32" and info["resolved"]["device"] == "cpu"
    assert info["resolved"]["model_class"] == "Qwen2_5_VLForConditionalGeneration"
    assert info["args"]["batch_size"] == 8 and qwen.max_batch_size == 8


def test_qwen_video_from_frames_and_file(qwen, tmp_path):
    frames = tv.make_frames(12)
    (r,) = qwen.generate([req(0, Video(frames=frames), Text("Describe the video."))])
    assert r.error is None and r.text and r.extra["video_frames"] == [8]
    (r4,) = qwen.generate([req(0, Video(frames=frames, max_frames=4), Text("Describe the video."))])
    # 56x56 frames -> 2x2 merged patches per frame pair: 8 frames = 16 tokens, 4 frames = 8 tokens.
    assert r4.extra["video_frames"] == [4] and r.prompt_tokens - r4.prompt_tokens == 8
    path = tv.write_video(tmp_path / "clip.mp4", frames, fps=4.0)
    if path is None or not video_backends():
        pytest.skip("no video reader/writer installed")
    (rf,) = qwen.generate([req(0, Video(path=path, fps=2.0), Text("Describe the video."))])
    assert rf.error is None and rf.text and rf.extra["video_frames"] == [6]


def test_qwen_pixel_budget_and_system_prompt():
    path = tv.tiny_qwen2_5_vl()
    image = Image(data=tv.make_images(5)[4])  # 112x84
    base = Qwen2_5_VL.from_args(f"pretrained={path}")
    small = Qwen2_5_VL.from_args(f"pretrained={path},max_pixels={28 * 28 * 4},system_prompt='Be brief.'")
    (a,) = base.generate([req(0, image, Text("q"))])
    (b,) = small.generate([req(0, image, Text("q"))])
    # 112x84 fits the checkpoint's budget as a 4x3 grid of 28 px cells -> 12 tokens. Capped at
    # 4 cells: scale by sqrt(9408 / 3136) = 1.73 and floor to 28 px -> 56x28 -> 2 tokens.
    # The rest of the difference is the shorter system prompt.
    n_sys = len(base.tokenizer("You are a helpful assistant.")["input_ids"])
    n_brief = len(base.tokenizer("Be brief.")["input_ids"])
    assert a.prompt_tokens - b.prompt_tokens == (12 - 2) + (n_sys - n_brief)
    with pytest.raises(UsageError, match="min_pixels"):
        Qwen2_5_VL.from_args(f"pretrained={path},min_pixels=10,max_pixels=5")


def test_qwen_batch_equals_single(qwen):
    assert_batch_invariant(qwen, mixed_requests())


def test_qwen_stop_strings_cut_generation(qwen):
    image = Image(data=tv.make_images(1)[0])
    (full,) = qwen.generate([req(0, image, Text("What is shown?"), max_new_tokens=12)])
    stop = full.text[len(full.text) // 2 :][:2]
    assert stop and stop in full.text
    (cut,) = qwen.generate([req(0, image, Text("What is shown?"), max_new_tokens=12, until=[stop])])
    assert cut.text == full.text[: full.text.index(stop)]
    assert cut.completion_tokens < full.completion_tokens  # generation really stopped early


def test_qwen2_vl_name_serves_qwen2_checkpoints():
    cls = MODELS.get("qwen2_vl")
    assert cls is Qwen2_5_VL
    model = cls.from_args(f"pretrained={tv.tiny_qwen2_vl()}")
    assert model.describe()["resolved"]["model_class"] == "Qwen2VLForConditionalGeneration"
    (r,) = model.generate(
        [
            req(0, Image(data=tv.make_images(1)[0]), Text("q")),
        ]
    )
    assert r.error is None and r.text and r.completion_tokens == 6


def test_llava_onevision_images_video_and_batching(llava):
    imgs = tv.make_images(3)
    single, multi, video = llava.generate(
        [
            req(0, Image(data=imgs[0]), Text("q")),
            req(1, Image(data=imgs[1]), Image(data=imgs[2]), Text("q")),
            req(2, Video(frames=tv.make_frames(8)), Text("q")),
        ]
    )
    for r in (single, multi, video):
        assert r.error is None and r.text and r.completion_tokens == 6
    assert video.extra["video_frames"] == [6]
    assert llava.describe()["resolved"]["model_class"] == "LlavaOnevisionForConditionalGeneration"
    assert_batch_invariant(llava, mixed_requests())


def test_llava_vid_one_fps_sampling_and_time_instruction():
    path = tv.tiny_llava_onevision()
    frames = tv.make_frames(12)  # at 4 fps = 3 s
    plain = LlavaVid.from_args(f"pretrained={path},max_frames=8,batch_size=8")
    timed = LlavaVid.from_args(f"pretrained={path},max_frames=8,add_time_instruction=true")
    forced = LlavaVid.from_args(f"pretrained={path},max_frames=5,force_sample=true")
    r = req(0, Video(frames=frames, fps=4.0), Text("q"))
    (a,) = plain.generate([r])
    (b,) = timed.generate([r])
    (c,) = forced.generate([r])
    assert a.extra["video_frames"] == [3]  # 1 fps over 3 s: frames 0, 4, 8
    assert c.extra["video_frames"] == [5]
    sentence = time_instruction(VideoClip(np.zeros((3, 1, 1, 3), np.uint8), [0, 4, 8], [0.0, 1.0, 2.0], 12, 4.0, "f"))
    assert "0.00s,1.00s,2.00s" in sentence
    assert b.prompt_tokens - a.prompt_tokens == len(plain.tokenizer("\n" + sentence + "\n")["input_ids"])
    assert_batch_invariant(plain, mixed_requests())


def test_hf_chat_picks_the_auto_class_and_runs_audio():
    vision = HFChat.from_args(f"pretrained={tv.tiny_qwen2_5_vl()}")
    assert vision.describe()["resolved"]["model_class"] == "Qwen2_5_VLForConditionalGeneration"
    (r,) = vision.generate([req(0, Image(data=tv.make_images(1)[0]), Text("q"))])
    assert r.error is None and r.text

    audio = HFChat.from_args(f"pretrained={tv.tiny_qwen2_audio()},batch_size=4")
    assert audio.describe()["resolved"]["model_class"] == "Qwen2AudioForConditionalGeneration"
    requests = [
        req(
            i,
            Audio(array=tv.make_tone(0.4 + 0.5 * i, 300.0 + 150 * i), sampling_rate=16000),
            Text("What is this sound?" * (i + 1)),
        )
        for i in range(3)
    ]
    # A 44.1 kHz input is resampled to the feature extractor's 16 kHz: same length in tokens.
    (r441,) = audio.generate(
        [req(9, Audio(array=np.zeros(44100 // 2, np.float32), sampling_rate=44100), Text("What is this sound?"))]
    )
    (r16,) = audio.generate(
        [req(9, Audio(array=np.zeros(8000, np.float32), sampling_rate=16000), Text("What is this sound?"))]
    )
    assert r441.prompt_tokens == r16.prompt_tokens
    assert_batch_invariant(audio, requests)
    with pytest.raises(UsageError, match="model_class"):
        HFChat.from_args(f"pretrained={tv.tiny_qwen2_audio()},model_class=NoSuchClass")


def test_hf_chat_text_only_model_takes_text_and_refuses_media():
    model = HFChat.from_args(f"pretrained={tv.tiny_text_lm()},batch_size=4")
    info = model.describe()["resolved"]
    assert info["model_class"] == "Qwen2ForCausalLM" and info["accepts"] == ["text"]
    requests = [req(i, Text("Question: which option is correct? " * (i + 1))) for i in range(3)]
    out = model.generate(requests + [req(9, Image(data=tv.make_images(1)[0]), Text("q"))])
    assert all(r.error is None and r.text for r in out[:3])
    assert out[3].error and "does not take image" in out[3].error
    assert_batch_invariant(model, requests)


def test_per_request_failures_and_bad_args(qwen, tmp_path):
    good = req(0, Image(data=tv.make_images(1)[0]), Text("q"))
    missing = req(1, Image(path=str(tmp_path / "nope.png")), Text("q"))
    audio = req(2, Audio(array=np.zeros(1600, np.float32), sampling_rate=16000), Text("q"))
    out = qwen.generate([good, missing, audio])
    assert out[0].error is None and out[0].text
    assert out[1].error and "nope.png" in out[1].error
    assert out[2].error and "does not take audio" in out[2].error
    with pytest.raises(UsageError, match="no argument 'max_pixel'"):
        Qwen2_5_VL.from_args(f"pretrained={tv.tiny_qwen2_5_vl()},max_pixel=5")
    with pytest.raises(UsageError, match="cannot load"):
        Qwen2_5_VL.from_args(f"pretrained={tmp_path / 'no-such-model'}")
    bare = tmp_path / "no-template"
    shutil.copytree(tv.tiny_qwen2_5_vl(), bare)
    (bare / "chat_template.jinja").unlink()
    with pytest.raises(UsageError, match="no chat template"):
        Qwen2_5_VL.from_args(f"pretrained={bare}")


def test_cli_batch_size_batches_the_adapter_and_the_model_arg_only_caps_it(tmp_path):
    """`--batch_size 4` alone runs the adapter at batch 4 (it ran at 1 before); batch_size= only caps."""
    import json

    from lmms_eval.cli.main import main

    tasks = tmp_path / "tasks"
    (tasks / "img").mkdir(parents=True)
    with open(tasks / "pics.jsonl", "w") as fh:
        for i, image in enumerate(tv.make_images(8)):
            image.save(tasks / "img" / f"{i}.png")
            fh.write(json.dumps({"id": i, "image": f"img/{i}.png", "q": "What is shown?" * (1 + i % 3)}) + "\n")
    (tasks / "pics.yaml").write_text(
        "task: pics\ndataset_path: json\ndataset_kwargs: {data_files: pics.jsonl}\ntest_split: train\n"
        "doc_to_visual: image\ndoc_to_text: q\ndoc_to_target: '{{id}}'\nmetric_list: [{metric: exact_match}]\n"
        "generation_kwargs: {max_new_tokens: 3}\n"
    )

    def batch_sizes(model_args: str, out: str) -> list[int]:
        argv = [
            "--model",
            "qwen2_5_vl",
            "--model_args",
            f"pretrained={tv.tiny_qwen2_5_vl()}{model_args}",
            "--tasks",
            "pics",
            "--include_path",
            str(tasks),
            "--batch_size",
            "4",
            "--output_path",
            str(tmp_path / out),
            "--no_progress",
            "--max_error_rate",
            "1",
        ]
        assert main(argv) == 0
        (log,) = (tmp_path / out).rglob("samples_pics.jsonl")
        records = [json.loads(line) for line in log.read_text().splitlines()]
        assert len(records) == 8 and all(r["status"] == "ok" for r in records)
        return [r["usage"]["batch_size"] for r in records]

    assert batch_sizes("", "plain") == [4] * 8
    assert batch_sizes(",batch_size=2", "capped") == [2] * 8


def test_renamed_model_args_say_the_new_name():
    with pytest.raises(UsageError, match="'max_frames_num' is now 'max_frames'"):
        LlavaVid.from_args(f"pretrained={tv.tiny_llava_onevision()},max_frames_num=8")
