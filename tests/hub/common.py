"""Shared pieces of the hub fixtures and their tests: speech from flite, a hub-shaped dataset folder,
the table-answering scripted model, the in-process and CLI runs, and readers of the sample logs.

A benchmark's fixture is a folder laid out like its hub repository (``<mirror>/<org>/<name>/``
with a README whose ``configs:`` name the parquet files of each config and split), with the
same columns and feature types as the copy users load. Tasks load it through the real
``datasets.load_dataset`` path by pointing ``LMMS_EVAL_HUB_MIRROR`` at the mirror folder
(see :func:`lmms_eval.tasks.datasource.hub_mirror`).
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile
from scripted_model import ScriptedModel

from lmms_eval.api.model import Model
from lmms_eval.api.request import Request, Response

RATE = 16000
VOICES = ("slt", "rms", "awb", "kal16")  # flite's built-in voices

needs_flite = pytest.mark.skipif(
    shutil.which("flite") is None, reason="flite is not installed (apt-get install flite; scripts/test does it)"
)


@functools.lru_cache(maxsize=512)
def _speak(text: str, voice: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.wav")
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", out], check=True, capture_output=True)
        return Path(out).read_bytes()


def speak(text: str, voice: str = "slt", rate: int = RATE) -> np.ndarray:
    """``text`` read by flite's ``voice``, as a float32 mono waveform at ``rate`` Hz (deterministic)."""
    from lmms_eval.media import resample

    wave, native = soundfile.read(io.BytesIO(_speak(text, voice)), dtype="float32")
    return resample(wave, native, rate) if native != rate else wave


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), np.float32)


def encode(wave: np.ndarray, rate: int = RATE, fmt: str = "WAV") -> bytes:
    """``wave`` as audio file bytes (``WAV`` 16-bit PCM or ``FLAC``)."""
    buf = io.BytesIO()
    soundfile.write(buf, wave, rate, format=fmt, subtype="PCM_16")
    return buf.getvalue()


def audio_cell(wave: np.ndarray, name: str, rate: int = RATE, fmt: str = "WAV") -> dict[str, Any]:
    """A value for an ``Audio`` column as the hub stores it: encoded bytes plus the file name."""
    return {"bytes": encode(wave, rate, fmt), "path": name}


def encode_image(image: Any, fmt: str = "PNG", **save: Any) -> bytes:
    """A Pillow image as file bytes (``PNG`` unless told; ``save`` options such as ``quality``)."""
    buf = io.BytesIO()
    image.save(buf, format=fmt, **save)
    return buf.getvalue()


def image_cell(image: Any, fmt: str = "PNG", **save: Any) -> dict[str, Any]:
    """A value for an ``Image`` column as the hub stores it: encoded bytes, no path."""
    return {"bytes": encode_image(image, fmt, **save), "path": None}


