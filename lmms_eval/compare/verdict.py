"""Tolerances and verdicts: which metric changes are regressions.

A change is measured in the metric's own units and direction-aware: for a higher-is-better
metric the *drop* is ``baseline - candidate``, for a lower-is-better one (WER) it is
``candidate - baseline``. A row is a regression when its drop exceeds the allowed drop
(``--max-drop``, per metric or global, default 0) and, under ``--fail-on significant`` (the
default), the paired test also finds the change significant (p < alpha). Under
``--fail-on any``, or where no test can run (a golden file), the tolerance alone decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.compare.configdiff import config_warnings
from lmms_eval.compare.pairing import AggregateResolver, include_paths_of, paired_test
from lmms_eval.compare.runs import RunData

FAIL_ON = ("significant", "any")


@dataclass
class Tolerances:
    """Allowed drops: a global one and per-metric overrides.

    Override keys, most specific first: ``task/metric,filter``, ``task/metric``,
    ``metric,filter``, ``metric``.
    """

    default: float = 0.0
    per_metric: dict[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: list[str] | None) -> Tolerances:
        """From ``--max-drop`` values: ``0.5``, ``wer=0.3``, ``demo_asr/wer=1,anls=0.02``."""
        tol = cls()
        for spec in specs or []:
            for part in filter(None, (p.strip() for p in spec.split(";"))):
                name, sep, value = part.rpartition("=")
                try:
                    number = float(value)
                except ValueError:
                    raise UsageError(
                        f"--max-drop {part!r}: give a number (0.5) or METRIC=NUMBER (wer=0.3, demo_asr/wer=1)"
                    ) from None
                if number < 0 or math.isnan(number):
                    raise UsageError(f"--max-drop {part!r}: the allowed drop must be >= 0")
                if sep:
                    tol.per_metric[name.strip()] = number
                else:
                    tol.default = number
        return tol

    def allowed(self, task: str, key: str, golden: float | None = None) -> float:
        """The allowed drop for ``task``'s ``metric,filter`` (a golden file's own tolerance
        comes after explicit per-metric flags and before the global default)."""
        metric, _, filt = key.partition(",")
        for name in (f"{task}/{key}", f"{task}/{metric}", key, metric):
            if name in self.per_metric:
                return self.per_metric[name]
        return golden if golden is not None else self.default


def _drop(base: float, cand: float, higher: bool | None) -> float | None:
    if higher is None:
        return None
    return base - cand if higher else cand - base


def compare_runs(
    base: RunData,
    cand: RunData,
    tolerances: Tolerances,
    fail_on: str = "significant",
    alpha: float = 0.05,
    iters: int = 1000,
    seed: int = 0,
    tasks: list[str] | None = None,
    allow_missing: bool = False,
) -> dict[str, Any]:
    """Compare ``cand`` against ``base``: one row per task and metric, warnings, a verdict.

    Returns ``{"baseline", "candidate", "rows", "warnings", "regressions", "exit_code", ...}``;
    ``exit_code`` is 1 when any row is a regression, else 0. A task or metric the baseline has
    and the candidate lacks is a regression unless ``allow_missing``.
    """
    if fail_on not in FAIL_ON:
        raise UsageError(f"--fail-on {fail_on!r}: choose significant or any")
    resolver = AggregateResolver(include_paths_of(cand) + include_paths_of(base))
    names = list(dict.fromkeys(list(base.values) + list(cand.values)))
    if tasks:
        unknown = [t for t in tasks if t not in names]
        if unknown:
            raise UsageError(f"--tasks: {', '.join(unknown)} in neither run; the runs have {', '.join(names)}")
        names = [t for t in names if t in tasks]
    rows: list[dict[str, Any]] = []
    for task in names:
        keys = list(dict.fromkeys(list(base.values.get(task, {})) + list(cand.values.get(task, {}))))
        for key in keys:
            rows.append(_row(base, cand, task, key, tolerances, fail_on, alpha, iters, seed, resolver, allow_missing))
    regressions = [r for r in rows if r["verdict"] == "regression"]
    return {
        "baseline": base.label,
        "candidate": cand.label,
        "baseline_kind": base.kind,
        "settings": {"fail_on": fail_on, "alpha": alpha, "iters": iters, "seed": seed, "max_drop": tolerances.default},
        "rows": rows,
        "warnings": config_warnings(base, cand, [t for t in names if t in base.values and t in cand.values]),
        "regressions": len(regressions),
        "exit_code": 1 if regressions else 0,
    }


def _row(
    base: RunData,
    cand: RunData,
    task: str,
    key: str,
    tolerances: Tolerances,
    fail_on: str,
    alpha: float,
    iters: int,
    seed: int,
    resolver: AggregateResolver,
    allow_missing: bool,
) -> dict[str, Any]:
    vb, vc = base.values.get(task, {}).get(key), cand.values.get(task, {}).get(key)
    higher = cand.direction(task, key)
    if higher is None:
        higher = base.direction(task, key)
    row: dict[str, Any] = {
        "task": task,
        "metric": key,
        "higher_is_better": higher,
        "unit": cand.unit(task, key) or base.unit(task, key),
        "baseline": vb,
        "candidate": vc,
        "delta": None if vb is None or vc is None else vc - vb,
    }
    if task not in cand.values or (key in base.values.get(task, {}) and vc is None):
        where = "task" if task not in cand.values else "metric"
        verdict = "missing (allowed)" if allow_missing else "regression"
        return {**row, "verdict": verdict, "note": f"{where} missing from the candidate"}
    if task not in base.values or key not in base.values.get(task, {}) or vb is None:
        return {**row, "verdict": "new", "note": "not in the baseline"}
    test = paired_test(base, cand, task, key, resolver, iters, seed, 1.0 - alpha) if base.kind != "golden" else {}
    row["test"] = test or {"method": "none", "p_value": None, "why": "golden value (no samples)"}
    assert vc is not None
    delta = test.get("delta_shared")
    if delta is None or base.kind == "golden":
        delta = vc - vb
    row["delta_tested"] = delta
    allowed = tolerances.allowed(task, key, base.tolerances.get(task, {}).get(key))
    row["max_drop"] = allowed
    drop = _drop(0.0, delta, higher)
    p = row["test"].get("p_value")
    significant = p is not None and p < alpha
    row["significant"] = significant if p is not None else None
    if drop is None:
        return {**row, "verdict": "not gated", "note": "the run declares no direction for this metric"}
    notes = []
    n_only = (test.get("n_only_baseline") or 0) + (test.get("n_only_candidate") or 0)
    if n_only:
        notes.append(f"tested on the {test.get('n_shared')} shared samples (delta there {delta:+.4g})")
    use_test = fail_on == "significant" and p is not None
    if p is None and fail_on == "significant":
        notes.append("no test: tolerance alone")
    if drop > allowed + 1e-12 and (significant or not use_test):
        verdict = "regression"
    elif drop > allowed + 1e-12:
        verdict = "ok"
        notes.append("drop not significant")
    elif -drop > allowed + 1e-12 and (significant or not use_test):
        verdict = "improved"
    else:
        verdict = "ok"
    return {**row, "verdict": verdict, "note": "; ".join(notes)}
