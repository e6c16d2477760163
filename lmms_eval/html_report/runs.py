"""Reading run folders for the HTML report: ``results.json`` split into headline, breakdown and
tool-use values, and the sample logs streamed (all samples for statistics, a capped few kept).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import UsageError

AGENT_FILTER = "agent"
"""The filter name of the tool-use metrics of agent tasks (``"<name>,agent"``, docs/agents.md)."""


@dataclass
class Value:
    """One reported number: a metric under one filter (and maybe one breakdown label)."""

    metric: str
    filter: str
    value: float | None
    stderr: float | None = None


@dataclass
class Breakdown:
    """One metric split by one breakdown field: ``label -> (value, stderr, n)``."""

    metric: str
    filter: str
    name: str
    rows: list[tuple[str, float | None, float | None, int | None]] = field(default_factory=list)


@dataclass
class TaskResult:
    """What ``results.json`` says about one task (or group)."""

    name: str
    alias: str
    headline: list[Value]
    breakdowns: list[Breakdown]
    agent: list[Value]
    n_samples: int | None
    n_errors: int | None
    higher_is_better: dict[str, bool]
    units: dict[str, str]

    def better(self, metric: str) -> bool:
        """Whether a higher value of ``metric`` is better (True when the run does not say)."""
        return bool(self.higher_is_better.get(metric, True))


@dataclass
class Run:
    """One finished run folder."""

    path: str
    label: str
    results: dict[str, Any]
    tasks: list[TaskResult]

    def samples_file(self, task: str) -> str | None:
        """``samples_<task>.jsonl`` of this run, when it exists."""
        path = os.path.join(self.path, f"samples_{task}.jsonl")
        return path if os.path.isfile(path) else None

    def config(self, task: str) -> dict[str, Any]:
        """The task's merged configuration as recorded in ``results.json``."""
        value = self.results.get("configs", {}).get(task)
        return value if isinstance(value, dict) else {}


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty dict (for optional blocks of a record or results)."""
    return value if isinstance(value, dict) else {}


def number(value: Any) -> float | None:
    """``value`` as a finite float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def split_key(key: str) -> tuple[str, str, str | None] | None:
    """``"metric,filter[,name=label]"`` as (metric, filter, "name=label" or None); None for other keys."""
    if "," not in key:
        return None
    parts = key.split(",", 2)
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


def task_result(name: str, values: dict[str, Any], results: dict[str, Any]) -> TaskResult:
    """Split one task's ``results.json`` entry into headline values, breakdowns and tool-use values."""
    headline: list[Value] = []
    agent: list[Value] = []
    splits: dict[tuple[str, str, str], Breakdown] = {}
    counts = mapping(values.get("breakdown_n"))
    for key, raw in values.items():
        parts = split_key(key)
        if parts is None or parts[0].endswith("_stderr"):
            continue
        metric, filt, label = parts
        stderr_key = f"{metric}_stderr,{filt}" + (f",{label}" if label else "")
        stderr = number(values.get(stderr_key))
        if label is None:
            (agent if filt == AGENT_FILTER else headline).append(Value(metric, filt, number(raw), stderr))
            continue
        bd_name, _, bd_label = label.partition("=")
        entry = splits.setdefault((metric, filt, bd_name), Breakdown(metric, filt, bd_name))
        n = mapping(counts.get(bd_name)).get(bd_label)
        entry.rows.append((bd_label, number(raw), stderr, n if isinstance(n, int) else None))
    hib = results.get("higher_is_better", {}).get(name) or {}
    units = results.get("units", {}).get(name) or {}
    n_samples, n_errors = values.get("n_samples"), values.get("n_errors")
    return TaskResult(
        name=name,
        alias=str(values.get("alias", name)),
        headline=headline,
        breakdowns=list(splits.values()),
        agent=agent,
        n_samples=n_samples if isinstance(n_samples, int) else None,
        n_errors=n_errors if isinstance(n_errors, int) else None,
        higher_is_better={k: bool(v) for k, v in hib.items()} if isinstance(hib, dict) else {},
        units={k: str(v) for k, v in units.items()} if isinstance(units, dict) else {},
    )


def _results_path(arg: str) -> str:
    if os.path.isfile(arg):
        return arg
    if os.path.isdir(arg):
        path = os.path.join(arg, "results.json")
        if os.path.isfile(path):
            return path
        if os.path.isfile(os.path.join(arg, "run.json")):
            raise UsageError(
                f"{arg} has no results.json: the run did not finish; finish it with --resume "
                "(or `lmms-eval score RUN_DIR`) before making a report"
            )
        raise UsageError(f"{arg} is not a run folder (no results.json); give the folder a run wrote")
    raise UsageError(f"{arg} does not exist; give a run folder or its results.json")


def load_run(arg: str) -> Run:
    """Read one run folder (or its ``results.json``); one-line errors name the file and the fix."""
    path = _results_path(arg)
    try:
        with open(path, encoding="utf-8") as fh:
            results = json.load(fh)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}; give a results.json a run wrote") from None
    if not isinstance(results, dict) or not isinstance(results.get("results"), dict):
        raise UsageError(f"{path} has no 'results' mapping; give a results.json a run wrote")
    tasks = [task_result(name, v, results) for name, v in results["results"].items() if isinstance(v, dict)]
    folder = os.path.dirname(os.path.abspath(path))
    model = str((results.get("config") or {}).get("model") or "run")
    return Run(path=folder, label=f"{model} {os.path.basename(folder)}", results=results, tasks=tasks)


def load_runs(args: Sequence[str]) -> list[Run]:
    """Read every run; labels made unique (``#2``, ``#3``) when two runs would read the same."""
    runs = [load_run(a) for a in args]
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
        if seen[run.label] > 1:
            run.label = f"{run.label} #{seen[run.label]}"
    return runs


def iter_records(path: str) -> Iterator[dict[str, Any]]:
    """The sample records of one log, in file order; unreadable lines are skipped."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict):
                yield data
