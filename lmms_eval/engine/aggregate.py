"""Fold sample logs into ``results.json`` (lm-eval's familiar layout) plus groups."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lmms_eval.engine.sample_store import read_task_logs
from lmms_eval.engine.stats import stderr_for, weighted_mean, weighted_mean_stderr
from lmms_eval.reporting.provenance import environment

if TYPE_CHECKING:
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks import TaskSelection
    from lmms_eval.tasks.task import Task

MAX_ERROR_EXAMPLES = 5


_SLIM_KEYS = ("id", "doc_id", "index", "repeat", "status", "error", "scores", "usage")


def slim(record: dict[str, Any]) -> dict[str, Any]:
    """The fields aggregation reads, so a run need not keep whole records in memory."""
    return {k: record.get(k) for k in _SLIM_KEYS}


def ordered_records(task: Task, run_dir: str, records: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """A task's records in document order (the last record of each sample wins).

    ``records`` (id -> record) are the ones the evaluator kept in memory; without them the
    sample log is read.
    """
    if records is None:
        records = read_task_logs(run_dir, task.name)
    ordered = list(records.values())
    ordered.sort(key=lambda r: (r["index"], r["repeat"]))
    return ordered


def _clean(value: float) -> float | None:
    return None if isinstance(value, float) and math.isnan(value) else value


def task_results(
    task: Task, records: list[dict[str, Any]], bootstrap_iters: int
) -> tuple[dict[str, Any], dict[str, bool]]:
    """One task's entry of ``results``: metric values and stderrs keyed ``metric,filter``."""
    ok = [r for r in records if r["status"] == "ok" and r.get("scores") is not None]
    entry: dict[str, Any] = {"alias": task.config.task_alias or task.name}
    higher: dict[str, bool] = {}
    keys: list[str] = []
    for record in ok:
        for key in record["scores"]:
            if key not in keys:
                keys.append(key)
    for key in keys:
        metric, filt = key.split(",", 1)
        aggregate, hib = task.aggregation(metric)
        values = [r["scores"][key] for r in ok if r["scores"].get(key) is not None]
        entry[key] = _clean(aggregate(values)) if values else None
        seed_text = f"{task.name}/{key}"
        entry[f"{metric}_stderr,{filt}"] = (
            _clean(stderr_for(values, aggregate, bootstrap_iters, seed_text)) if values else None
        )
        higher[metric] = hib
    entry["n_samples"] = len(records)
    entry["n_errors"] = sum(1 for r in records if r["status"] != "ok")
    return entry, higher


def usage_totals(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Prompt and completion tokens summed over a task's samples (None where no adapter counted)."""
    out: dict[str, Any] = {}
    for key in ("prompt_tokens", "completion_tokens"):
        counts = [(r.get("usage") or {}).get(key) for r in records]
        known = [c for c in counts if c is not None]
        out[key] = int(sum(known)) if known else None
    return out


def group_results(
    name: str, selection: TaskSelection, results: dict[str, dict[str, Any]], sizes: dict[str, int]
) -> dict[str, Any]:
    """A group's entry: each aggregate metric over its members (mean, optionally size-weighted)."""
    group = selection.groups[name]
    members = [m for m in selection.group_members[name] if m in results]
    entry: dict[str, Any] = {"alias": group.group_alias or name}
    for spec in group.aggregate_metric_list:
        filters = [spec.filter_list] if isinstance(spec.filter_list, str) else spec.filter_list
        for filt in filters:
            key = f"{spec.metric},{filt}"
            have = [m for m in members if results[m].get(key) is not None]
            if not have:
                continue
            weights = [float(sizes.get(m, 1)) if spec.weight_by_size else 1.0 for m in have]
            values = [float(results[m][key]) for m in have]
            stderrs = [
                float("nan")
                if results[m].get(f"{spec.metric}_stderr,{filt}") is None
                else float(results[m][f"{spec.metric}_stderr,{filt}"])
                for m in have
            ]
            entry[key] = _clean(weighted_mean(values, weights))
            entry[f"{spec.metric}_stderr,{filt}"] = _clean(weighted_mean_stderr(stderrs, weights))
    entry["n_samples"] = sum(sizes.get(m, 0) for m in members)
    return entry


def build_results(
    selection: TaskSelection,
    cfg: RunConfig,
    run_dir: str,
    records_by_task: dict[str, dict[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The results dict for a run directory, computed from its sample records alone."""
    results: dict[str, dict[str, Any]] = {}
    higher: dict[str, dict[str, bool]] = {}
    errors: dict[str, Any] = {}
    n_samples: dict[str, dict[str, int]] = {}
    usage: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}
    for name, task in selection.tasks.items():
        records = ordered_records(task, run_dir, (records_by_task or {}).get(name))
        results[name], higher[name] = task_results(task, records, cfg.bootstrap_iters)
        sizes[name] = sum(1 for r in records if r["status"] == "ok")
        usage[name] = usage_totals(records)
        failed = [r for r in records if r["status"] != "ok"]
        if failed:
            errors[name] = {
                "count": len(failed),
                "examples": [{"doc_id": r["doc_id"], "error": r["error"]} for r in failed[:MAX_ERROR_EXAMPLES]],
            }
        n_samples[name] = {"original": len(task.source), "effective": len(task.doc_ids(cfg.limit, cfg.offset))}
    group_order = _groups_bottom_up(selection)
    for name in group_order:
        results[name] = group_results(name, selection, results, sizes)
        sizes[name] = results[name]["n_samples"]
    ordered = {n: results[n] for n in list(selection.tasks) + group_order}
    env = environment()
    return {
        "results": ordered,
        "groups": {n: results[n] for n in group_order},
        "group_subtasks": {n: list(selection.group_members[n]) for n in group_order},
        "configs": {n: t.plain_config() for n, t in selection.tasks.items()},
        "versions": {
            **{n: t.config.version for n, t in selection.tasks.items()},
            **{n: selection.groups[n].metadata.get("version", 0) for n in group_order},
        },
        "n-samples": n_samples,
        "higher_is_better": higher,
        "errors": errors,
        "usage": usage,
        "config": {
            "model": cfg.model,
            "model_args": cfg.model_args,
            "batch_size": cfg.batch_size,
            "limit": cfg.limit,
            "offset": cfg.offset,
            "gen_kwargs": cfg.gen_kwargs,
            "seed": cfg.seed,
            "bootstrap_iters": cfg.bootstrap_iters,
            "predict_only": cfg.predict_only,
        },
        "task_hashes": {n: t.config_hash for n, t in selection.tasks.items()},
        "dataset": {n: t.dataset_info() for n, t in selection.tasks.items()},
        "git_hash": env["git_hash"],
        "environment": {k: v for k, v in env.items() if k != "git_hash"},
    }


def _groups_bottom_up(selection: TaskSelection) -> list[str]:
    """Groups ordered so that a nested group comes before the group containing it."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for member in selection.group_members[name]:
            if member in selection.groups:
                visit(member)
        order.append(name)

    for name in selection.groups:
        visit(name)
    return order
