"""Independent shards (``--shard K/N``) run as separate processes, one killed and resumed, then
``lmms-eval merge``: results identical to one process; mismatched or missing shards refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmms_eval.cli.main import main
from lmms_eval.engine.cache_merge import merge_caches
from lmms_eval.engine.distributed import assign_by_cost
from lmms_eval.engine.plan import Plan
from lmms_eval.engine.shards import ShardSlice, parse_shard
from lmms_eval.judge.cache import JudgeCache

TESTS = Path(__file__).parent
MODEL = "scripted_model:ScriptedModel"
SLOW = "batch=2,sleep_s=0.25"  # 8 samples a shard: ~2 s, time enough to kill one mid-run


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def _start(toy_tasks: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    args = ["--model", MODEL, "--model_args", SLOW, "--tasks", "toy_group", "--include_path", str(toy_tasks)]
    return subprocess.Popen(
        [sys.executable, "-m", "lmms_eval", *args, "--no_progress", "--output_path", str(out), *extra],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> None:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]


def _run_dir(out: Path) -> Path:
    (run,) = [p.parent for p in out.rglob("run.json")]
    return run


def _comparable(run_dir: Path) -> dict:
    data = json.loads((run_dir / "results.json").read_text())
    data.pop("date"), data.pop("timing")
    return data


def _merge(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = main(["merge", *map(str, args)])
    return code, capsys.readouterr().err


def test_slice_is_rank_share_and_ignores_finished() -> None:
    plan = Plan()
    costs = [5.0, 1.0, 9.0, 2.0, 2.0, 7.0, 3.0]
    for i, cost in enumerate(costs):
        plan.add(0, i, 0, cost)
    owner = assign_by_cost(costs, 3)
    for k in (1, 2, 3):
        assert list(ShardSlice.of(f"{k}/3").slice(plan).index) == [i for i, o in enumerate(owner) if o == k - 1]
    resumed = ShardSlice.of("1/3")
    mine = [i for i, o in enumerate(owner) if o == 0]

    class Done:  # a finished record of the shard's first sample
        index, repeat, generated = mine[0], 0, True

    resumed.note(0, Done())  # type: ignore[arg-type]
    assert list(resumed.slice(plan).index) == mine[1:], "a resumed shard keeps its slice, minus what it finished"
    assert parse_shard("2/3") == (2, 3)


@pytest.mark.parametrize("bad", ["0/3", "4/3", "2/0", "x", "1/", "-1/3"])
def test_bad_shard_is_a_usage_error(bad: str, toy_tasks: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--model", MODEL, "--tasks", "toy_group", "--include_path", str(toy_tasks), f"--shard={bad}"])
    err = capsys.readouterr().err
    assert code == 2 and "--shard must be K/N" in err and len(err.strip().splitlines()) == 1, err


def test_three_shards_one_killed_merge_equals_one_process(
    toy_tasks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _start(toy_tasks, tmp_path / "one")
    shards = {k: tmp_path / f"shard{k}" for k in (1, 2, 3)}
    procs = {k: _start(toy_tasks, out, "--shard", f"{k}/3") for k, out in shards.items()}
    other = _start(toy_tasks, tmp_path / "other", "--shard", "3/3", "--limit", "6")  # another run's shard

    # kill shard 2 once its first batch is on disk, then resume it
    deadline = time.time() + 60
    log = None
    while time.time() < deadline and log is None:
        logs = [p for p in shards[2].rglob("samples_*.jsonl") if p.stat().st_size > 0]
        log = logs[0] if logs else None
        time.sleep(0.01)
    assert log is not None, "shard 2 wrote no sample"
    procs[2].send_signal(signal.SIGKILL)
    procs[2].communicate(timeout=60)
    assert not list(shards[2].rglob("results.json")), "shard 2 was killed before finishing"
    for k in (1, 3):
        _finish(procs[k])
    killed = _run_dir(shards[2])
    code, err = _merge(capsys, *(_run_dir(shards[k]) for k in (1, 2, 3)), "--output_path", tmp_path / "m0")
    assert code == 2 and "shard 2/3" in err and "did not finish" in err and "--resume" in err, err
    _finish(_start(toy_tasks, shards[2], "--shard", "2/3", "--resume"))
    assert _run_dir(shards[2]) == killed, "the resumed shard continues its own folder"
    _finish(one)
    _finish(other)

    dirs = {k: _run_dir(out) for k, out in shards.items()}
    sizes = {}
    for k, run in dirs.items():
        shard_results = json.loads((run / "results.json").read_text())
        assert shard_results["shard"]["index"] == k and shard_results["shard"]["count"] == 3
        ids = [json.loads(x)["id"] for p in run.glob("samples_*.jsonl") for x in p.read_text().splitlines()]
        sizes[k] = len(set(ids))
        assert len(ids) == sizes[k], f"shard {k} generated a sample twice (resume repeated work)"
    assert sum(sizes.values()) == 24 and all(size == 8 for size in sizes.values())

    # merged: identical to one process
    code, err = _merge(capsys, dirs[3], dirs[1], dirs[2], "--output_path", tmp_path / "merged")
    assert code == 0, err
    merged = _run_dir(tmp_path / "merged")
    assert _comparable(merged) == _comparable(_run_dir(tmp_path / "one"))
    assert not list(merged.glob("*.rank*.jsonl")), "the shards' logs are folded into one log per task"
    assert len((merged / "samples_say_word.jsonl").read_text().splitlines()) == 12

    # refused: a shard of another run, a missing shard, a shard given twice, a sample in two shards
    code, err = _merge(capsys, dirs[1], dirs[2], _run_dir(tmp_path / "other"), "--output_path", tmp_path / "m1")
    assert code == 2 and "not one run" in err and "limit differs" in err, err
    code, err = _merge(capsys, dirs[1], dirs[3], "--output_path", tmp_path / "m2")
    assert code == 2 and "shard 2/3 missing" in err, err
    code, err = _merge(capsys, dirs[1], dirs[1], dirs[2], dirs[3], "--output_path", tmp_path / "m3")
    assert code == 2 and "given twice" in err, err
    fake = tmp_path / "fake3"
    shutil.copytree(dirs[1], fake)
    run = json.loads((fake / "run.json").read_text())
    run["config"]["shard"] = "3/3"
    (fake / "run.json").write_text(json.dumps(run))
    code, err = _merge(capsys, dirs[1], dirs[2], fake, "--output_path", tmp_path / "m4")
    assert code == 2 and "is in shard 1/3" in err, err
    code, err = _merge(capsys, merged, "--output_path", tmp_path / "m5")
    assert code == 2 and "not a shard's run folder" in err, err
    assert not any((tmp_path / f"m{i}").exists() for i in range(6)), "a refused merge writes nothing"


def test_scheduler_examples_run_shards_then_merge() -> None:
    yaml = pytest.importorskip("yaml")
    examples = TESTS.parent / "examples" / "scale"
    script = (examples / "slurm_array.sh").read_text()
    assert subprocess.run(["bash", "-n", str(examples / "slurm_array.sh")]).returncode == 0
    assert '--shard "$K/$N"' in script and "--resume" in script and "SLURM_ARRAY_TASK_ID + 1" in script
    assert "--dependency=afterok" in script and "lmms-eval merge" in script
    shards, merge = yaml.safe_load_all((examples / "k8s_indexed_job.yaml").read_text())
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"]
    (container,) = spec["template"]["spec"]["containers"]
    assert {"name": "N", "value": str(spec["completions"])} in container["env"]
    assert "JOB_COMPLETION_INDEX + 1" in container["args"][0] and '--shard "$K/$N"' in container["args"][0]
    assert "lmms-eval merge" in merge["spec"]["template"]["spec"]["containers"][0]["args"][0]


def test_shard_caches_fold_into_one(tmp_path: Path) -> None:
    """The shards' judge replies reach the merged folder's cache: re-judging there calls nothing."""
    for shard, keys in (("a", ["k1", "k2"]), ("b", ["k3"]), ("c", [])):
        with JudgeCache(str(tmp_path / shard / "cache.sqlite")) as cache:
            for key in keys:
                cache.put(key, "judge", "t", "i", f"reply {key} from {shard}")
    with JudgeCache(str(tmp_path / "merged.sqlite")) as cache:
        cache.put("k1", "judge", "t", "i", "already here")
    sources = [str(tmp_path / s / "cache.sqlite") for s in "abcd"]  # d: a shard without a cache
    assert merge_caches(sources, str(tmp_path / "merged.sqlite")) == 2
    with JudgeCache(str(tmp_path / "merged.sqlite")) as cache:
        assert len(cache) == 3
        assert cache.get("k3")["reply"] == "reply k3 from b"  # type: ignore[index]
        assert cache.get("k1")["reply"] == "already here"  # type: ignore[index]
