"""Sufficient statistics for corpus-level aggregations, so bootstrap resampling is fast.

A corpus aggregation (WER, BLEU, chrF) is a function of per-sample statistics summed over
the corpus. An aggregation that declares this carries an attribute
``bootstrap_stats(values) -> (matrix, score)`` where ``matrix`` is an ``(n, k)`` array of
per-sample statistics and ``score(sums)`` maps an ``(m, k)`` array of summed statistics to
``m`` scores. :func:`lmms_eval.engine.stats.bootstrap_stderr` then resamples by summing
rows instead of calling the aggregation on every resample; the numbers are the same.
A hook may return ``None`` to ask for the plain resampling loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

BootstrapStats = Callable[[Sequence[Any]], "tuple[Any, Callable[[Any], Any]] | None"]


def with_bootstrap_stats(stats: BootstrapStats) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Decorator: declare that an aggregation is a function of summed per-sample statistics."""

    def decorator(aggregate: Callable[..., float]) -> Callable[..., float]:
        aggregate.bootstrap_stats = stats  # type: ignore[attr-defined]
        return aggregate

    return decorator


def ratio_stats(numerator: str, denominator: str, scale: float = 1.0) -> BootstrapStats:
    """Statistics for ``scale * sum(numerator) / sum(denominator)`` aggregations."""

    def stats(values: Sequence[Any]) -> tuple[Any, Callable[[Any], Any]] | None:
        import numpy as np

        matrix = np.array([[float(v[numerator]), float(v[denominator])] for v in values], dtype=np.float64)

        def score(sums: Any) -> Any:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(sums[:, 1] > 0, scale * sums[:, 0] / np.where(sums[:, 1] > 0, sums[:, 1], 1.0), np.nan)

        return matrix, score

    return stats
