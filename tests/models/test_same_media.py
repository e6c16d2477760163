"""One Video part and one Audio part through every adapter's preparation path: same frames, same waveform.

Every adapter decodes through ``lmms_eval.media`` with the same sampling rule, so a video file
sampled with ``max_frames`` gives identical frame indices (and pixels) in the ``transformers``
vision adapters, the vLLM conversion and the OpenAI-compatible client; a 44.1 kHz stereo file
gives the identical 16 kHz mono waveform in every audio adapter. (LLaVA-Video's stride rule is a
family trait, deliberately different, and tested in test_hf_vision.py.)
"""

from __future__ import annotations

import base64
import io
import os
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("torchvision")
av = pytest.importorskip("av")

sys.path.insert(0, os.path.dirname(__file__))

import tiny_audio as ta  # noqa: E402
import tiny_vision as tv  # noqa: E402
from PIL import Image as PILImage  # noqa: E402

from lmms_eval.api.generation import GenerationParams  # noqa: E402
from lmms_eval.api.messages import Audio, Message, Text, Video  # noqa: E402
from lmms_eval.api.request import Request  # noqa: E402
from lmms_eval.media import FrameSampling, load_audio, load_video  # noqa: E402
from lmms_eval.models import vllm_engine as ve  # noqa: E402
from lmms_eval.models.families import FAMILIES  # noqa: E402

MAX_FRAMES = 8
N_FRAMES = 20


@pytest.fixture(scope="module")
def video_file(tmp_path_factory) -> str:
    """20 frames at 10 fps whose gray level names the frame (12 * k), so a test can read which frame it got."""
    path = tmp_path_factory.mktemp("video") / "gray.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"qscale": "1"}
        for k in range(N_FRAMES):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 12 * k, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return str(path)


@pytest.fixture(scope="module")
def audio_file(tmp_path_factory) -> str:
    """1.5 s of stereo 44.1 kHz: a different tone per channel, so the mix-down matters."""
    import soundfile

    t = np.arange(int(44100 * 1.5)) / 44100
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 1000 * t)], axis=1)
    path = tmp_path_factory.mktemp("audio") / "stereo.wav"
    soundfile.write(path, stereo.astype(np.float32), 44100)
    return str(path)


def request(*parts) -> Request:
    return Request("same", 0, [Message("user", [*parts, Text("Describe it.")])], GenerationParams(max_new_tokens=2))


def gray_levels(frames: np.ndarray) -> list[int]:
    return [int(round(float(f.mean()) / 12)) for f in frames]


def test_same_frames_in_every_adapter(video_file):
    from lmms_eval.clients.media import to_openai_messages
    from lmms_eval.models.hf_chat import HFChat
    from lmms_eval.models.llava_onevision import LlavaOneVision
    from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL

    reference = load_video(Video(path=video_file), FrameSampling(max_frames=MAX_FRAMES))
    assert reference.indices == [0, 3, 5, 8, 11, 14, 16, 19]  # linspace(0, 19, 8) rounded: the one sampler
    assert gray_levels(reference.frames) == reference.indices  # and the reader returns those frames
    seen: dict[str, tuple[list[int], np.ndarray]] = {}

    for name, cls, path in (
        ("qwen2_5_vl", Qwen2_5_VL, tv.tiny_qwen2_5_vl()),
        ("llava_onevision", LlavaOneVision, tv.tiny_llava_onevision()),
        ("hf_chat", HFChat, tv.tiny_qwen2_5_vl()),
    ):
        model = cls.from_args(f"pretrained={path},max_frames={MAX_FRAMES}")
        try:
            (job,), extra = model.request_jobs(0, request(Video(path=video_file)))
            (clip,) = job.inputs.videos
            seen[name] = (clip.indices, clip.frames)
            assert extra["video_frames"] == [MAX_FRAMES]
        finally:
            model.close()

    # vLLM: the adapter's own media spec (a Qwen2.5-VL checkpoint's family, this max_frames)
    cfg = ve.VLLMConfig(pretrained="unused", max_frames=MAX_FRAMES)
    spec = ve.vllm_media_spec(cfg, FAMILIES["qwen2_5_vl"], processor=None)
    out = ve.request_to_vllm_input(
        request(Video(path=video_file)), lambda m, c: "p", spec, traits=FAMILIES["qwen2_5_vl"]
    )
    ((frames, meta),) = out["multi_modal_data"]["video"]
    seen["vllm"] = (meta["frames_indices"], frames)

    # OpenAI-compatible APIs: frames as lossless PNG data URLs, in order
    sampling = FrameSampling(max_frames=MAX_FRAMES)
    (message,) = to_openai_messages([request(Video(path=video_file)).messages[0]], sampling=sampling)
    urls = [p["image_url"]["url"] for p in message["content"] if p["type"] == "image_url"]
    decoded = np.stack([np.asarray(PILImage.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1])))) for u in urls])
    seen["openai_compat"] = (gray_levels(decoded), decoded)

    for name, (indices, frames) in seen.items():
        assert list(indices) == reference.indices, name
        assert np.array_equal(np.asarray(frames), reference.frames), name


def test_same_resampled_waveform_in_every_audio_adapter(audio_file):
    from lmms_eval.clients.media import audio_input
    from lmms_eval.models.aero import Aero
    from lmms_eval.models.hf_chat import HFChat
    from lmms_eval.models.qwen2_audio import Qwen2Audio
    from lmms_eval.models.whisper import Whisper

    reference, rate = load_audio(Audio(path=audio_file), 16000)
    assert rate == 16000 and reference.shape == (24000,)
    seen: dict[str, np.ndarray] = {}
    for name, cls, path in (
        ("qwen2_audio", Qwen2Audio, ta.build_tiny_qwen2_audio()),
        ("aero", Aero, ta.build_aero_stand_in()),
    ):
        model = cls.from_args(f"device=cpu,pretrained={path}")
        try:
            (job,), _ = model.request_jobs(0, request(Audio(path=audio_file)))
            (seen[name],) = job.inputs.clips
        finally:
            model.close()
    whisper = Whisper.from_args(f"device=cpu,pretrained={ta.build_tiny_whisper()}")
    try:
        from lmms_eval.models.hf.audio import request_audio

        (seen["whisper"],) = request_audio(request(Audio(path=audio_file)), whisper.rate)
    finally:
        whisper.close()
    chat = HFChat.from_args(f"pretrained={tv.tiny_qwen2_audio()}")
    try:
        (job,), _ = chat.request_jobs(0, request(Audio(path=audio_file)))
        (seen["hf_chat"],) = job.inputs.audios
    finally:
        chat.close()
    processor = type("Processor", (), {"feature_extractor": type("FE", (), {"sampling_rate": 16000})()})()
    spec = ve.vllm_media_spec(ve.VLLMConfig(pretrained="unused"), FAMILIES["qwen2_audio"], processor)
    out = ve.request_to_vllm_input(request(Audio(path=audio_file)), lambda m, c: "p", spec)
    ((wave, vllm_rate),) = out["multi_modal_data"]["audio"]
    assert vllm_rate == 16000
    seen["vllm"] = wave
    for name, wave in seen.items():
        assert np.array_equal(wave, reference), name

    # An API gets the file itself (a WAV is sent as it is; the server resamples it)
    import soundfile

    payload = audio_input(Audio(path=audio_file))
    data, native = soundfile.read(io.BytesIO(base64.b64decode(payload["data"])), dtype="float32")
    assert payload["format"] == "wav" and native == 44100 and data.shape == (66150, 2)
