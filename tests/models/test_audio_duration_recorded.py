"""Long audio is never silently cut: the vllm, hf_chat and openai_compat paths record the duration.

A 45 s clip (numpy chirps written as a 16 kHz WAV) goes through the real
:class:`~lmms_eval.engine.evaluator.Evaluator` with a toy task next to a 1 s clip. The models:

* ``vllm`` with a stand-in engine (vLLM is not installed here) and the tiny Qwen2-Audio
  checkpoint's processor, whose Whisper feature extractor window is 2 s (``n_samples=32000``):
  the limit the adapter reads;
* ``hf_chat`` on that tiny Qwen2-Audio checkpoint (the processor would cut at 2 s);
* ``openai_compat`` against a local fake server (the whole file is sent; the server decides).

Each long sample must be an error record naming its duration and the limit, or a response whose
``extra`` records ``audio_seconds == 45`` and the policy applied.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from lmms_eval.api.model import Model
from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.run_config import RunConfig

LONG_S = 45.0
Rows = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    import soundfile as sf
    import tiny_audio as ta

    folder = tmp_path_factory.mktemp("clips")
    out = {}
    for name, seconds in (("short", 1.0), ("long", LONG_S)):
        sf.write(folder / f"{name}.wav", ta.chirps(seconds, seed=7), ta.RATE)
        out[name] = str(folder / f"{name}.wav")
    return out


def write_task(root: Path, clips: dict[str, str]) -> None:
    (root / "data").mkdir(parents=True, exist_ok=True)
    with open(root / "data" / "long_audio.jsonl", "w", encoding="utf-8") as fh:
        for doc_id, path in clips.items():
            fh.write(json.dumps({"id": doc_id, "media": path, "question": "What is it?", "answer": "x"}) + "\n")
    (root / "long_audio.yaml").write_text(
        "task: long_audio\ndataset_path: json\ndataset_kwargs: {data_files: data/long_audio.jsonl}\n"
        "test_split: train\ndoc_id_column: id\ndoc_to_audio: media\ndoc_to_text: '{{question}}'\n"
        "doc_to_target: answer\nmetric_list: [{metric: exact_match}]\ngeneration_kwargs: {max_new_tokens: 3}\n",
        encoding="utf-8",
    )


def run(model: Model[Any], clips: dict[str, str], tmp_path: Path, batch_size: int = 2) -> Rows:
    """Run the toy task through the Evaluator; {doc id: sample record}."""
    root = tmp_path / "tasks"
    write_task(root, clips)
    cfg = RunConfig(
        model=model.name,
        tasks=["long_audio"],
        include_path=[str(root)],
        output_path=str(tmp_path / "out"),
        batch_size=batch_size,
        show_progress=False,
        predict_only=True,
        decode_workers=2,
    )
    outcome = Evaluator(cfg, model=model).run()
    rows: Rows = {}
    for log in Path(outcome.run_dir).glob("samples_*.jsonl"):
        for line in log.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[str(row["doc_id"])] = row
    assert set(rows) == {"short", "long"}, rows
    return rows


def check_short(rows: Rows) -> None:
    short = rows["short"]
    assert short["error"] is None and short["extra"]["audio_seconds"] == 1.0
    assert "truncated_audio_s" not in short["extra"] and "audio_windows" not in short["extra"]


# ---- vllm (stand-in engine) ---------------------------------------------------------------------


class AudioLLM:
    """A ``vllm.LLM`` stand-in that records the audio it is handed and answers with its length."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.seen: list[list[int]] = []

    def generate(self, prompts: list[dict[str, Any]], params: Any, use_tqdm: bool = False) -> list[Any]:
        out = []
        for prompt in prompts:
            lengths = [len(wave) for wave, _ in prompt.get("multi_modal_data", {}).get("audio", [])]
            self.seen.append(lengths)
            text = f"n{sum(lengths)}"
            out.append(SimpleNamespace(prompt_token_ids=[0], outputs=[SimpleNamespace(text=text, token_ids=[1])]))
        return out


@pytest.fixture()
def vllm_model(monkeypatch: pytest.MonkeyPatch) -> Any:
    pytest.importorskip("transformers")
    import tiny_vision as tv

    from lmms_eval.models import vllm_engine as ve

    engines: list[AudioLLM] = []
    monkeypatch.setattr(ve, "require_vllm", lambda: SimpleNamespace(__version__="stand-in"))
    monkeypatch.setattr(ve, "make_vllm_engine", lambda kwargs: engines.append(AudioLLM(kwargs)) or engines[-1])

    def build(args: str = "") -> tuple[Any, list[AudioLLM]]:
        return ve.VLLM.from_args(f"pretrained={tv.tiny_qwen2_audio()}{args}"), engines

    return build


def test_vllm_refuses_audio_longer_than_the_encoder_window(vllm_model, clips, tmp_path: Path) -> None:
    model, engines = vllm_model()
    rows = run(model, clips, tmp_path)
    long = rows["long"]
    assert long["raw_output"] == "" and "45.0s" in (long["error"] or "") and "2s" in long["error"]
    assert "long_audio=" in long["error"]
    assert all(sum(seen) <= 32000 for seen in engines[0].seen)  # nothing longer reached the engine
    check_short(rows)
    assert model.audio_limit_s == 2.0  # the tiny checkpoint's WhisperFeatureExtractor: n_samples / sampling_rate


