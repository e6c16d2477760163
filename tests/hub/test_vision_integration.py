"""Every general-vision benchmark end to end through the CLI with real (tiny, random) vision
models: the hub-shaped fixtures' images through each model's processor. The tiny models' answers
are noise: only that every sample ran and was scored is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import ai2d, chartqa, docvqa, mia_bench, mmbench, mme, mmstar, ocrbench, realworldqa
from hub.common import build_mirror, run_tiny_model, sample_records

# task -> a results key that must be set (judge-only tasks: only answered, no --judge here)
VISION_TASKS = {
    "ai2d": "ai2d_parse_rate,none",
    "chartqa": "relaxed_accuracy,none",
    "docvqa_val": "anls,none",
    "mia_bench": "n_samples",
    "mmbench_en_dev": "n_samples",
    "mme": "mme_parse_rate,none",
    "mmstar": "mmstar_parse_rate,none",
    "ocrbench": "ocrbench_score,none",
    "realworldqa": "realworldqa_parse_rate,none",
}
BUILDERS = (ai2d, chartqa, docvqa, mia_bench, mmbench, mme, mmstar, ocrbench, realworldqa)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mirror(tmp_path_factory.mktemp("mirror"), BUILDERS)


@pytest.mark.parametrize("family", ["qwen2_5_vl", "llava_onevision"])
def test_vision_benchmarks_run_with_a_tiny_model(family: str, mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = run_tiny_model(mirror, out, family, list(VISION_TASKS), "")
    for task, key in VISION_TASKS.items():
        entry = results["results"][task]
        assert entry["n_samples"] == 4 and entry["n_errors"] == 0, (task, entry)
        assert entry[key] is not None, task
        records = sample_records(out, task)
        assert len(records) == 4 and all(r["status"] == "ok" for r in records), task
        assert all(any(p["type"] == "image" for m in r["prompt"] for p in m["content"]) for r in records), task
