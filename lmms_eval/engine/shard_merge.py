"""Fold the run folders of ``--shard K/N`` runs into one run (``lmms-eval merge``).

The shards must be one run cut in N: the same task config hashes and data, model and model
args, generation parameters, limits, seed, prompt variant and judge; every K of 1..N exactly
once; every shard finished; no sample in two shards. Anything else is refused with a one-line
:class:`UsageError` naming what differs or what is missing. The merge itself reuses the
data-parallel path's pieces: each shard's log becomes a rank log of the new folder and
:func:`lmms_eval.engine.rescore.rescore_run` folds the rank logs, scores, judges and aggregates,
so the results equal a single-process run's. The shards' call caches are folded into the
merged folder's cache first, so judging the merged logs again makes no judge call.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.engine.cache_merge import merge_caches
from lmms_eval.engine.outcome import RunOutcome
from lmms_eval.engine.rescore import rescore_run
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.engine.run_dir import (
    RESULTS_FILE,
    RUN_FILE,
    find_run_dir,
    make_run_dir,
    read_json,
    read_run_file,
    write_json,
)
from lmms_eval.engine.sample_store import SampleStore, ordered, read_task_logs, samples_path
from lmms_eval.engine.shards import parse_shard, shard_label
from lmms_eval.judge.config import default_cache_path

SAME_CONFIG = (
    "model",
    "model_args",
    "tasks",
    "limit",
    "offset",
    "gen_kwargs",
    "prompt_variant",
    "seed",
    "predict_only",
    "bootstrap_iters",
    "judge",
)
"""Run settings every shard must share (``run.json``'s ``config``)."""
SAME_RUN = ("tasks", "task_hashes", "data_fingerprints")
"""``run.json`` entries every shard must share (what was evaluated, exactly)."""


@dataclass
class Shard:
    """One shard's run folder and what its ``run.json`` says."""

    run_dir: str
    run: dict[str, Any]
    index: int
    count: int

    @property
    def label(self) -> str:
        return f"shard {shard_label(self.index, self.count)} ({self.run_dir})"


def read_shard(run_dir: str) -> Shard:
    """The shard in ``run_dir``, or a UsageError when it is no shard's run folder."""
    run = read_run_file(run_dir)
    value = (run.get("config") or {}).get("shard")
    if not value:
        raise UsageError(f"{run_dir} is not a shard's run folder (not run with --shard K/N): nothing to merge")
    index, count = parse_shard(value)
    return Shard(run_dir, run, index, count)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_shards(shards: list[Shard]) -> None:
    """Refuse (one line, exit 2) unless ``shards`` are every slice of one finished run."""
    first = shards[0]
    for shard in shards[1:]:
        if shard.count != first.count:
            raise UsageError(
                f"the shards are not one run: {first.label} is one of {first.count}, {shard.label} one of "
                f"{shard.count}; merge the shards of one --shard K/N run"
            )
        for key in SAME_RUN:
            if shard.run.get(key) != first.run.get(key):
                raise UsageError(_differs(key.replace("_", " "), first, shard, first.run.get(key), shard.run.get(key)))
        for key in SAME_CONFIG:
            mine, theirs = first.run["config"].get(key), shard.run["config"].get(key)
            if mine != theirs:
                raise UsageError(_differs(key, first, shard, mine, theirs))
    seen: dict[int, Shard] = {}
    for shard in shards:
        if shard.index in seen:
            raise UsageError(
                f"shard {shard_label(shard.index, shard.count)} is given twice ({seen[shard.index].run_dir}, "
                f"{shard.run_dir}): give each shard's run folder once"
            )
        seen[shard.index] = shard
    missing = [k for k in range(1, first.count + 1) if k not in seen]
    if missing:
        have = ", ".join(shard_label(k, first.count) for k in sorted(seen))
        names = ", ".join(shard_label(k, first.count) for k in missing)
        raise UsageError(
            f"shard {names} missing (have {have}): run it (--shard {shard_label(missing[0], first.count)}) "
            "and give its run folder too"
        )
    for shard in shards:
        if shard.run.get("status") != "finished":
            raise UsageError(f"{shard.label} did not finish: rerun its command with --resume, then merge")


def _differs(what: str, a: Shard, b: Shard, mine: Any, theirs: Any) -> str:
    return (
        f"the shards are not one run: {what} differs ({a.label}: {_short(mine)}; {b.label}: {_short(theirs)}); "
        "merge only shards started with the same command except --shard"
    )


def merge_shards(
    run_dirs: list[str],
    output_path: str | None = None,
    include_path: list[str] | None = None,
    show_progress: bool = True,
) -> RunOutcome:
    """Check the shards in ``run_dirs``, write the merged run folder and its ``results.json``."""
    shards = sorted((read_shard(d) for d in run_dirs), key=lambda s: s.index)
    check_shards(shards)
    first = shards[0]
    logs = _shard_logs(shards)
    config = dict(first.run["config"])
    config.update(shard=None, resume=False, show_progress=show_progress)
    config["output_path"] = output_path or "./logs"
    cfg = RunConfig(**config)
    run_dir, existing = find_run_dir(cfg)
    if existing:
        raise UsageError(f"{run_dir} already holds a run: give --output_path a new folder for the merged run")
    make_run_dir(run_dir)
    for shard, per_task in zip(shards, logs):  # each shard's log is a rank log: the rank-log merge folds them
        for task, records in per_task.items():
            SampleStore(samples_path(run_dir, task, shard.index - 1)).rewrite(ordered(records.values()))
    run = {**first.run, "status": "finished", "resume_key": cfg.resume_key(), "config": config}
    run["merged_from"] = [os.path.abspath(s.run_dir) for s in shards]
    write_json(os.path.join(run_dir, RUN_FILE), run)
    # the shards' judge replies and tool results: the judge stage below makes no call again
    merge_caches([default_cache_path(s.run_dir) for s in shards], default_cache_path(run_dir))
    outcome = rescore_run(run_dir, include_path)
    outcome.results["timing"] = _timing(shards)
    outcome.results["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    write_json(os.path.join(run_dir, RESULTS_FILE), outcome.results)
    return outcome


def _shard_logs(shards: list[Shard]) -> list[dict[str, dict[str, Any]]]:
    """Each shard's records by task and id; a sample in two shards is refused."""
    owner: dict[tuple[str, str], Shard] = {}
    out = []
    for shard in shards:
        per_task = {}
        for task in shard.run.get("tasks") or []:
            records = read_task_logs(shard.run_dir, task)
            for sample_id in records:
                other = owner.setdefault((task, sample_id), shard)
                if other is not shard:
                    raise UsageError(
                        f"sample {sample_id} of task {task} is in {other.label} and {shard.label}: "
                        "these shards were not cut from one run"
                    )
            per_task[task] = records
        out.append(per_task)
    return out


def _timing(shards: list[Shard]) -> dict[str, Any]:
    """The shards' timing summed (each shard's own is in its results.json)."""
    parts = []
    for shard in shards:
        path = os.path.join(shard.run_dir, RESULTS_FILE)
        parts.append(read_json(path).get("timing", {}) if os.path.exists(path) else {})

    def total(key: str) -> float:
        return round(sum(float(p.get(key) or 0) for p in parts), 3)

    return {
        "total_seconds": total("total_seconds"),
        "generation_seconds": total("generation_seconds"),
        "samples_per_second": None,
        "world_size": int(sum(int(p.get("world_size") or 1) for p in parts)),
        "shards": len(shards),
    }
