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

_BUILTIN_MODULES = (
    "lmms_eval.metrics.text",
    "lmms_eval.metrics.asr",
    "lmms_eval.metrics.vqa",
    "lmms_eval.metrics.mcq",
    "lmms_eval.metrics.mme",
    "lmms_eval.metrics.generation",
    "lmms_eval.metrics.maths",
)

_AGGREGATIONS: dict[str, Callable[[Sequence[Any]], float]] = {
    "mean": mean,
    "median": lambda values: float(statistics.median(float(v) for v in values)) if values else math.nan,
    "sum": lambda values: math.fsum(float(v) for v in values),
}


def aggregation_by_name(name: str) -> Callable[[Sequence[Any]], float]:
    """``mean``/``median``/``sum``, or the aggregation of the registered metric ``name``."""
    from lmms_eval.api.registry import METRICS

    if name in _AGGREGATIONS:
        return _AGGREGATIONS[name]
    if name in METRICS:
        return METRICS.get(name).aggregate
    raise UsageError(f"unknown aggregation {name!r}.{did_you_mean(name, list(_AGGREGATIONS) + METRICS.names())}")


for _module in _BUILTIN_MODULES:
    importlib.import_module(_module)
