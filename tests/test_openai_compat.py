"""The ``openai_compat`` adapter against a real ``transformers serve`` and a fault-injecting peer.

The served models are tiny Qwen2-family checkpoints whose weights make greedy decoding say one
fixed reply (see ``tests/servers.py``), so the server's handling of ``stop``/``max_tokens`` and
the token counts can be checked exactly; media tests check that images, frames and audio reach
the model by the growth of ``prompt_tokens``.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from servers import Fault, FaultServer, LocalOpenAIServer, fault_server, openai_server, spare_server  # noqa: F401

from lmms_eval.api.errors import UsageError
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.messages import Audio, Image, Message, Text, Video
from lmms_eval.api.registry import MODELS
from lmms_eval.api.request import Request
from lmms_eval.clients.media import audio_input, image_url, to_openai_messages
from lmms_eval.models.openai_compat import OpenAICompat

REPLY = "Verdict: correct"


def text_request(i: int, text: str = "hello", **gen_kwargs: object) -> Request:
    params = GenerationParams.from_kwargs(gen_kwargs)
    return Request(task="t", doc_id=i, messages=[Message("user", [Text(f"{text} {i}")])], params=params)


def adapter(base_url: str, model: str = "m", **args: object) -> OpenAICompat:
    return OpenAICompat.from_args(
        {"model": model, "base_url": base_url, "backoff_initial": 0.01, "backoff_max": 0.05, **args}
    )


# ---------------------------------------------------------------------------- generation parameters
def test_greedy_is_sent_when_the_task_gives_nothing(fault_server: FaultServer) -> None:
    """With no temperature anywhere, the server's own default sampling must not apply."""
    fault_server.default = Fault.reply(REPLY)
    model = adapter(fault_server.base_url)
    try:
        out = model.generate([text_request(0), text_request(1, max_new_tokens=5, until=["\n"])])
        assert [r.error for r in out] == [None, None]
        by_text = {body["messages"][0]["content"]: body for body in fault_server.bodies}
        first, second = by_text["hello 0"], by_text["hello 1"]
        assert first["temperature"] == 0 and "top_p" not in first and "max_tokens" not in first
        assert second["temperature"] == 0 and second["max_tokens"] == 5 and second["stop"] == ["\n"]
        with pytest.raises(UsageError, match="num_beams"):  # what an API cannot serve stops the run
            model.generate([text_request(2, num_beams=4)])
    finally:
        model.close()


