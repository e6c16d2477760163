"""Pair the samples two runs share and test whether a metric moved.

The test follows the metric:

* 0/1 per-sample values averaged (accuracy, exact match): McNemar's test on the discordant
  pairs, exact binomial (:func:`lmms_eval.engine.stats.mcnemar_test`);
* other numbers averaged (ANLS, judge scores): the paired sign-flip test with a paired
  bootstrap interval (:func:`lmms_eval.engine.stats.paired_comparison`);
* anything else, i.e. corpus metrics (WER from summed errors and words, BLEU, a task's own
  aggregation): a paired bootstrap that re-aggregates each resample
  (:func:`lmms_eval.engine.stats.paired_bootstrap`).

Without sample logs on both sides (a results.json alone, a golden file), recorded stderrs give
an unpaired z-test when both have one; otherwise no test is run.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

from lmms_eval.compare.runs import RunData
from lmms_eval.engine.stats import mcnemar_test, paired_bootstrap, paired_comparison

log = logging.getLogger("lmms_eval")

Aggregate = Callable[[Sequence[Any]], float]


class AggregateResolver:
    """The aggregation of a task's metric: from the task definition when it still loads,
    else from the metric registry, else the mean (for plain numbers)."""

    def __init__(self, include_path: list[str] | None = None) -> None:
        self.include_path = include_path or []
        self._tasks: dict[str, Any] = {}

    def _task(self, name: str) -> Any:
        if name not in self._tasks:
            try:
                from lmms_eval.tasks import load_selection

                self._tasks[name] = load_selection([name], self.include_path).tasks.get(name)
            except Exception as exc:  # noqa: BLE001 - a task that no longer loads falls back to the registry
                log.debug("compare: task %s does not load (%s); using the metric registry", name, exc)
                self._tasks[name] = None
        return self._tasks[name]

    def __call__(self, task: str, metric: str) -> Aggregate | None:
        loaded = self._task(task)
        if loaded is not None:
            try:
                fn: Aggregate = loaded.aggregation(metric)[0]
                return fn
            except Exception:  # noqa: BLE001 - e.g. a breakdown's macro key: not a per-sample metric
                pass
        try:
            import lmms_eval.metrics  # noqa: F401 - registers the built-in metrics
            from lmms_eval.api.registry import METRICS

            if metric in METRICS:
                registered: Aggregate = METRICS.get(metric).aggregate
                return registered
        except Exception:  # noqa: BLE001
            pass
        return None


def include_paths_of(run: RunData) -> list[str]:
    """The ``--include_path`` folders a run was made with (from its run.json), if known."""
    if run.run_dir is None:
        return []
    try:
        with open(os.path.join(run.run_dir, "run.json"), encoding="utf-8") as fh:
            paths = json.load(fh).get("config", {}).get("include_path") or []
    except (OSError, ValueError):
        return []
    return [p for p in paths if isinstance(p, str) and os.path.isdir(p)]


def _is_binary(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (bool, int, float)) and float(v) in (0.0, 1.0) for v in values)


def _is_numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (bool, int, float)) for v in values)


def paired_test(
    base: RunData,
    cand: RunData,
    task: str,
    key: str,
    resolve: Callable[[str, str], Aggregate | None],
    iters: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """The significance test of ``candidate - baseline`` for one task's ``metric,filter``.

    Returns ``method`` (``none`` when no test could run, with ``why``), ``p_value``, the
    shared-sample counts ``n_shared``, ``n_only_baseline``, ``n_only_candidate`` (run folders),
    ``delta_shared`` (the metric on the shared samples, candidate minus baseline) and, where
    the test gives one, ``ci_low``/``ci_high`` of that delta.
    """
    if not (base.has_samples(task) and cand.has_samples(task)):
        return _z_test(base, cand, task, key)
    sa, sb = base.scores(task, key), cand.scores(task, key)
    shared = sorted(set(sa) & set(sb))
    out: dict[str, Any] = {"n_shared": len(shared), "n_only_baseline": len(set(sa) - set(sb))}
    out["n_only_candidate"] = len(set(sb) - set(sa))
    if not shared:
        return {**out, "method": "none", "p_value": None, "why": "no shared scored samples"}
    va, vb = [sa[k] for k in shared], [sb[k] for k in shared]
    metric = key.split(",", 1)[0]
    aggregate = resolve(task, metric)
    from lmms_eval.api.metric import mean

    is_mean = aggregate is None or aggregate is mean or getattr(aggregate, "__name__", "") == "mean"
    seed_text = f"{seed}/{task}/{key}"
    if is_mean and _is_binary(va + vb):
        b = sum(1 for x, y in zip(va, vb) if float(x) == 1.0 and float(y) == 0.0)
        c = sum(1 for x, y in zip(va, vb) if float(x) == 0.0 and float(y) == 1.0)
        res = mcnemar_test(b, c)
        delta = (c - b) / len(shared)
        return {
            **out,
            "method": res["p_method"],
            "p_value": res["p_value"],
            "delta_shared": delta,
            "discordant": {"baseline_only_right": b, "candidate_only_right": c},
        }
    if is_mean and _is_numeric(va + vb):
        pc = paired_comparison(
            dict(enumerate(map(float, vb))), dict(enumerate(map(float, va))), iters, seed_text, confidence
        )
        return {
            **out,
            "method": pc["p_method"],
            "p_value": _clean(pc["p_value"]),
            "delta_shared": _clean(pc["mean_diff"]),
            "ci_low": _clean(pc["ci_low"]),
            "ci_high": _clean(pc["ci_high"]),
        }
    if aggregate is None:
        return {**out, "method": "none", "p_value": None, "why": f"unknown aggregation of {metric}"}
    try:
        pb = paired_bootstrap(va, vb, aggregate, iters, seed_text, confidence)
    except Exception as exc:  # noqa: BLE001 - a custom aggregation that fails on a resample
        return {**out, "method": "none", "p_value": None, "why": f"aggregation failed: {type(exc).__name__}: {exc}"}
    return {
        **out,
        "method": pb["p_method"],
        "p_value": _clean(pb["p_value"]),
        "delta_shared": _clean(pb["diff"]),
        "ci_low": _clean(pb["ci_low"]),
        "ci_high": _clean(pb["ci_high"]),
    }


def _z_test(base: RunData, cand: RunData, task: str, key: str) -> dict[str, Any]:
    """Unpaired z-test from the recorded stderrs (conservative for paired data)."""
    va, vb = base.values.get(task, {}).get(key), cand.values.get(task, {}).get(key)
    sa, sb = base.stderrs.get(task, {}).get(key), cand.stderrs.get(task, {}).get(key)
    if va is None or vb is None or sa is None or sb is None or not (sa > 0 or sb > 0):
        return {"method": "none", "p_value": None, "why": "no sample logs on both sides and no stderrs"}
    z = (vb - va) / math.sqrt(sa * sa + sb * sb)
    return {"method": "z (recorded stderrs, unpaired)", "p_value": math.erfc(abs(z) / math.sqrt(2.0)), "z": z}


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
