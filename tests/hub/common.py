"""Shared pieces of the hub fixtures: speech from flite and a hub-shaped dataset folder.

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

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


def sample_records(out: Path, task: str) -> list[dict[str, Any]]:
    """The records of ``samples_<task>.jsonl`` under ``out``."""
    path = next(out.rglob(f"samples_{task}.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]
