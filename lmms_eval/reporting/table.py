"""The markdown results table printed at the end of a run (lm-eval's familiar layout)."""

from __future__ import annotations

import math
from typing import Any


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "N/A" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def results_table(results: dict[str, Any]) -> str:
    """Render ``results.json`` content as a markdown table: one row per task x metric x filter.

    Each metric's scale is shown beside its name (``wer (%)``, ``exact_match (0-1)``). Breakdown
    values (``"acc,none,category=x"``) stay in results.json; their ``_macro_`` means are rows.
    """
    header = "| Tasks | Version | Filter | n-shot | Metric |   | Value |   | Stderr | Errors |"
    rows = [header, "|---|---|---|---|---|---|---|---|---|---|"]
    versions = results.get("versions", {})
    hib = results.get("higher_is_better", {})
    units = results.get("units", {})
    for name, values in results.get("results", {}).items():
        alias = values.get("alias", name)
        errors = values.get("n_errors", "")
        for key, value in values.items():
            if "," not in key or "_stderr," in key or key.count(",") > 1:  # breakdown keys: results.json only
                continue
            metric, filt = key.split(",", 1)
            stderr = values.get(f"{metric}_stderr,{filt}", math.nan)
            if filt == "report":  # a group's report value: no direction is declared
                arrow = ""
            else:
                arrow = "↑" if hib.get(name, {}).get(metric, True) else "↓"
            unit = units.get(name, {}).get(metric, "")
            label = f"{metric} ({unit})" if unit else metric
            rows.append(
                f"| {alias} | {versions.get(name, 'N/A')} | {filt} | 0 | {label} | {arrow} | {_fmt(value)} | ± "
                f"| {_fmt(stderr)} | {errors} |"
            )
    return "\n".join(rows)