def write_hub_dataset(
    mirror: Path,
    repo_id: str,
    splits: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    features: Mapping[str, Any],
) -> Path:
    """Write ``<mirror>/<repo_id>/`` as the hub repository of a dataset.

    ``splits`` maps config name -> split name -> rows; ``features`` maps config name -> the
    ``datasets.Features`` of that config (the hub copy's exact types). Each split becomes
    ``<config>/<split>-00000-of-00001.parquet`` (``data/`` for the ``default`` config) and the
    README's ``configs:`` block lists them, as on the hub.
    """
    import datasets

    root = mirror.joinpath(*repo_id.split("/"))
    root.mkdir(parents=True, exist_ok=True)
    lines = ["---", "configs:"]
    for config, by_split in splits.items():
        folder = "data" if config == "default" else config
        (root / folder).mkdir(exist_ok=True)
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, rows in by_split.items():
            columns = {name: [row[name] for row in rows] for name in features[config]}
            ds = datasets.Dataset.from_dict(columns, features=features[config])
            ds.to_parquet(str(root / folder / f"{split}-00000-of-00001.parquet"))
            lines += [f"  - split: {split}", f"    path: {folder}/{split}-*"]
    lines.append("---")
    (root / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


TESTS_DIR = Path(__file__).parents[1]


def run_lmms_eval(mirror: Path, out: Path, *args: str, timeout: int = 300) -> dict[str, Any]:
    """``python -m lmms_eval ARGS`` on the fixtures under ``mirror`` (hub offline, own caches, the
    scripted test model importable), results into ``out``; returns results.json (asserts exit 0)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
        "LMMS_EVAL_HUB_MIRROR": str(mirror),
        "LMMS_EVAL_CACHE": str(out / "cache"),
        "HF_DATASETS_CACHE": str(out / "hf_datasets"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    cmd = [sys.executable, "-m", "lmms_eval", *args, "--output_path", str(out), "--log_samples", "--no_progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(next(out.rglob("results.json")).read_text())


def run_tiny_model(
    mirror: Path, out: Path, family: str, tasks: Sequence[str], model_args: str = "", *extra: str
) -> dict[str, Any]:
    """``--limit 4`` of ``tasks`` with the session's tiny random ``family`` checkpoint (``qwen2_5_vl``
    or ``llava_onevision``), 4 new tokens, batches of 2, then ``extra`` flags; returns results.json
    (asserts exit 0)."""
    from models import tiny_vision

    builders = {"qwen2_5_vl": tiny_vision.tiny_qwen2_5_vl, "llava_onevision": tiny_vision.tiny_llava_onevision}
    args = ",".join(a for a in (f"pretrained={builders[family]()}", model_args) if a)
    flags = ["--model", family, "--model_args", args, "--tasks", ",".join(tasks), "--limit", "4"]
    flags += ["--gen_kwargs", "max_new_tokens=4", "--batch_size", "2", *extra]
    return run_lmms_eval(mirror, out, *flags, timeout=900)


def build_mirror(root: Path, builders: Sequence[Any]) -> Path:
    """``root`` holding every fixture module's ``build(root)``."""
    for fixture in builders:
        fixture.build(root)
    return root


