"""Every video benchmark end to end through the CLI with real (tiny, random) video models: the
videos fetched from the fixture's archives, decoded, sampled and through each model's processor.
The tiny models' answers are noise: only that every sample ran and was scored is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import videomme
from hub.common import run_lmms_eval, sample_records

VIDEO_TASKS = {"videomme": "videomme_parse_rate,none"}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mirror")
    videomme.build(root)
    return root


@pytest.mark.parametrize("family", ["qwen2_5_vl", "llava_onevision"])
def test_video_benchmarks_run_with_a_tiny_model(family: str, mirror: Path, tmp_path: Path) -> None:
    from models import tiny_vision

    pretrained = tiny_vision.tiny_qwen2_5_vl() if family == "qwen2_5_vl" else tiny_vision.tiny_llava_onevision()
    args = f"pretrained={pretrained},max_frames=4"
    out = tmp_path / "out"
    tasks = list(VIDEO_TASKS)
    results = run_lmms_eval(
        mirror,
        out,
        "--model",
        family,
        "--model_args",
        args,
        "--tasks",
        ",".join(tasks),
        "--limit",
        "4",
        "--gen_kwargs",
        "max_new_tokens=4",
        "--batch_size",
        "2",
        timeout=900,
    )
    for task, key in VIDEO_TASKS.items():
        entry = results["results"][task]
        assert entry["n_samples"] == 4 and entry["n_errors"] == 0, entry
        assert entry[key] is not None
        records = sample_records(out, task)
        assert all(r["status"] == "ok" for r in records) and len(records) == 4
        assert all(any(p["type"] == "video" for m in r["prompt"] for p in m["content"]) for r in records)
