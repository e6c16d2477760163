"""Load what ``compare`` compares: a run folder, its ``results.json``, or a golden file.

Everything becomes a :class:`RunData`: the recorded values per task and ``metric,filter``,
each metric's direction and unit, the run's configuration, and (for run folders) the
per-sample scores of every ``ok`` sample, keyed by ``(doc_id, repeat)``. Samples are paired on
that key rather than on the record ``id``: the id hashes the task config, so two runs whose
prompts differ would otherwise share no sample at all.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import UsageError

RESULTS_FILE = "results.json"
GOLDEN_FORMAT = "lmms-eval-golden"

SampleKey = tuple[str, int]


@dataclass
class RunData:
    """One side of a comparison."""

    label: str
    """Where it came from (the path given)."""
    kind: str
    """``run`` (a folder with sample logs), ``results`` (a results.json alone) or ``golden``."""
    values: dict[str, dict[str, float | None]]
    """task -> ``metric,filter`` -> recorded value."""
    stderrs: dict[str, dict[str, float | None]] = field(default_factory=dict)
    higher_is_better: dict[str, dict[str, bool]] = field(default_factory=dict)
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    tolerances: dict[str, dict[str, float]] = field(default_factory=dict)
    """Golden files only: task -> ``metric,filter`` -> allowed drop."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The results.json content (or the golden file's), for config checks."""
    run_dir: str | None = None
    _samples: dict[str, dict[SampleKey, Any]] = field(default_factory=dict)

    def has_samples(self, task: str) -> bool:
        """Whether the task's sample log is there to pair samples."""
        return self.run_dir is not None and os.path.exists(self._log_path(task))

    def records(self, task: str) -> dict[SampleKey, Any]:
        """The task's finished records by ``(doc_id, repeat)`` (the last record of an id wins)."""
        if task not in self._samples:
            from lmms_eval.engine.sample_store import read_task_logs

            if self.run_dir is None:
                self._samples[task] = {}
            else:
                try:
                    recs = read_task_logs(self.run_dir, task)
                except OSError as exc:
                    raise UsageError(f"cannot read the samples of {task} in {self.run_dir}: {exc}") from None
                self._samples[task] = {(json.dumps(r.doc_id, default=str), r.repeat): r for r in recs.values()}
        return self._samples[task]

    def scores(self, task: str, key: str) -> dict[SampleKey, Any]:
        """Per-sample values of ``metric,filter`` over the task's ``ok`` samples."""
        out = {}
        for k, rec in self.records(task).items():
            if rec.status == "ok" and rec.scores and rec.scores.get(key) is not None:
                out[k] = rec.scores[key]
        return out

    def _log_path(self, task: str) -> str:
        return os.path.join(self.run_dir or "", f"samples_{task}.jsonl")

    def direction(self, task: str, key: str) -> bool | None:
        """True if higher is better, False if lower is, None when the run does not say."""
        metric, _, filt = key.partition(",")
        if filt == "report":
            return None
        return self.higher_is_better.get(task, {}).get(metric)

    def unit(self, task: str, key: str) -> str:
        return self.units.get(task, {}).get(key.partition(",")[0], "")


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}; give a run folder or its results.json") from None
    except ValueError as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); give a run folder or its results.json") from None


def metric_keys(entry: dict[str, Any]) -> list[str]:
    """The ``metric,filter`` keys of one task's results entry (no stderrs, no breakdown labels)."""
    return [k for k in entry if k.count(",") == 1 and "_stderr," not in k]


def from_results(payload: dict[str, Any], label: str, run_dir: str | None) -> RunData:
    """A :class:`RunData` from a results.json's content."""
    results = payload.get("results")
    if not isinstance(results, dict):
        raise UsageError(f"{label} has no 'results' table; give a run folder, its results.json or a golden file")
    values: dict[str, dict[str, float | None]] = {}
    stderrs: dict[str, dict[str, float | None]] = {}
    for task, entry in results.items():
        if not isinstance(entry, dict):
            continue
        keys = metric_keys(entry)
        values[task] = {k: _number(entry[k]) for k in keys}
        stderrs[task] = {}
        for k in keys:
            metric, filt = k.split(",", 1)
            stderrs[task][k] = _number(entry.get(f"{metric}_stderr,{filt}"))
    return RunData(
        label=label,
        kind="run" if run_dir else "results",
        values=values,
        stderrs=stderrs,
        higher_is_better=payload.get("higher_is_better") or {},
        units=payload.get("units") or {},
        raw=payload,
        run_dir=run_dir,
    )


def from_golden(payload: dict[str, Any], label: str) -> RunData:
    """A :class:`RunData` from a golden file (format in :mod:`lmms_eval.compare.golden`)."""
    tasks = payload.get("tasks")
    if not isinstance(tasks, dict):
        raise UsageError(f"{label}: a golden file needs a 'tasks' mapping (task -> metric -> value)")
    values: dict[str, dict[str, float | None]] = {}
    hib: dict[str, dict[str, bool]] = {}
    units: dict[str, dict[str, str]] = {}
    tols: dict[str, dict[str, float]] = {}
    for task, metrics in tasks.items():
        if not isinstance(metrics, dict):
            raise UsageError(f"{label}: tasks.{task} must map metric names to values")
        values[task], hib[task], units[task], tols[task] = {}, {}, {}, {}
        for name, spec in metrics.items():
            key = name if "," in name else f"{name},none"
            metric = key.split(",", 1)[0]
            if isinstance(spec, (int, float)) and not isinstance(spec, bool):
                spec = {"value": spec}
            if not isinstance(spec, dict) or not isinstance(spec.get("value"), (int, float)):
                raise UsageError(f"{label}: tasks.{task}.{name} needs a number or {{value: number, tolerance: number}}")
            values[task][key] = float(spec["value"])
            if "tolerance" in spec:
                tols[task][key] = float(spec["tolerance"])
            if "higher_is_better" in spec:
                hib[task][metric] = bool(spec["higher_is_better"])
            if "unit" in spec:
                units[task][metric] = str(spec["unit"])
    return RunData(
        label=label, kind="golden", values=values, higher_is_better=hib, units=units, tolerances=tols, raw=payload
    )


def load_side(path: str, allow_golden: bool = True) -> RunData:
    """Load a run folder, a results.json, or (if allowed) a golden file; one-line errors otherwise."""
    if os.path.isdir(path):
        results = os.path.join(path, RESULTS_FILE)
        if not os.path.exists(results):
            raise UsageError(
                f"{path} has no {RESULTS_FILE}; give a finished run folder (or run `lmms-eval score {path}` first)"
            )
        return from_results(_read_json(results), path, path)
    if not os.path.exists(path):
        raise UsageError(f"{path} does not exist; give a run folder, its results.json or a golden file")
    payload = _read_json(path)
    if not isinstance(payload, dict):
        raise UsageError(f"{path} is not a results.json or golden file (not a JSON object)")
    if payload.get("format") == GOLDEN_FORMAT or ("tasks" in payload and "results" not in payload):
        if not allow_golden:
            raise UsageError(f"{path} is a golden file; it can only be the baseline (--baseline {path})")
        return from_golden(payload, path)
    folder = os.path.dirname(os.path.abspath(path))
    has_logs = any(n.startswith("samples_") and n.endswith(".jsonl") for n in os.listdir(folder))
    return from_results(payload, path, folder if has_logs else None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)
