"""Data parallel with torchrun (gloo on CPU): same results as one process; cost-balanced sharding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmms_eval.engine.distributed import assign_by_cost

TESTS = Path(__file__).parent


def test_assignment_balances_cost_not_stride() -> None:
    costs = [100, 1, 1, 1, 1, 1, 1, 1, 1, 90]
    owner = assign_by_cost(costs, 2)
    loads = [sum(c for c, o in zip(costs, owner) if o == r) for r in range(2)]
    assert sorted(loads) == [98, 100]
    assert owner[0] != owner[9]  # the two long jobs land on different ranks
    assert assign_by_cost(costs, 2) == owner  # deterministic
    assert assign_by_cost(costs, 1) == [0] * 10


def test_torchrun_two_processes_match_one(toy_tasks: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
    }
    common = [
        "-m",
        "lmms_eval",
        "--model",
        "scripted_model:ScriptedModel",
        "--model_args",
        "batch=2",
        "--tasks",
        "toy_group",
        "--include_path",
        str(toy_tasks),
        "--no_progress",
    ]
    single = subprocess.run(
        [sys.executable, *common, "--output_path", str(tmp_path / "one")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr
    multi = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--standalone",
            *common,
            "--output_path",
            str(tmp_path / "two"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert multi.returncode == 0, multi.stderr[-3000:]
    assert multi.stdout.count("| say_word") == 1, "only rank 0 prints the table"

    def load(root: Path) -> dict:
        data = json.loads(next(root.rglob("results.json")).read_text())
        data.pop("date"), data.pop("timing")
        return data

    assert load(tmp_path / "one") == load(tmp_path / "two")
    run_dir = next((tmp_path / "two").rglob("results.json")).parent
    assert not list(run_dir.glob("*.rank*.jsonl")), "rank logs are merged away"
    lines = (run_dir / "samples_say_word.jsonl").read_text().splitlines()
    assert len(lines) == 12 and len({json.loads(x)["id"] for x in lines}) == 12
