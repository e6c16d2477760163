"""Hugging Face audio adapters (qwen2_audio, aero, whisper) on tiny offline checkpoints.

The checkpoints come from ``tiny_audio.py`` (random weights, offline BPE tokenizers, default
``WhisperFeatureExtractor``) and load through each adapter's real ``from_pretrained`` path. Aero
runs against a local remote-code stand-in (the tiny Qwen2-Audio model behind an ``auto_map``), so
its loading, chunking, batching and alignment logic are exercised, not Aero's own network.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_audio import RATE, build_aero_stand_in, build_tiny_qwen2_audio, build_tiny_whisper, chirps, noise, tone  # noqa: E402

from lmms_eval.api.errors import SampleError, UsageError  # noqa: E402
from lmms_eval.api.generation import GenerationParams  # noqa: E402
from lmms_eval.api.messages import Audio, Image, Message, Text  # noqa: E402
from lmms_eval.api.request import Request  # noqa: E402
from lmms_eval.models.hf import audio as hf_audio  # noqa: E402
from lmms_eval.models.hf.chat import chat_conversation  # noqa: E402

PROMPT = "Transcribe the audio into text."


def req(*waves: np.ndarray, doc: int = 0, text: str = PROMPT, rate: int = RATE, **gen_kwargs) -> Request:
    parts = [Audio(array=w, sampling_rate=rate) for w in waves]
    return Request(
        task="tiny",
        doc_id=doc,
        messages=[Message("user", [*parts, Text(text)])],
        params=GenerationParams.from_kwargs({"max_new_tokens": 6, **gen_kwargs}),
    )


def corrupt_request(tmp_path, doc: int) -> Request:
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x00\x00this is not audio")
    return Request(
        task="tiny",
        doc_id=doc,
        messages=[Message("user", [Audio(path=str(bad)), Text(PROMPT)])],
        params=GenerationParams(max_new_tokens=6),
    )


def texts(responses) -> list[str]:
    return [r.text for r in responses]


# ---- shared helpers (no model) ----------------------------------------------------------------


def test_split_helpers_cover_the_whole_wave():
    wave = np.arange(70 * 10, dtype=np.float32)  # 70 s at 10 Hz
    pieces = hf_audio.split_even(wave, 10, 30)
    assert [len(p) for p in pieces] == [233, 234, 233]
    assert np.array_equal(np.concatenate(pieces), wave)
    fixed, dropped = hf_audio.split_fixed(wave, 10, 30)
    assert [len(p) for p in fixed] == [300, 300, 100] and dropped == 0.0
    fixed, dropped = hf_audio.split_fixed(np.zeros(301, np.float32), 10, 30, min_tail_seconds=0.5)
    assert [len(p) for p in fixed] == [300] and dropped == pytest.approx(0.1)


def test_long_audio_policy():
    wave = np.zeros(70 * 10, np.float32)
    windows, info = hf_audio.apply_long_audio_policy(wave, 10, 30, "chunk", "tiny doc 1", "m")
    assert len(windows) == 3 and info == {"audio_windows": 3}
    windows, info = hf_audio.apply_long_audio_policy(wave, 10, 30, "truncate", "tiny doc 1", "m")
    assert [len(w) for w in windows] == [300] and info == {"truncated_audio_s": 40.0}
    with pytest.raises(SampleError, match="tiny doc 1.*70.0s.*long_audio=chunk"):
        hf_audio.apply_long_audio_policy(wave, 10, 30, "error", "tiny doc 1", "m")
    short, info = hf_audio.apply_long_audio_policy(wave[:100], 10, 30, "error", "x", "m")
    assert len(short) == 1 and info == {}


def test_request_audio_resamples_and_names_bad_samples(tmp_path):
    r = req(tone(2.0, rate=8000), rate=8000)
    (wave,) = hf_audio.request_audio(r, 16000)
    assert wave.dtype == np.float32 and abs(len(wave) - 32000) <= 1
    with pytest.raises(SampleError, match=r"tiny doc 7, audio 0: .*corrupt.wav"):
        hf_audio.request_audio(corrupt_request(tmp_path, 7), 16000)
    with pytest.raises(SampleError, match="empty"):
        hf_audio.request_audio(req(np.zeros(0, np.float32)), 16000)


def test_chat_conversation_expands_audio_parts_in_place():
    messages = [
        Message("system", [Text("Be brief.")]),
        Message("user", [Text("First:"), Audio(array=tone(1)), Text("Second:"), Audio(array=tone(1))]),
    ]
    conv = chat_conversation(messages, lambda n: [{"type": "audio", "n": n}] * (n + 1))
    assert conv[0] == {"role": "system", "content": "Be brief."}
    assert [c.get("n", c.get("text")) for c in conv[1]["content"]] == ["First:", 0, "Second:", 1, 1]


# ---- qwen2_audio ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qwen():
    from lmms_eval.models.qwen2_audio import Qwen2Audio

    return Qwen2Audio.from_args(f"device=cpu,pretrained={build_tiny_qwen2_audio()},batch_size=4")


def test_qwen2_audio_end_to_end_token_counts(qwen):
    a, b = qwen.generate([req(tone(3.0)), req(tone(6.0, 300))])
    assert a.error is None and isinstance(a.text, str) and a.text
    assert 1 <= a.completion_tokens <= 6
    # 3 s = 300 mel frames -> 75 audio tokens; 6 s -> 150. Same template, so the prompts differ by 75.
    assert b.prompt_tokens - a.prompt_tokens == 75
    assert qwen.describe()["dtype"] == "torch.float32"


def test_qwen2_audio_batch_equals_single(qwen):
    requests = [
        req(tone(3.0), doc=0),
        req(noise(12.0, 1), doc=1),
        req(chirps(21.0, 2), doc=2),
        req(tone(7.0, 900), doc=3),
    ]
    batched = qwen.generate(requests)
    singles = [qwen.generate([r])[0] for r in requests]
    assert texts(batched) == texts(singles)
    assert [r.completion_tokens for r in batched] == [r.completion_tokens for r in singles]
    assert len(set(texts(batched))) > 1  # the clips decode differently, so a mix-up would show


def test_qwen2_audio_ignores_checkpoint_sampling_defaults(qwen):
    # The tiny checkpoint's generation_config samples (T=0.7, top_k=20); tasks get greedy unless asked.
    r = req(noise(5.0, 3), max_new_tokens=12)
    assert texts(qwen.generate([r])) == texts(qwen.generate([r]))


def test_qwen2_audio_stop_strings(qwen):
    r = req(chirps(4.0, 4), max_new_tokens=12)
    full = qwen.generate([r])[0].text
    stop = next((full[i : i + 2] for i in range(2, len(full) - 2) if full[i : i + 2].strip()), None)
    assert stop is not None, f"output too short to test stop strings: {full!r}"
    cut = qwen.generate([req(chirps(4.0, 4), max_new_tokens=12, until=[stop])])[0]
    assert cut.text == full[: full.find(stop)]


def test_qwen2_audio_long_audio_chunks_and_joins_in_order(qwen):
    wave = chirps(70.0, 5)
    (long,) = qwen.generate([req(wave)])
    assert long.error is None and long.extra["audio_windows"] == 3
    windows = hf_audio.split_even(wave, RATE, 30.0)
    assert [len(w) / RATE for w in windows] == pytest.approx([70 / 3] * 3, abs=1e-3)
    parts = qwen.generate([req(w, doc=i) for i, w in enumerate(windows)])
    assert long.text == " ".join(p.text.strip() for p in parts if p.text.strip())
    assert long.completion_tokens == sum(p.completion_tokens for p in parts)


def test_qwen2_audio_long_audio_truncate_and_error():
    from lmms_eval.models.qwen2_audio import Qwen2Audio

    path = build_tiny_qwen2_audio()
    wave = chirps(50.0, 6)
    trunc = Qwen2Audio.from_args(f"device=cpu,pretrained={path},long_audio=truncate")
    (t,) = trunc.generate([req(wave)])
    assert t.extra["truncated_audio_s"] == pytest.approx(20.0)
    assert t.text == trunc.generate([req(wave[: 30 * RATE])])[0].text
    strict = Qwen2Audio.from_args(f"device=cpu,pretrained={path},long_audio=error")
    (e,) = strict.generate([req(wave, doc=3)])
    assert e.error and "tiny doc 3" in e.error and "long_audio=" in e.error
    with pytest.raises(UsageError, match="chunk_seconds"):
        Qwen2Audio.from_args(f"device=cpu,pretrained={path},chunk_seconds=45")


def test_qwen2_audio_failure_isolated_in_batch(qwen, tmp_path):
    good = [req(tone(3.0), doc=0), req(noise(9.0, 7), doc=2), req(chirps(33.0, 8), doc=3)]
    batch = [good[0], corrupt_request(tmp_path, 1), good[1], good[2]]
    out = qwen.generate(batch)
    assert len(out) == 4 and out[1].error and "tiny doc 1" in out[1].error and out[1].text == ""
    assert [o.error for o in (out[0], out[2], out[3])] == [None, None, None]
    assert texts([out[0], out[2], out[3]]) == [qwen.generate([g])[0].text for g in good]


def test_qwen2_audio_rejects_images_and_literal_placeholders(qwen):
    from PIL import Image as PILImage

    r = Request(
        task="tiny", doc_id=5, messages=[Message("user", [Image(data=PILImage.new("RGB", (4, 4))), Text("hi")])]
    )
    (out,) = qwen.generate([r])
    assert out.error and "tiny doc 5" in out.error and "images" in out.error
    (literal,) = qwen.generate([req(tone(1.0), doc=6, text="Say <|AUDIO|> twice")])
    assert literal.error and "tiny doc 6" in literal.error and "placeholder" in literal.error


# ---- aero (remote-code stand-in) --------------------------------------------------------------


@pytest.fixture(scope="module")
def aero():
    from lmms_eval.models.aero import Aero

    return Aero.from_args(f"device=cpu,pretrained={build_aero_stand_in()},batch_size=4")


@pytest.fixture
def processor_calls(aero, monkeypatch):
    """Record the clip lengths each processor call receives (in placeholder order)."""
    calls: list[list[int]] = []
    cls = type(aero.processor)
    original = cls.__call__

    def spy(self, text=None, audios=None, sampling_rate=None, **kwargs):
        calls.append([len(a) for a in audios or []])
        return original(self, text=text, audios=audios, sampling_rate=sampling_rate, **kwargs)

    monkeypatch.setattr(cls, "__call__", spy)
    return calls


def test_aero_loads_through_remote_code(aero):
    assert type(aero.processor).__name__ == "AeroStandInProcessor"
    assert type(aero.processor).__module__.startswith("transformers_modules")
    assert hf_audio.processor_audio_keyword(aero.processor) == "audios"
    assert aero.config.trust_remote_code is True


def test_aero_long_audio_one_prompt_of_30s_chunks(aero, processor_calls):
    (out,) = aero.generate([req(chirps(70.0, 9))])
    assert out.error is None and out.extra["audio_chunks"] == 3 and "audio_windows" not in out.extra
    assert processor_calls == [[30 * RATE, 30 * RATE, 10 * RATE]]  # whole audio, one prompt, in order
    (short,) = aero.generate([req(tone(3.0))])
    # 30 s chunk -> 750 audio tokens, 10 s -> 250, 3 s -> 75; each extra placeholder adds its template text.
    per_slot = (out.prompt_tokens - short.prompt_tokens - (750 + 750 + 250 - 75)) / 2
    assert per_slot == int(per_slot) and 3 <= per_slot <= 12


def test_aero_batch_equals_single(aero, processor_calls):
    requests = [
        req(tone(3.0), doc=0),
        req(noise(12.0, 1), doc=1),
        req(chirps(45.0, 2), doc=2),
        req(chirps(70.0, 3), doc=3),
    ]
    batched = aero.generate(requests)
    assert len(processor_calls) == 1 and len(processor_calls[0]) == 1 + 1 + 2 + 3  # one call, all chunks
    singles = [aero.generate([r])[0] for r in requests]
    assert texts(batched) == texts(singles)
    assert [r.prompt_tokens for r in batched] == [r.prompt_tokens for r in singles]
    assert len(set(texts(batched))) > 1


def test_aero_failure_isolated_in_batch(aero, tmp_path):
    good = [req(chirps(35.0, 10), doc=0), req(tone(4.0), doc=2), req(noise(8.0, 11), doc=3)]
    batch = [good[0], corrupt_request(tmp_path, 1), good[1], req(np.full(16000, np.nan, np.float32), doc=4), good[2]]
    out = aero.generate(batch)
    assert len(out) == 5
    assert out[1].error and "tiny doc 1" in out[1].error
    assert out[3].error and "tiny doc 4" in out[3].error and "NaN" in out[3].error
    assert texts([out[0], out[2], out[4]]) == [aero.generate([g])[0].text for g in good]
    assert all(out[i].error is None for i in (0, 2, 4))


def test_aero_beyond_max_audio_seconds_windows_and_tail():
    from lmms_eval.models.aero import Aero

    short_max = Aero.from_args(f"device=cpu,pretrained={build_aero_stand_in()},max_audio_seconds=60")
    wave = chirps(70.0, 12)
    (out,) = short_max.generate([req(wave)])
    assert out.extra["audio_windows"] == 2 and out.extra["audio_chunks"] == 4  # 2 x (30 s + 5 s)
    halves = short_max.generate([req(wave[: 35 * RATE]), req(wave[35 * RATE :])])
    assert out.text == " ".join(h.text.strip() for h in halves if h.text.strip())
    (tail,) = short_max.generate([req(chirps(30.02, 13))])
    assert tail.extra["dropped_tail_s"] == pytest.approx(0.02) and tail.extra["audio_chunks"] == 1


# ---- whisper ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper():
    from lmms_eval.models.whisper import Whisper

    return Whisper.from_args(
        f"device=cpu,pretrained={build_tiny_whisper()},batch_size=4,language=english,return_timestamps=true"
    )


def test_whisper_language_and_task_arguments(whisper):
    from lmms_eval.models.whisper import Whisper

    assert whisper.describe()["language"] == "en" and whisper.describe()["task"] == "transcribe"
    with pytest.raises(UsageError, match="'language'.*'klingon'"):
        Whisper.from_args(f"device=cpu,pretrained={build_tiny_whisper()},language=klingon")
    fr = Whisper.from_args(f"device=cpu,pretrained={build_tiny_whisper()},language=fr,task=translate")
    assert (fr.language, fr.task) == ("fr", "translate")


def test_whisper_decoding_kwargs(whisper):
    # Whisper's generate reads ``temperature`` itself: anything > 0 samples, so greedy must send 0.
    greedy, _ = whisper._generate_kwargs(GenerationParams(top_p=0.5), long=False)
    assert greedy["temperature"] == 0.0 and "do_sample" not in greedy and "top_p" not in greedy
    assert greedy["return_timestamps"] is True and greedy["language"] == "en"
    sample, _ = whisper._generate_kwargs(GenerationParams(temperature=0.4), long=True)
    assert sample["temperature"] == 0.4 and sample["condition_on_prev_tokens"] is False
    capped, clamped = whisper._generate_kwargs(GenerationParams(max_new_tokens=4096), long=True)
    assert capped["max_new_tokens"] == clamped == 448 - 4


def test_whisper_short_clip(whisper):
    (out,) = whisper.generate([req(tone(3.0))])
    assert out.error is None and out.text and 1 <= out.completion_tokens <= 6
    assert out.extra["long_form"] is False and out.prompt_tokens == 150  # 3 s -> 300 frames -> 150 positions


def test_whisper_long_form_covers_whole_input(whisper):
    wave = chirps(70.0, 14)
    before = whisper.encoder_calls
    (out,) = whisper.generate([req(wave, max_new_tokens=5)])
    assert whisper.encoder_calls - before == 3  # three 30 s windows: 0-30, 30-60, 60-70 s
    assert out.extra["long_form"] is True and out.extra["covered_s"] == pytest.approx(70.0)
    segments = out.extra["segments"]
    assert [s["start"] for s in segments] == [0.0, 30.0, 60.0]
    assert segments[-1]["text"].strip()
    assert out.text == "".join(s["text"] for s in segments).strip()
    # the late window's words are in the transcript, after the first window's
    assert out.text.rfind(segments[-1]["text"].strip()) >= len(segments[0]["text"].strip())


def test_whisper_batch_equals_single_mixed_short_and_long(whisper):
    requests = [
        req(tone(3.0), doc=0),
        req(chirps(45.0, 15), doc=1),
        req(noise(12.0, 16), doc=2),
        req(chirps(70.0, 17), doc=3),
    ]
    batched = whisper.generate(requests)
    singles = [whisper.generate([r])[0] for r in requests]
    assert texts(batched) == texts(singles)
    assert [r.extra for r in batched] == [r.extra for r in singles]
    assert len(set(texts(batched))) > 1


def test_whisper_failure_isolated_and_one_audio_per_request(whisper, tmp_path):
    good = [req(tone(3.0), doc=0), req(chirps(40.0, 18), doc=3)]
    two = req(tone(1.0), tone(1.0), doc=2)
    out = whisper.generate([good[0], corrupt_request(tmp_path, 1), two, good[1]])
    assert out[1].error and "tiny doc 1" in out[1].error
    assert out[2].error and "exactly one audio" in out[2].error
    assert texts([out[0], out[3]]) == [whisper.generate([g])[0].text for g in good]


def test_registry_points_at_these_adapters():
    from lmms_eval.api.registry import MODELS
    from lmms_eval.models.aero import Aero
    from lmms_eval.models.qwen2_audio import Qwen2Audio
    from lmms_eval.models.whisper import Whisper

    assert MODELS.get("qwen2_audio") is Qwen2Audio and MODELS.get("aero") is Aero and MODELS.get("whisper") is Whisper
    with pytest.raises(UsageError, match="long_audio"):
        Qwen2Audio.from_args("long_audio=sometimes")
