"""Every video benchmark end to end through the CLI with real (tiny, random) video models: the
videos fetched from the fixture's archives, decoded, sampled and through each model's processor.
The tiny models' answers are noise: only that every sample ran and was scored is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import activitynetqa, egolifeqa, egoschema, nextqa, perceptiontest, videomme
from hub.common import build_mirror, run_tiny_model, sample_records

# task -> (a results key that must be set, errors expected in its first 4 rows)
VIDEO_TASKS = {
    "videomme": ("videomme_parse_rate,none", 0),
    "videomme_w_subtitle": ("videomme_parse_rate,none", 0),
    "egolifeqa": ("egolifeqa_parse_rate,none", 1),
    "egoschema": ("egoschema_parse_rate,none", 0),
    "nextqa_mc_test": ("nextqa_mc_parse_rate,none", 0),
    "perceptiontest_val_mc": ("perceptiontest_parse_rate,none", 0),
    "activitynetqa": ("n_samples", 0),  # judge-scored: no --judge here, only answered
}
BUILDERS = (videomme, egolifeqa, egoschema, nextqa, perceptiontest, activitynetqa)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mirror(tmp_path_factory.mktemp("mirror"), BUILDERS)


@pytest.mark.parametrize("family", ["qwen2_5_vl", "llava_onevision"])
def test_video_benchmarks_run_with_a_tiny_model(family: str, mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = run_tiny_model(mirror, out, family, list(VIDEO_TASKS), "max_frames=4", "--max_error_rate", "0.5")
    for task, (key, errors) in VIDEO_TASKS.items():
        entry = results["results"][task]
        assert entry["n_samples"] == 4 and entry["n_errors"] == errors, entry
        assert entry[key] is not None
        records = [r for r in sample_records(out, task) if r["status"] == "ok"]
        assert len(records) == 4 - errors
        assert all(any(p["type"] == "video" for m in r["prompt"] for p in m["content"]) for r in records)
