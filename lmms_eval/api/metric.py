"""The metric contract.

A metric is a pure per-sample function plus a declared aggregation. Per-sample values must be
JSON-serialisable (they are written into the sample log, so ``lmms-eval score`` can aggregate
again without the model). Corpus-level metrics return the pieces they need per sample (e.g.
``{"errors": 3, "words": 17}`` for WER) and aggregate by summing the pieces, which also makes
bootstrap resampling of utterances correct.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.registry import METRICS


def mean(values: Sequence[Any]) -> float:
    """Arithmetic mean of numbers (bools count as 0/1); NaN for no values."""
    nums = [float(v) for v in values if v is not None]
    return math.fsum(nums) / len(nums) if nums else float("nan")


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    ``compute(prediction, reference, **context)`` returns the per-sample value, where the
    context holds ``doc`` (the dataset row) and ``choices`` when the task has them.
    ``aggregate(values)`` folds per-sample values into the reported number.
    """

    name: str
    compute: Callable[..., Any]
    aggregate: Callable[[Sequence[Any]], float] = mean
    higher_is_better: bool = True
    corpus_level: bool = False
    description: str = ""
    unit: str = "0-1"
    """The scale of the aggregated value, shown beside it: ``0-1``, ``%``, ``0-100``, ``points``."""


def register_metric(
    name: str,
    *,
    aggregate: Callable[[Sequence[Any]], float] = mean,
    higher_is_better: bool = True,
    corpus_level: bool = False,
    unit: str = "0-1",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a per-sample function as a :class:`Metric` named ``name``."""

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        METRICS.register(
            name,
            Metric(
                name=name,
                compute=fn,
                aggregate=aggregate,
                higher_is_better=higher_is_better,
                corpus_level=corpus_level,
                unit=unit,
                description=(fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "",
            ),
        )
        return fn

    return decorator
