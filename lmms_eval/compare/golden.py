"""Golden files: a small checked-in record of the results a run is expected to reproduce.

Format (JSON)::

    {"format": "lmms-eval-golden", "version": 1,
     "made_from": {"model": "demo", "date": "...", "git_hash": "..."},
     "config": {...}, "task_hashes": {...}, "dataset": {...}, "versions": {...},
     "tasks": {"demo_asr": {"wer,none": {"value": 3.92, "tolerance": 1.0,
                                         "higher_is_better": false, "unit": "%"}}}}

Under ``tasks`` each task maps ``metric,filter`` (or a bare ``metric``, read as
``metric,none``) to ``{value, tolerance?, higher_is_better?, unit?}`` or just a number.
``tolerance`` is the allowed drop in the metric's units (direction-aware, like
``--max-drop``; an explicit per-metric ``--max-drop`` overrides it, the global one fills in
where it is missing). ``config``/``task_hashes``/``dataset``/``versions`` are copied from the run
so that ``compare`` can warn when a later run is not set up alike; all are optional.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.compare.runs import GOLDEN_FORMAT, RunData
from lmms_eval.compare.verdict import Tolerances

GOLDEN_VERSION = 1


def golden_from_run(
    run: RunData, tolerances: Tolerances | None = None, tasks: list[str] | None = None
) -> dict[str, Any]:
    """A golden file's content from a run: every task's metric values, with tolerances from
    ``tolerances`` (the global ``--max-drop`` and per-metric overrides) when given."""
    raw = run.raw
    out: dict[str, Any] = {
        "format": GOLDEN_FORMAT,
        "version": GOLDEN_VERSION,
        "made_from": {
            "model": (raw.get("config") or {}).get("model"),
            "date": raw.get("date"),
            "git_hash": raw.get("git_hash"),
        },
    }
    for key in ("config", "task_hashes", "dataset", "versions"):
        if key in raw:
            out[key] = raw[key] if not tasks or key == "config" else {t: v for t, v in raw[key].items() if t in tasks}
    body: dict[str, dict[str, Any]] = {}
    for task, metrics in run.values.items():
        if tasks and task not in tasks:
            continue
        entries: dict[str, Any] = {}
        for key, value in metrics.items():
            if value is None:
                continue
            entry: dict[str, Any] = {"value": round(value, 6)}
            if tolerances is not None:
                allowed = tolerances.allowed(task, key)
                if allowed:
                    entry["tolerance"] = allowed
            higher = run.direction(task, key)
            if higher is not None:
                entry["higher_is_better"] = higher
            if run.unit(task, key):
                entry["unit"] = run.unit(task, key)
            entries[key] = entry
        if entries:
            body[task] = entries
    out["tasks"] = body
    return out
