"""Check a run against the numbers a paper reports (``compare --reference reported.yaml RUN``).

Format (YAML)::

    source: where the numbers come from
    unit: "%"          # default unit of the reported values: "%", "0-100", "0-1", "points"
    tolerance: 1.0     # default allowed |run - reported|, in the reported unit
    models:
      Qwen2.5-VL-7B:
        pretrained: [Qwen/Qwen2.5-VL-7B-Instruct]    # optional: matched against the run's model args
        mmmu_val:
          mmmu_acc: 49.8                             # a bare metric means metric,none
          mmmu_acc,none: {value: 49.8, tolerance: 1.5, unit: "%", note: "..."}
        ocrbench:
          ocrbench_score: {value: 85.2, scale: 0.1}  # reported = run value x 0.1

The run's value is brought to the reported unit before comparing: from its results.json
``units`` (``0-1`` -> ``%`` multiplies by 100), or ``run_unit:`` where the run records none, or
an explicit ``scale:`` factor. A metric diverges when ``|run - reported| > tolerance``, in
either direction; metrics the run does not have are listed, not counted.
"""

from __future__ import annotations

import math
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.compare.runs import RunData

SCALES = {"%": 100.0, "percent": 100.0, "0-100": 100.0, "0-1": 1.0, "fraction": 1.0}
RESERVED = {"pretrained", "note"}


def load_reference(path: str) -> dict[str, Any]:
    """The reference file's content, checked for shape (one-line errors naming the fix)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}; give a reported-results YAML file") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML ({str(exc).splitlines()[0]}); fix the file") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict) or not data["models"]:
        raise UsageError(f"{path}: a reference file needs 'models: {{MODEL: {{TASK: {{METRIC: VALUE}}}}}}'")
    return data


def pick_model(data: dict[str, Any], run: RunData, name: str | None, path: str) -> str:
    """The model of the reference file to check the run against: ``name``, else the one whose
    ``pretrained`` list (or name) matches the run's model arguments, else the only one."""
    models = data["models"]
    if name is not None:
        if name not in models:
            raise UsageError(f"--model-name {name!r} is not in {path}; it has: {', '.join(map(str, models))}")
        return name
    config = run.raw.get("config") or {}
    args = config.get("model_args") or {}
    ids = {str(v).rstrip("/") for v in (args.get("pretrained"), args.get("model"), config.get("model")) if v}
    ids |= {i.split("/")[-1] for i in ids}
    for model, spec in models.items():
        known = {str(p).rstrip("/") for p in (spec or {}).get("pretrained", []) or []} | {str(model)}
        if ids & (known | {k.split("/")[-1] for k in known}):
            return str(model)
    if len(models) == 1:
        return str(next(iter(models)))
    raise UsageError(
        f"{path} holds several models and none matches the run's model args; pick one with --model-name "
        f"({', '.join(map(str, models))})"
    )


def _factor(entry: dict[str, Any], ref_unit: str, run_unit: str) -> tuple[float, str]:
    if "scale" in entry:
        return float(entry["scale"]), f"x{entry['scale']}"
    run_unit = str(entry.get("run_unit") or run_unit or ref_unit)
    if run_unit == ref_unit or run_unit not in SCALES or ref_unit not in SCALES:
        return 1.0, ""
    factor = SCALES[ref_unit] / SCALES[run_unit]
    return factor, (f"{run_unit} -> {ref_unit}" if factor != 1.0 else "")


def check_reference(
    run: RunData, path: str, model: str | None = None, tolerance: float | None = None
) -> dict[str, Any]:
    """Compare ``run`` with the reported numbers of one model in the reference file ``path``.

    Returns ``{"reference", "model", "rows", "diverged", "exit_code"}``; each row has the task,
    metric, reported value, the run's value in the reported unit, the difference, the tolerance
    and a status: ``match``, ``below``/``above`` (diverged) or ``not in run``. ``tolerance``
    (``--tolerance``) replaces the file's default; per-metric tolerances in the file still win.
    """
    data = load_reference(path)
    name = pick_model(data, run, model, path)
    default_unit = str(data.get("unit", "%"))
    default_tol = tolerance if tolerance is not None else float(data.get("tolerance", 1.0))
    rows: list[dict[str, Any]] = []
    tasks = data["models"][name] or {}
    if not isinstance(tasks, dict):
        raise UsageError(f"{path}: models.{name} must map task names to metrics")
    for task, metrics in tasks.items():
        if task in RESERVED:
            continue
        if not isinstance(metrics, dict):
            raise UsageError(f"{path}: models.{name}.{task} must map metric names to values")
        for metric, entry in metrics.items():
            if isinstance(entry, (int, float)) and not isinstance(entry, bool):
                entry = {"value": entry}
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), (int, float)):
                raise UsageError(f"{path}: models.{name}.{task}.{metric} needs a number or {{value: NUMBER}}")
            rows.append(_check(run, task, metric, entry, default_unit, default_tol))
    diverged = [r for r in rows if r["status"] in ("below", "above")]
    return {
        "reference": path,
        "source": data.get("source"),
        "model": name,
        "run": run.label,
        "rows": rows,
        "diverged": len(diverged),
        "checked": sum(1 for r in rows if r["status"] != "not in run"),
        "exit_code": 1 if diverged else 0,
    }


def _check(run: RunData, task: str, metric: str, entry: dict[str, Any], unit: str, tol: float) -> dict[str, Any]:
    key = metric if "," in metric else f"{metric},none"
    ref_unit = str(entry.get("unit", unit))
    row: dict[str, Any] = {
        "task": task,
        "metric": key,
        "reported": float(entry["value"]),
        "unit": ref_unit,
        "tolerance": float(entry.get("tolerance", tol)),
        "note": entry.get("note", ""),
    }
    value = run.values.get(task, {}).get(key)
    if value is None or math.isnan(value):
        where = "task" if task not in run.values else "metric"
        return {**row, "run": None, "diff": None, "status": "not in run", "why": f"{where} not in the run"}
    factor, conversion = _factor(entry, ref_unit, run.unit(task, key))
    converted = value * factor
    diff = converted - row["reported"]
    status = "match" if abs(diff) <= row["tolerance"] + 1e-9 else ("below" if diff < 0 else "above")
    higher = run.direction(task, key)
    worse = None if higher is None else (diff < 0) == higher
    return {
        **row,
        "run": converted,
        "run_raw": value,
        "conversion": conversion,
        "diff": diff,
        "status": status,
        "worse": worse if status != "match" else None,
    }