def test_registry_args_and_key_handling(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MODELS.get("openai_compat") is OpenAICompat
    with pytest.raises(UsageError, match="has no argument 'modle'"):
        OpenAICompat.from_args("modle=gpt-4o")
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(UsageError, match="MY_KEY is not set"):
        OpenAICompat.from_args("model=gpt-4o,api_key_env=MY_KEY")  # the official API needs a key
    monkeypatch.setenv("MY_KEY", "sk-secretsecretsecretsecret")
    model = OpenAICompat.from_args("model=gpt-4o,api_key_env=MY_KEY,max_concurrency=5")
    assert model.max_batch_size is None and model.max_concurrency == 5  # the engine batches >= concurrency
    assert "sk-secret" not in json.dumps(model.describe())  # only the variable's name is stored
    model.close()


# ---------------------------------------------------------------------------- media encoding
def test_media_parts_encode_losslessly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    url = image_url(Image(data=PILImage.fromarray(pixels)))
    assert url.startswith("data:image/png;base64,")
    decoded = np.asarray(PILImage.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(decoded, pixels)
    jpg = tmp_path / "x.jpg"
    PILImage.fromarray(pixels).save(jpg, quality=80)
    assert base64.b64decode(image_url(Image(path=str(jpg))).split(",", 1)[1]) == jpg.read_bytes()  # sent as is
    assert image_url(Image(path="https://example.org/a.png")) == "https://example.org/a.png"

    import soundfile

    wave = (0.25 * np.sin(np.arange(8000) / 7)).astype(np.float32)
    payload = audio_input(Audio(array=wave, sampling_rate=8000))
    data, rate = soundfile.read(io.BytesIO(base64.b64decode(payload["data"])), dtype="float32")
    assert payload["format"] == "wav" and rate == 8000 and np.allclose(data, wave, atol=1 / 32767)

    frames = [PILImage.new("RGB", (8, 8), (i, 0, 0)) for i in range(10)]
    msgs = to_openai_messages(
        [Message("system", [Text("be brief")]), Message("user", [Video(frames=frames, max_frames=4), Text("what?")])]
    )
    assert msgs[0] == {"role": "system", "content": "be brief"}  # text-only turns stay strings
    parts = msgs[1]["content"]
    assert [p["type"] for p in parts] == ["image_url"] * 4 + ["text"]
    reds = [
        np.asarray(PILImage.open(io.BytesIO(base64.b64decode(p["image_url"]["url"].split(",", 1)[1]))))[0, 0, 0]
        for p in parts[:4]
    ]
    assert reds == [0, 3, 6, 9]  # the one frame sampler: linspace(0, 9, 4) rounded, as every adapter
    picked = to_openai_messages([Message("user", [Video(frames=frames, frame_indices=[0, 9])])])
    assert len(picked[0]["content"]) == 2


# ---------------------------------------------------------------------------- real server
def test_text_generation_against_real_server(openai_server: LocalOpenAIServer, spare_server: LocalOpenAIServer) -> None:
    # (spare_server is requested here only so that it boots while the other tests run)
    model = adapter(openai_server.base_url, openai_server.model(REPLY), max_concurrency=4)
    try:
        requests = [text_request(i, max_new_tokens=32, temperature=0) for i in range(8)]
        requests.append(text_request(8, max_new_tokens=32, until=[":"]))  # the server cuts at the stop string
        requests.append(text_request(9, max_new_tokens=2))  # and at the token budget
        out = model.generate(requests)
        assert [r.error for r in out] == [None] * 10
        assert [r.text for r in out[:8]] == [REPLY] * 8
        assert out[8].text == "Verdict"
        assert out[9].text == "Verdict" and out[9].completion_tokens == 2 and out[9].extra["finish_reason"] == "length"
        assert out[0].completion_tokens == 5  # 4 reply tokens + end of turn
        assert out[0].prompt_tokens and out[0].prompt_tokens > 5 and out[0].latency_s > 0
        assert model.usage()["succeeded"] == 10 and model.usage()["retries"] == 0
    finally:
        model.close()


def test_images_and_video_frames_reach_a_vision_model(openai_server: LocalOpenAIServer) -> None:
    model = adapter(openai_server.base_url, openai_server.model(REPLY, kind="vision"))
    img = PILImage.new("RGB", (64, 64), (0, 200, 0))
    try:
        out = model.generate(
            [
                Request("t", 0, [Message("user", [Text("what is it?")])], GenerationParams(max_new_tokens=8)),
                Request(
                    "t",
                    1,
                    [Message("user", [Image(data=img), Text("what is it?")])],
                    GenerationParams(max_new_tokens=8),
                ),
                Request(
                    "t",
                    2,
                    [Message("user", [Image(data=img), Image(data=img), Text("what is it?")])],
                    GenerationParams(max_new_tokens=8),
                ),
                Request(
                    "t",
                    3,
                    [Message("user", [Video(frames=[img] * 3), Text("what is it?")])],
                    GenerationParams(max_new_tokens=8),
                ),
            ]
        )
        assert [r.error for r in out] == [None] * 4 and {r.text for r in out} == {REPLY}
        base, one, two, three = (r.prompt_tokens for r in out)
        # 64x64 -> 56x56 -> 4 merged patches, plus <|vision_start|>/<|vision_end|>
        assert (one - base, two - base, three - base) == (6, 12, 18)
    finally:
        model.close()


def test_audio_reaches_an_audio_model(openai_server: LocalOpenAIServer) -> None:
    pytest.importorskip("soxr", reason="transformers serve decodes audio with soundfile + soxr (transformers[audio])")
    model = adapter(openai_server.base_url, openai_server.model(REPLY, kind="audio"))
    tone = lambda seconds: (0.1 * np.sin(np.arange(int(16000 * seconds)) / 5)).astype(np.float32)  # noqa: E731
    try:
        out = model.generate(
            [
                Request("t", 0, [Message("user", [Text("transcribe")])], GenerationParams(max_new_tokens=8)),
                Request(
                    "t",
                    1,
                    [Message("user", [Audio(array=tone(1.0), sampling_rate=16000), Text("transcribe")])],
                    GenerationParams(max_new_tokens=8),
                ),
                Request(
                    "t",
                    2,
                    [Message("user", [Audio(array=tone(3.0), sampling_rate=16000), Text("transcribe")])],
                    GenerationParams(max_new_tokens=8),
                ),
            ]
        )
        assert [r.error for r in out] == [None] * 3 and {r.text for r in out} == {REPLY}
        base, one, three = (r.prompt_tokens for r in out)
        # Qwen2-Audio: 25 audio tokens per second (+ <|audio_bos|>/<|audio_eos|>)
        assert one - base == 25 + 2 and three - base == 75 + 2
    finally:
        model.close()


# ---------------------------------------------------------------------------- faults
def test_429s_and_5xx_are_retried_then_succeed(openai_server: LocalOpenAIServer, fault_server: FaultServer) -> None:
    fault_server.upstream = openai_server.base_url
    fault_server.default = Fault("proxy")
    fault_server.push(Fault.status(429, retry_after=0), Fault.status(503), Fault.status(429))
    model = adapter(fault_server.base_url, openai_server.model(REPLY), max_concurrency=1, max_retries=3)
    try:
        out = model.generate([text_request(0, max_new_tokens=16), text_request(1, max_new_tokens=16)])
        assert [r.text for r in out] == [REPLY, REPLY]
        assert out[0].extra["attempts"] == 4 and out[1].extra["attempts"] == 1
        assert fault_server.requests == 5 and model.usage()["retries"] == 3
    finally:
        model.close()


def test_failures_become_errors_never_answers(fault_server: FaultServer) -> None:
    fault_server.push(Fault.status(429), Fault.status(429), Fault("malformed"), Fault.status(400), Fault("no_choices"))
    model = adapter(fault_server.base_url, max_concurrency=1, max_retries=1)
    try:
        out = model.generate([text_request(i) for i in range(4)])
        assert out[0].error and "RateLimitError (HTTP 429)" in out[0].error and "after 2 attempts" in out[0].error
        assert out[1].error and "MalformedReply" in out[1].error  # not retried: one request
        assert out[2].error and "HTTP 400" in out[2].error and "after 1 attempt" in out[2].error
        assert out[3].error and "no choices" in out[3].error
        assert all(r.text == "" for r in out)
        assert fault_server.requests == 5
    finally:
        model.close()


def test_timeouts_fail_only_the_slow_request(fault_server: FaultServer) -> None:
    fault_server.push(Fault.sleep(3.0), Fault.sleep(3.0))  # both attempts of the first request hang
    model = adapter(fault_server.base_url, max_concurrency=1, max_retries=1, timeout=0.5)
    try:
        started = time.perf_counter()
        out = model.generate([text_request(0), text_request(1), text_request(2)])
        assert time.perf_counter() - started < 2.9
        assert out[0].error and "Timeout" in out[0].error and "after 2 attempts" in out[0].error
        assert [r.text for r in out[1:]] == [REPLY, REPLY]
    finally:
        model.close()


def test_concurrency_is_bounded(fault_server: FaultServer) -> None:
    fault_server.default = Fault.sleep(0.15)
    model = adapter(fault_server.base_url, max_concurrency=3)
    try:
        started = time.perf_counter()
        out = model.generate([text_request(i) for i in range(12)])
        elapsed = time.perf_counter() - started
        assert all(r.text == REPLY for r in out)
        assert fault_server.max_inflight == 3
        assert elapsed < 12 * 0.15 * 0.75  # overlapped, not serial (4 waves of 0.15 s)
    finally:
        model.close()


def test_evaluator_end_to_end_on_real_server(openai_server: LocalOpenAIServer, toy_tasks: Path, tmp_path: Path) -> None:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    path = openai_server.model("w1")  # every answer is "w1": right for doc q1 only
    cfg = RunConfig(
        model="openai_compat",
        model_args={"model": path, "base_url": openai_server.base_url},
        tasks=["say_word"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        batch_size="auto",
        show_progress=False,
    )
    outcome = Evaluator(cfg).run()
    assert outcome.exit_code == 0
    assert outcome.results["results"]["say_word"]["exact_match,none"] == pytest.approx(1 / 12)
    record = json.loads(next((Path(outcome.run_dir)).glob("samples_say_word.jsonl")).read_text().splitlines()[0])
    assert record["raw_output"] == "w1" and record["usage"]["completion_tokens"] == 3


def test_server_killed_mid_run(openai_server: LocalOpenAIServer, spare_server: LocalOpenAIServer) -> None:
    """A crash of the server fails the remaining requests with errors; finished ones are kept."""
    server = spare_server.wait_ready()
    model = adapter(server.base_url, openai_server.model(REPLY), max_concurrency=1, max_retries=1, timeout=30)
    done = threading.Event()

    def killer() -> None:
        while model.usage()["succeeded"] < 2 and not done.is_set():
            time.sleep(0.005)
        server.kill()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        out = model.generate([text_request(i, max_new_tokens=16) for i in range(8)])
    finally:
        done.set()
        thread.join(timeout=10)
        model.close()
    ok = [r.error is None for r in out]
    assert sum(ok) >= 2 and not all(ok)
    assert ok == sorted(ok, reverse=True)  # successes first (one at a time), failures after the kill
    assert all(r.text == REPLY for r in out if r.error is None)
    assert all("Connection" in r.error or "Timeout" in r.error for r in out if r.error)