def sample_records(out: Path, task: str) -> list[dict[str, Any]]:
    """The records of ``samples_<task>.jsonl`` under ``out``."""
    path = next(out.rglob(f"samples_{task}.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def records(run_dir: Path | str, task: str) -> dict[str, dict[str, Any]]:
    """The records of ``<run_dir>/samples_<task>.jsonl`` by doc id (as a string)."""
    lines = (Path(run_dir) / f"samples_{task}.jsonl").read_text().splitlines()
    return {str(r["doc_id"]): r for r in map(json.loads, lines)}


def content_text(content: str | Sequence[Mapping[str, Any]]) -> str:
    """The text of a logged message ``content``: the string itself, or its parts' text joined."""
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


def prompt_text(record: Mapping[str, Any]) -> str:
    """The text of every message of a logged sample's prompt, joined."""
    return "".join(content_text(m["content"]) for m in record["prompt"])


# ---- the scripted model and the in-process run ----------------------------------------------------
class TableModel(ScriptedModel):
    """Replies from the class's ``answers`` table and keeps what it was sent.

    A test file subclasses it and sets ``answers``: keys are ``(task, doc id)`` or the doc id, both
    as strings (``(task, doc id)`` is looked up first); a document in neither gets ``default``, or
    is a KeyError when ``default`` is None. Every request is kept in ``requests`` and its prompt
    text in ``prompts``, each under its doc id and under ``f"{task}:{doc_id}"``. Each subclass gets
    its own empty recorders (the names in ``recorders``); :func:`run_evaluator` clears them first.
    """

    answers: ClassVar[Mapping[Any, str]] = {}
    default: ClassVar[str | None] = None
    recorders: ClassVar[tuple[str, ...]] = ("requests", "prompts")
    requests: ClassVar[dict[str, Request]] = {}
    prompts: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.recorders:
            setattr(cls, name, {})

    @classmethod
    def reset(cls) -> None:
        for name in cls.recorders:
            getattr(cls, name).clear()

    @classmethod
    def record(cls, name: str, r: Request, value: Any) -> None:
        """Keep ``value`` in recorder ``name`` under ``r``'s doc id and under ``f"{task}:{doc_id}"``."""
        recorder = getattr(cls, name)
        recorder[str(r.doc_id)] = recorder[f"{r.task}:{r.doc_id}"] = value

    def keep(self, r: Request) -> None:
        self.record("requests", r, r)
        self.record("prompts", r, r.prompt_text())

    def reply(self, r: Request) -> str:
        doc = str(r.doc_id)
        for key in ((r.task, doc), doc):
            if key in self.answers:
                return self.answers[key]
        if self.default is None:
            raise KeyError(f"no scripted answer for {r.task}:{doc}")
        return self.default

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        for r in requests:
            self.keep(r)
        return [Response(text=self.reply(r)) for r in requests]


def run_evaluator(
    tmp_path: Path, tasks: Sequence[str], model: Model[Any] | None = None, **cfg: Any
) -> tuple[dict[str, Any], Path]:
    """Run ``tasks`` in-process with ``model`` (the registered scripted model when None), results into
    ``tmp_path/out`` without a progress bar; returns (results, run_dir) and asserts exit 0. A
    :class:`TableModel`'s recorders are cleared first."""
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    if isinstance(model, TableModel):
        model.reset()
    config = RunConfig(
        model="scripted", tasks=list(tasks), output_path=str(tmp_path / "out"), show_progress=False, **cfg
    )
    outcome = Evaluator(config, model=model).run()
    assert outcome.exit_code == 0, outcome.message
    return outcome.results, Path(outcome.run_dir)


def fixture_mirror(build: Callable[[Path], Any]) -> Any:
    """A module's ``mirror`` fixture: a folder with ``build(folder)`` written into it (once per module),
    with ``LMMS_EVAL_HUB_MIRROR`` pointing at it for the test."""
    built: list[Path] = []

    @pytest.fixture
    def mirror(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
        if not built:
            root = tmp_path_factory.mktemp("mirror")
            build(root)
            built.append(root)
        monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(built[0]))
        return built[0]

    return mirror


def judge_arg(server: Any, reply: str | None = None, **options: object) -> str:
    """The ``--judge`` string for a local test server: a ``LocalOpenAIServer``'s scripted model that
    answers ``reply`` (the server's default reply when None), or ``fake-judge`` on a ``FaultServer``;
    ``options`` are appended as ``,key=value``."""
    if not hasattr(server, "model"):
        model = "fake-judge"
    else:
        model = server.model() if reply is None else server.model(reply)
    extra = "".join(f",{key}={value}" for key, value in options.items())
    return f"model={model},base_url={server.base_url},api_key_env=NO_KEY_NEEDED{extra}"


def renamed_task_copy(root: Path, task_dir: Path, yaml_name: str, new_name: str, py_files: Sequence[str]) -> Path:
    """Copy one task YAML (renamed to ``new_name``: a built-in name cannot be redefined) and its
    Python files from ``task_dir`` into a folder under the ``--include_path`` root ``root``;
    returns that folder (put the task's ``data/`` there)."""
    folder = root / task_dir.name
    folder.mkdir(parents=True, exist_ok=True)
    for name in py_files:
        shutil.copy(task_dir / name, folder / name)
    text = (task_dir / yaml_name).read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("task: "))
    (folder / yaml_name).write_text(text.replace(old + "\n", f"task: {new_name}\n", 1), encoding="utf-8")
    return folder


def encode_video(frames: Sequence[Any], fps: int = 4, codec: str = "mpeg4") -> bytes:
    """RGB frames (HxWx3 uint8 arrays, all one size) as an mp4 file's bytes (PyAV)."""
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        height, width = np.asarray(frames[0]).shape[:2]
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.asarray(frame, dtype=np.uint8), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()