def test_vllm_truncate_and_chunk_are_recorded(vllm_model, clips, tmp_path: Path) -> None:
    model, engines = vllm_model(",long_audio=truncate")
    rows = run(model, clips, tmp_path / "truncate")
    check_short(rows)
    extra = rows["long"]["extra"]
    assert rows["long"]["error"] is None and rows["long"]["raw_output"] == "n32000"
    assert extra["audio_seconds"] == LONG_S and extra["long_audio_policy"] == "truncate"
    assert extra["truncated_audio_s"] == LONG_S - 2.0

    model, engines = vllm_model(",long_audio=chunk")
    rows = run(model, clips, tmp_path / "chunk")
    check_short(rows)
    extra = rows["long"]["extra"]
    assert extra["audio_seconds"] == LONG_S and extra["long_audio_policy"] == "chunk"
    assert extra["audio_windows"] == 23  # ceil(45 / 2) equal windows
    windows = [seen[0] for seen in engines[-1].seen if seen and seen[0] != 16000]
    assert len(windows) == 23 and sum(windows) == int(LONG_S * 16000) and max(windows) <= 32000
    assert rows["long"]["raw_output"] == " ".join(f"n{n}" for n in windows)


# ---- hf_chat (tiny Qwen2-Audio) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_qwen2_audio() -> str:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import tiny_vision as tv

    return tv.tiny_qwen2_audio()


def test_hf_chat_refuses_audio_its_processor_would_cut(tiny_qwen2_audio: str, clips, tmp_path: Path) -> None:
    from lmms_eval.models.hf_chat import HFChat

    model = HFChat.from_args(f"device=cpu,pretrained={tiny_qwen2_audio}")
    rows = run(model, clips, tmp_path)
    long = rows["long"]
    assert long["raw_output"] == "" and "45.0s" in (long["error"] or "") and "2s" in long["error"]
    assert "long_audio=truncate" in long["error"] and "qwen2_audio" in long["error"]
    check_short(rows)
    assert model.audio_limit_seconds() == 2.0


@pytest.mark.parametrize("policy", ["truncate", "chunk"])
def test_hf_chat_long_audio_policy_is_recorded(policy: str, tiny_qwen2_audio: str, clips, tmp_path: Path) -> None:
    from lmms_eval.models.hf_chat import HFChat

    model = HFChat.from_args(f"device=cpu,pretrained={tiny_qwen2_audio},long_audio={policy}")
    calls: list[list[int]] = []
    processor_inputs = model.processor_inputs

    def spy(items: Any) -> Any:
        calls.append([len(a) for it in items for a in it.audios])
        return processor_inputs(items)

    model.processor_inputs = spy  # type: ignore[method-assign]
    rows = run(model, clips, tmp_path)
    check_short(rows)
    long = rows["long"]
    assert long["error"] is None
    extra = long["extra"]
    assert extra["audio_seconds"] == LONG_S and extra["long_audio_policy"] == policy
    lengths = [n for call in calls for n in call if n != 16000]
    assert max(lengths) <= 32000  # no clip the processor would cut
    if policy == "truncate":
        assert extra["truncated_audio_s"] == LONG_S - 2.0 and lengths == [32000]
    else:
        assert extra["audio_windows"] == 23 and len(lengths) == 23 and sum(lengths) == int(LONG_S * 16000)


# ---- openai_compat (fake server) -----------------------------------------------------------------


def test_openai_compat_records_the_duration_of_the_audio_it_sends_whole(clips, tmp_path: Path) -> None:
    from servers import FaultServer

    from lmms_eval.models.openai_compat import OpenAICompat

    server = FaultServer().start()
    model = OpenAICompat.from_args({"model": "m", "base_url": server.base_url, "max_concurrency": 2, "max_retries": 1})
    try:
        rows = run(model, clips, tmp_path)
    finally:
        server.stop()
    check_short(rows)
    for doc_id, seconds in (("short", 1.0), ("long", LONG_S)):
        row = rows[doc_id]
        assert row["error"] is None and row["extra"]["audio_seconds"] == seconds
        assert row["extra"]["long_audio_policy"] == "server"
    sent = [
        part["input_audio"]["data"]
        for body in server.bodies
        for message in body["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part.get("type") == "input_audio"
    ]
    assert sorted(base64.b64decode(s) for s in sent) == sorted(Path(p).read_bytes() for p in clips.values())


def test_openai_compat_audio_array_duration() -> None:
    """An in-memory clip's duration comes from the array (no decode); no audio, nothing recorded."""
    from lmms_eval.api.generation import GenerationParams
    from lmms_eval.api.messages import Audio, Message, Text
    from lmms_eval.api.request import Request
    from lmms_eval.models.openai_compat import OpenAICompat

    wave = np.zeros(int(LONG_S * 8000), np.float32)
    request = Request("t", 0, [Message("user", [Audio(array=wave, sampling_rate=8000), Text("?")])], GenerationParams())
    assert OpenAICompat.audio_extra(request) == {"audio_seconds": LONG_S, "long_audio_policy": "server"}
    assert OpenAICompat.audio_extra(Request("t", 0, [Message("user", [Text("?")])], GenerationParams())) == {}
