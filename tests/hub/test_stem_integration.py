"""Every STEM and high-resolution benchmark end to end through the CLI with a real (tiny, random)
Qwen2.5-VL checkpoint: the hub-shaped fixtures loaded through ``LMMS_EVAL_HUB_MIRROR``, the real
processor and ``generate``, ``--limit 4`` of each task in one run, V*'s likelihood protocol
(``output_type: multiple_choice``) beside the generative tasks, and the reasoning prompt variant.

The tiny model's answers are noise, so nothing here checks a score's value (the per-benchmark
tests do, with scripted answers worked by hand); it checks that every task builds its prompts,
runs the model on its images, scores every sample without an error and writes what it promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub import mathverse, mathvision, mathvista, mme_realworld, mmk12, mmmu, vstar_bench
from hub.common import run_lmms_eval, sample_records
from lmms_eval.tasks.variants import REASONING_INSTRUCTION

# task -> its official metric's results key (None: a prediction-only test split)
GENERATIVE: dict[str, str | None] = {
    "mmk12_test": "mmk12_math_verify,answer",
    "mathverse_testmini_vision_only": "mathverse_acc_rule,none",
    "mathverse_testmini_text_only": "mathverse_acc_rule,none",
    "mathvision_testmini": "mathvision_acc,none",
    "mathvision_test": "mathvision_acc,none",
    "mathvista_testmini": "mathvista_acc_rule,none",
    "mathvista_test": None,
    "mmmu_val": "mmmu_acc,none",
    "mmmu_test": None,
    "vstar_bench": "vstar_acc,none",
    "mme_realworld_lite": "mme_realworld_acc,none",
}
LIKELIHOOD = {"vstar_bench_likelihood": "vstar_choice_acc,none"}
SUBMISSIONS = {"mathvista_test", "mmmu_test"}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mirror")
    for fixture in (mathverse, mathvision, mathvista, mme_realworld, mmk12, mmmu, vstar_bench):
        fixture.build(root)
    return root


@pytest.fixture(scope="module")
def tiny_model() -> str:
    from models.tiny_vision import tiny_qwen2_5_vl

    return tiny_qwen2_5_vl()


def _run(mirror: Path, out: Path, model: str, tasks: list[str], *extra: str) -> dict:
    return run_lmms_eval(
        mirror,
        out,
        "--model",
        "qwen2_5_vl",
        "--model_args",
        f"pretrained={model}",
        "--tasks",
        ",".join(tasks),
        "--gen_kwargs",
        "max_new_tokens=6",
        "--batch_size",
        "2",
        *extra,
        timeout=900,
    )


def test_every_benchmark_runs_with_a_tiny_model(mirror: Path, tiny_model: str, tmp_path: Path) -> None:
    tasks = [*GENERATIVE, *LIKELIHOOD]
    results = _run(mirror, tmp_path / "out", tiny_model, tasks, "--limit", "4")
    for task, key in {**GENERATIVE, **LIKELIHOOD}.items():
        entry = results["results"][task]
        assert entry["n_errors"] == 0, (task, results["errors"].get(task))
        assert entry["n_samples"] == results["n-samples"][task]["effective"] > 0, task
        if key is not None:
            assert entry[key] is not None and 0.0 <= entry[key] <= 1.0, (task, key, entry)
    for task in SUBMISSIONS:
        path = next((tmp_path / "out").rglob(results["submissions"][task]))
        assert path.stat().st_size > 0, task
    # the official V* protocol: every option scored, the letter of the lowest mean loss chosen
    for record in sample_records(tmp_path / "out", "vstar_bench_likelihood"):
        losses = record["extra"]["choice_losses"]
        assert len(losses) == len(record["extra"]["choice_tokens"]) >= 2
        best = min(range(len(losses)), key=lambda i: (losses[i], i))
        assert record["raw_output"] == "ABCDE"[best]


def test_very_high_resolution_images_stay_within_the_models_pixel_budget(
    mirror: Path, tiny_model: str, tmp_path: Path
) -> None:
    # the 6000x4000 rows of both fixtures, one run: the processor's max_pixels bounds the visual tokens
    vstar_row = [row["question_id"] for row in vstar_bench.rows()].index(vstar_bench.BIG_ID)
    lite_row = [row["index"] for row in mme_realworld.rows()].index(mme_realworld.BIG_INDEX)
    big = {"vstar_bench": vstar_row, "mme_realworld_lite": lite_row}
    for task, index in big.items():
        out = tmp_path / task
        results = _run(mirror, out, tiny_model, [task], "--offset", str(index), "--limit", "1")
        assert results["results"][task]["n_errors"] == 0
        record = sample_records(out, task)[0]
        image = next(p for msg in record["prompt"] for p in msg["content"] if p.get("type") == "image")
        assert image["size"] == [6000, 4000], image
        assert record["usage"]["prompt_tokens"] < 1000  # resized to the tiny processor's budget, not 30k patches


def test_reasoning_variant_applies_to_every_generative_task(mirror: Path, tiny_model: str, tmp_path: Path) -> None:
    results = _run(
        mirror, tmp_path / "out", tiny_model, list(GENERATIVE), "--limit", "1", "--prompt_variant", "reasoning"
    )
    for task in GENERATIVE:
        assert results["configs"][task]["prompt_variant"] == "reasoning"
        record = sample_records(tmp_path / "out", task)[0]
        user_text = "".join(
            part.get("text", "") for msg in record["prompt"] if msg["role"] == "user" for part in msg["content"]
        )
        assert REASONING_INSTRUCTION.strip() in user_text, (task, user_text[-300:])
        assert record["status"] == "ok", (task, record["error"])
    assert json.dumps(results["results"])  # scored without errors (run_lmms_eval asserted exit 0)
