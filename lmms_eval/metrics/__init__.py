"""Built-in metrics. Each submodule registers its metrics on import (see ``api.metric``).

Heavy libraries (sacrebleu, math-verify, jiwer) are imported inside the functions that use
them, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from lmms_eval.api.errors import UsageError, did_you_mean
from lmms_eval.api.metric import mean

_HELPERS = frozenset({"corpus", "extract", "normalize"})
"""Modules of shared helpers that register no metric."""


def _builtin_modules() -> list[str]:
    """Every module of this package that registers metrics (a new ``metrics/<name>.py`` is found
    without editing a list; its heavy imports must stay inside its functions)."""
    import pkgutil

    return [
        f"{__name__}.{info.name}"
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
        if not info.name.startswith("_") and info.name not in _HELPERS
    ]


_AGGREGATIONS: dict[str, Callable[[Sequence[Any]], float]] = {
    "mean": mean,
    "median": lambda values: float(statistics.median(float(v) for v in values)) if values else math.nan,
    "sum": lambda values: math.fsum(float(v) for v in values),
}


def list_aggregations() -> list[str]:
    """Names ``metric_list: aggregation:`` accepts besides a registered metric's name (whose
    aggregation it then borrows)."""
    return sorted(_AGGREGATIONS)


def _aggregation_label(fn: Callable[[Sequence[Any]], float]) -> str:
    for name, known in _AGGREGATIONS.items():
        if fn is known:
            return name
    return getattr(fn, "__name__", "custom").lstrip("_") or "custom"


def list_metrics() -> list[tuple[str, str]]:
    """Every registered metric (plugins included) as ``(name, one-line description)``; the
    description ends with its aggregation, direction and unit."""
    from lmms_eval.api.registry import METRICS

    out = []
    for name, metric in METRICS.loaded():
        if isinstance(metric, UsageError):  # a plugin whose package is missing still gets listed
            out.append((name, f"(cannot be loaded: {metric})"))
            continue
        about = getattr(metric, "description", "") or ""
        if not hasattr(metric, "aggregate"):
            out.append((name, about or type(metric).__name__))
            continue
        direction = "higher is better" if metric.higher_is_better else "lower is better"
        kind = "corpus-level, " if metric.corpus_level else ""
        facts = f"[{kind}aggregation {_aggregation_label(metric.aggregate)}, {direction}, unit {metric.unit}]"
        out.append((name, f"{about} {facts}".strip()))
    return out


def aggregation_by_name(name: str) -> Callable[[Sequence[Any]], float]:
    """``mean``/``median``/``sum``, or the aggregation of the registered metric ``name``."""
    from lmms_eval.api.registry import METRICS

    if name in _AGGREGATIONS:
        return _AGGREGATIONS[name]
    if name in METRICS:
        return METRICS.get(name).aggregate
    raise UsageError(f"unknown aggregation {name!r}.{did_you_mean(name, list(_AGGREGATIONS) + METRICS.names())}")


for _module in _builtin_modules():
    importlib.import_module(_module)
