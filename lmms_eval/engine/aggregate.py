"""Fold task tallies into ``results.json`` (lm-eval's familiar layout) plus groups."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lmms_eval.api.record import SampleRecord
from lmms_eval.engine.breakdown import base_metric, breakdown_results, labeller
from lmms_eval.engine.sample_store import iter_task_logs
from lmms_eval.engine.stats import stderr_for, weighted_mean, weighted_mean_stderr
from lmms_eval.engine.tally import TaskTally
from lmms_eval.reporting.provenance import environment

if TYPE_CHECKING:
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks import TaskSelection
    from lmms_eval.tasks.task import Task

MAX_ERROR_EXAMPLES = 5


log = logging.getLogger("lmms_eval")


def new_tally(task: Task) -> TaskTally:
    """An empty tally for ``task`` (labelling samples by its ``breakdown:``, if any)."""
    return TaskTally(task.config.repeats, labeller(task))


def tally_records(task: Task, records: Iterable[SampleRecord]) -> TaskTally:
    """A task's tally from records (a later record of a sample replaces an earlier one)."""
    return new_tally(task).extend(records)


def tally_log(task: Task, run_dir: str) -> TaskTally:
    """A task's tally, streamed from its sample log(s) in the run folder."""
    return tally_records(task, iter_task_logs(run_dir, task.name))


def _clean(value: float) -> float | None:
    return None if isinstance(value, float) and math.isnan(value) else value


def task_results(task: Task, tally: TaskTally, bootstrap_iters: int) -> tuple[dict[str, Any], dict[str, bool]]:
    """One task's entry of ``results``: metric values and stderrs keyed ``metric,filter``.

    Only samples with status ``ok`` count; failed ones are reported in ``n_errors``.
    """
    entry: dict[str, Any] = {"alias": task.config.task_alias or task.name}
    higher: dict[str, bool] = {}
    for key in tally.metric_keys():
        metric, filt = key.split(",", 1)
        aggregate, hib = task.aggregation(metric)
        values = tally.values(key)
        entry[key] = _clean(aggregate(values)) if len(values) else None
        seed_text = f"{task.name}/{key}"
        stderr = stderr_for(values, aggregate, bootstrap_iters, seed_text) if len(values) else None
        entry[f"{metric}_stderr,{filt}"] = _clean(stderr) if stderr is not None else None
        higher[metric] = hib
    entry.update(breakdown_results(task, tally, bootstrap_iters, higher))
    entry["n_samples"] = tally.n_samples
    entry["n_errors"] = tally.n_errors
    return entry, higher


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
    if group.report is not None:
        entry.update(group_report(name, group.report, {m: results[m] for m in members}))
    entry["n_samples"] = sum(sizes.get(m, 0) for m in members)
    return entry


def group_report(name: str, report: Any, members: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A group's ``report:`` function applied to its members' result entries: each returned
    ``name -> number`` becomes the group's ``"name,report"`` value (a failing report is logged
    and left out; it never loses the run's results)."""
    try:
        values = report(members)
    except Exception as exc:  # noqa: BLE001 - a report is a summary; the members' results stand
        log.warning(
            "group %r: report %s failed: %s: %s", name, getattr(report, "__name__", report), type(exc).__name__, exc
        )
        return {}
    return {f"{key},report": _clean(float(value)) if value is not None else None for key, value in values.items()}


def build_results(selection: TaskSelection, cfg: RunConfig, tallies: Mapping[str, TaskTally]) -> dict[str, Any]:
    """The results dict of a run, computed from its tasks' tallies alone (no timing fields)."""
    results: dict[str, dict[str, Any]] = {}
    higher: dict[str, dict[str, bool]] = {}
    errors: dict[str, Any] = {}
    n_samples: dict[str, dict[str, int]] = {}
    usage: dict[str, dict[str, Any]] = {}
    sizes: dict[str, int] = {}
    for name, task in selection.tasks.items():
        tally = tallies[name]
        results[name], higher[name] = task_results(task, tally, cfg.bootstrap_iters)
        sizes[name] = tally.n_ok
        usage[name] = tally.usage_totals()
        if tally.n_errors:
            errors[name] = {"count": tally.n_errors, "examples": tally.error_examples(MAX_ERROR_EXAMPLES)}
        n_samples[name] = {"original": len(task.source), "effective": len(task.doc_ids(cfg.limit, cfg.offset))}
    units: dict[str, dict[str, str]] = {
        n: {m: metric_unit(t, m) for m in higher[n]} for n, t in selection.tasks.items()
    }
    group_order = _groups_bottom_up(selection)
    for name in group_order:
        results[name] = group_results(name, selection, results, sizes)
        sizes[name] = results[name]["n_samples"]
        higher[name], units[name] = _group_metric_traits(results[name], selection.group_members[name], higher, units)
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
        "units": units,
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


def _group_metric_traits(
    entry: dict[str, Any], members: list[str], higher: dict[str, dict[str, bool]], units: dict[str, dict[str, str]]
) -> tuple[dict[str, bool], dict[str, str]]:
    """A group's higher_is_better and unit per aggregated metric: those of its members' metric
    (a report value has neither)."""
    group_higher: dict[str, bool] = {}
    group_units: dict[str, str] = {}
    for key in entry:
        if "," not in key or "_stderr," in key or key.endswith(",report"):
            continue
        metric = key.split(",", 1)[0]
        for member in members:
            if metric in higher.get(member, {}):
                group_higher[metric] = higher[member][metric]
                group_units[metric] = units.get(member, {}).get(metric, "")
                break
    return group_higher, group_units


def metric_unit(task: Task, metric: str) -> str:
    """The scale of a task's aggregated metric (``0-1``, ``%``, ``0-100``, ``points``), or ``""``
    when unknown (a task's own ``process_results`` metric or a custom aggregation)."""
    from lmms_eval.api.metric import mean
    from lmms_eval.api.registry import METRICS

    metric = base_metric(task, metric)
    for spec in task.config.metric_list:
        if spec.metric == metric:
            if spec.aggregation is not None and not isinstance(spec.aggregation, str):
                return ""
            return METRICS.get(metric).unit if metric in METRICS else ""
    for judge in task.judge_specs:  # a judge block's metric: by grading type
        if metric != judge.metric_name:
            continue
        if judge.type in ("rating", "pairwise_rating"):
            return "points"  # on the block's rating_range
        scorer = judge.scorer() if judge.type == "extract" else None
        if scorer is not None:  # judge values are averaged: the scorer's unit holds if it averages too
            registered = METRICS.get(scorer.metric) if scorer.metric in METRICS else None
            return registered.unit if registered is not None and registered.aggregate is mean else ""
        return "0-1"  # binary 1/0, rubric sum(scores)/sum(weights)
    from lmms_eval.agent.usage import HIGHER_IS_BETTER

    if task.agent_protocol is not None and metric in HIGHER_IS_BETTER:  # tool use: shares, or counts
        return "" if metric in ("turns", "tool_calls") else "0-1"
    return ""


def mean_latency(tallies: Iterable[TaskTally]) -> float | None:
    """Mean per-sample model latency over every sample that reported one."""
    total, count = 0.0, 0
    for tally in tallies:
        t, c = tally.latency_sum_count()
        total, count = total + t, count + c
    return round(total / count, 4) if count else None


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
