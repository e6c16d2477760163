"""Standard errors: analytic for means, seeded bootstrap for everything else."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

from lmms_eval.api.metric import mean


def mean_stderr(values: Sequence[Any]) -> float:
    """Sample standard deviation / sqrt(n); NaN for fewer than two values."""
    nums = [float(v) for v in values]
    n = len(nums)
    if n < 2:
        return math.nan
    mu = math.fsum(nums) / n
    var = math.fsum((x - mu) ** 2 for x in nums) / (n - 1)
    return math.sqrt(var / n)


def bootstrap_stderr(
    values: Sequence[Any], aggregate: Callable[[Sequence[Any]], float], iters: int, seed_text: str
) -> float:
    """Standard deviation of ``aggregate`` over ``iters`` resamples (with replacement).

    The generator is seeded from ``seed_text`` (task + metric), so the figure is the same on
    every run, resumed or not, whatever the batch size.
    """
    import numpy as np

    n = len(values)
    if n < 2 or iters < 2:
        return math.nan
    seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(iters):
        idx = rng.integers(0, n, size=n)
        stats.append(aggregate([values[i] for i in idx]))
    stats = [s for s in stats if not math.isnan(s)]
    return float(np.std(stats, ddof=1)) if len(stats) > 1 else math.nan


def stderr_for(
    values: Sequence[Any], aggregate: Callable[[Sequence[Any]], float], iters: int, seed_text: str
) -> float:
    """Analytic stderr for the mean aggregation, bootstrap for any other."""
    if aggregate is mean:
        return mean_stderr(values)
    return bootstrap_stderr(values, aggregate, iters, seed_text)


def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    total = math.fsum(weights)
    return math.fsum(v * w for v, w in zip(values, weights)) / total if total else math.nan


def weighted_mean_stderr(stderrs: Sequence[float], weights: Sequence[float]) -> float:
    """Stderr of a weighted mean of independent estimates."""
    total = math.fsum(weights)
    if not total or any(math.isnan(s) for s in stderrs):
        return math.nan
    return math.sqrt(math.fsum((w * s) ** 2 for s, w in zip(stderrs, weights))) / total
