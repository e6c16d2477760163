"""Standard errors and run comparisons: analytic for means, seeded bootstrap for the rest.

Every random draw is seeded from text (task + metric) or an explicit seed, so the same
sample log always gives the same figures, resumed or not, whatever the batch size.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from lmms_eval.api.metric import mean

# Upper bound on the number of floats held at once by the vectorised bootstrap.
_CHUNK_FLOATS = 4_000_000
# Paired comparisons on at most this many samples enumerate every sign flip (exact p-value).
EXACT_SIGN_FLIP_MAX_N = 16


def _rng(seed: int | str) -> Any:
    """A numpy generator seeded from an int, or from the SHA-256 of a string."""
    import numpy as np

    if isinstance(seed, str):
        seed = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


def mean_stderr(values: Sequence[Any]) -> float:
    """Sample standard deviation / sqrt(n); NaN for fewer than two values."""
    nums = [float(v) for v in values]
    n = len(nums)
    if n < 2:
        return math.nan
    mu = math.fsum(nums) / n
    var = math.fsum((x - mu) ** 2 for x in nums) / (n - 1)
    return math.sqrt(var / n)


def _resampled_stats(
    values: Sequence[Any], aggregate: Callable[..., float], iters: int, rng: Any
) -> list[float] | None:
    """Bootstrap replicates through the aggregation's sufficient statistics, if it has them.

    An aggregation with a ``bootstrap_stats`` attribute (see ``lmms_eval.metrics.corpus``)
    gives per-sample statistics ``(n, k)`` and a scorer of summed statistics. Each replicate
    draws the same indices as the plain loop in :func:`bootstrap_stderr`, turns them into
    counts per sample and sums ``counts @ stats``: the same numbers, without re-running the
    aggregation (or re-tokenising a corpus) ``iters`` times.
    """
    hook = getattr(aggregate, "bootstrap_stats", None)
    if hook is None:
        return None
    import numpy as np

    prepared = hook(values)
    if prepared is None:
        return None
    matrix, score = prepared
    matrix = np.asarray(matrix, dtype=np.float64)
    n = len(values)
    chunk = max(1, _CHUNK_FLOATS // max(n, 1))
    out: list[float] = []
    done = 0
    while done < iters:
        size = min(chunk, iters - done)
        counts = np.empty((size, n), dtype=np.float64)
        for row in range(size):
            counts[row] = np.bincount(rng.integers(0, n, size=n), minlength=n)
        out.extend(float(s) for s in np.asarray(score(counts @ matrix), dtype=np.float64))
        done += size
    return out


def bootstrap_stderr(
    values: Sequence[Any], aggregate: Callable[[Sequence[Any]], float], iters: int, seed_text: str
) -> float:
    """Standard deviation of ``aggregate`` over ``iters`` resamples (with replacement).

    The generator is seeded from ``seed_text`` (task + metric), so the figure is the same on
    every run, resumed or not, whatever the batch size. Corpus aggregations that declare
    sufficient statistics are resampled vectorised (same draws, same result, much faster).
    Resamples whose aggregate is NaN (e.g. no reference words) are left out.
    """
    import numpy as np

    n = len(values)
    if n < 2 or iters < 2:
        return math.nan
    rng = _rng(seed_text)
    stats = _resampled_stats(values, aggregate, iters, rng)
    if stats is None:
        stats = []
        for _ in range(iters):
            idx = rng.integers(0, n, size=n)
            stats.append(aggregate([values[i] for i in idx]))
    stats = [s for s in stats if not math.isnan(s)]
    return float(np.std(stats, ddof=1)) if len(stats) > 1 else math.nan


def stderr_for(values: Sequence[Any], aggregate: Callable[[Sequence[Any]], float], iters: int, seed_text: str) -> float:
    """Analytic stderr for the mean aggregation, bootstrap for any other."""
    if aggregate is mean:
        return mean_stderr(values)
    return bootstrap_stderr(values, aggregate, iters, seed_text)


def weighted_mean(values: Sequence[float], weights: Sequence[float]) -> float:
    """Sum of value * weight over the sum of weights; NaN when the weights sum to 0."""
    total = math.fsum(weights)
    return math.fsum(v * w for v, w in zip(values, weights)) / total if total else math.nan


def weighted_mean_stderr(stderrs: Sequence[float], weights: Sequence[float]) -> float:
    """Stderr of a weighted mean of independent estimates."""
    total = math.fsum(weights)
    if not total or any(math.isnan(s) for s in stderrs):
        return math.nan
    return math.sqrt(math.fsum((w * s) ** 2 for s, w in zip(stderrs, weights))) / total


def paired_comparison(
    a: Mapping[Hashable, float],
    b: Mapping[Hashable, float],
    iters: int = 1000,
    seed: int | str = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Compare two runs scored on the same samples (per-sample values keyed by sample id).

    Only ids present in both runs with numeric values are used; ``d_i = a_i - b_i``.
    Returns:

    * ``n``, ``n_only_a``, ``n_only_b`` - paired samples, and ids found in one run only;
    * ``mean_a``, ``mean_b``, ``mean_diff`` - means over the paired samples;
    * ``stderr`` - analytic stderr of the mean difference, sd(d) / sqrt(n);
    * ``bootstrap_stderr``, ``ci_low``, ``ci_high`` - paired bootstrap (resampling ids,
      ``iters`` times) stderr and percentile interval at ``confidence``;
    * ``p_value`` - two-sided sign-flip (paired permutation) test of "no difference": the
      share of sign assignments of d whose |mean| is at least the observed |mean|. Exact
      (all 2^n assignments) for n <= 16, else Monte Carlo with ``iters`` draws and the
      (1 + hits) / (1 + iters) correction; ``p_method`` says which.

    Deterministic for a given ``seed``.
    """
    import numpy as np

    common = [k for k in a if k in b and a[k] is not None and b[k] is not None]
    common.sort(key=repr)
    out: dict[str, Any] = {
        "n": len(common),
        "n_only_a": sum(1 for k in a if k not in b),
        "n_only_b": sum(1 for k in b if k not in a),
    }
    nan_fields = ("mean_a", "mean_b", "mean_diff", "stderr", "bootstrap_stderr", "ci_low", "ci_high", "p_value")
    if not common:
        return {**out, **{f: math.nan for f in nan_fields}, "p_method": "none"}
    xa = np.array([float(a[k]) for k in common])
    xb = np.array([float(b[k]) for k in common])
    d = xa - xb
    n = len(d)
    observed = float(d.mean())
    out.update(mean_a=float(xa.mean()), mean_b=float(xb.mean()), mean_diff=observed)
    out["stderr"] = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan

    rng = _rng(seed)
    chunk = max(1, _CHUNK_FLOATS // n)
    if n > 1 and iters > 1:
        boot = np.concatenate(
            [
                d[rng.integers(0, n, size=(min(chunk, iters - start), n))].mean(axis=1)
                for start in range(0, iters, chunk)
            ]
        )
        tail = (1.0 - confidence) / 2.0
        out["bootstrap_stderr"] = float(boot.std(ddof=1))
        out["ci_low"], out["ci_high"] = (float(x) for x in np.quantile(boot, [tail, 1.0 - tail]))
    else:
        out.update(bootstrap_stderr=math.nan, ci_low=math.nan, ci_high=math.nan)

    # A small tolerance so that flips giving the observed |mean| up to rounding count as ties.
    threshold = abs(observed) - 1e-12 * max(1.0, float(np.abs(d).max()))
    if n <= EXACT_SIGN_FLIP_MAX_N:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        means = np.abs(signs @ d) / n
        out["p_value"] = float(np.mean(means >= threshold))
        out["p_method"] = "exact sign-flip"
    else:
        hits = 0
        for start in range(0, iters, chunk):
            flips = rng.integers(0, 2, size=(min(chunk, iters - start), n)) * 2.0 - 1.0
            hits += int(np.sum(np.abs(flips @ d) / n >= threshold))
        out["p_value"] = (1 + hits) / (1 + iters)
        out["p_method"] = "monte-carlo sign-flip"
    return out


# McNemar's test is computed exactly (binomial) up to this many discordant pairs, else by the
# chi-square approximation with continuity correction (the two agree closely by then).
MCNEMAR_EXACT_MAX = 1000


def mcnemar_test(b: int, c: int) -> dict[str, Any]:
    """McNemar's test of paired 0/1 outcomes from the discordant counts.

    ``b`` = pairs right in the first run only, ``c`` = right in the second only. Under "no
    difference" each discordant pair is a fair coin, so the exact two-sided p-value is
    ``min(1, 2 * P(X <= min(b, c)))`` with ``X ~ Binomial(b + c, 1/2)`` (what
    ``scipy.stats.binomtest(b, b + c).pvalue`` gives). Past :data:`MCNEMAR_EXACT_MAX`
    discordant pairs: ``chi2 = (|b - c| - 1)^2 / (b + c)`` on one degree of freedom.
    Returns ``p_value``, ``p_method`` and, for the approximation, ``statistic``.
    """
    n = b + c
    if n == 0:
        return {"p_value": 1.0, "p_method": "mcnemar exact", "b": b, "c": c}
    if n <= MCNEMAR_EXACT_MAX:
        k = min(b, c)
        log_half = n * math.log(0.5)
        terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + log_half for i in range(k + 1)]
        top = max(terms)
        tail = math.exp(top) * math.fsum(math.exp(t - top) for t in terms)
        return {"p_value": min(1.0, 2.0 * tail), "p_method": "mcnemar exact", "b": b, "c": c}
    statistic = (abs(b - c) - 1.0) ** 2 / n
    return {
        "p_value": math.erfc(math.sqrt(statistic / 2.0)),
        "p_method": "mcnemar chi2",
        "statistic": statistic,
        "b": b,
        "c": c,
    }


def paired_bootstrap(
    a: Sequence[Any],
    b: Sequence[Any],
    aggregate: Callable[[Sequence[Any]], float],
    iters: int = 1000,
    seed: int | str = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Paired bootstrap of ``aggregate(b) - aggregate(a)`` over aligned samples.

    ``a[i]`` and ``b[i]`` are the per-sample values (numbers, or a corpus metric's pieces such
    as ``{"errors": 3, "words": 17}``) of the same sample in two runs. Each replicate draws
    sample indices with replacement, the same indices for both runs, and aggregates each run
    over them, so corpus metrics (WER: summed errors over summed words) are recomputed, never
    averaged per sample. Returns ``n``, ``value_a``, ``value_b``, ``diff`` (on all samples),
    ``bootstrap_stderr``, the percentile interval ``ci_low``/``ci_high`` at ``confidence``, and
    a two-sided ``p_value`` = ``min(1, 2 * min(share of replicates <= 0, share >= 0))`` (ties
    up to rounding count on both sides) with
    the ``(1 + hits) / (1 + iters)`` correction (small exactly when the interval excludes 0).
    Replicates where either aggregate is NaN are left out. Deterministic for a given ``seed``.
    """
    import numpy as np

    if len(a) != len(b):
        raise ValueError("paired_bootstrap needs aligned samples: a and b differ in length")
    n = len(a)
    value_a = aggregate(list(a)) if n else math.nan
    value_b = aggregate(list(b)) if n else math.nan
    out: dict[str, Any] = {
        "n": n,
        "value_a": value_a,
        "value_b": value_b,
        "diff": value_b - value_a,
        "p_method": "paired bootstrap",
    }
    if n < 2 or iters < 2:
        return {**out, "bootstrap_stderr": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    rng = _rng(seed)
    draws = [rng.integers(0, n, size=n) for _ in range(iters)]
    fast_a, fast_b = _stats_scorer(a, aggregate), _stats_scorer(b, aggregate)
    if fast_a is not None and fast_b is not None:
        chunk = max(1, _CHUNK_FLOATS // n)
        parts = []
        for start in range(0, iters, chunk):
            counts = np.stack([np.bincount(idx, minlength=n) for idx in draws[start : start + chunk]])
            parts.append(fast_b(counts.astype(np.float64)) - fast_a(counts.astype(np.float64)))
        diffs = np.concatenate(parts)
    else:
        diffs = np.array([aggregate([b[i] for i in idx]) - aggregate([a[i] for i in idx]) for idx in draws])
    diffs = diffs[~np.isnan(diffs)]
    if len(diffs) < 2:
        return {**out, "bootstrap_stderr": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    tail = (1.0 - confidence) / 2.0
    low, high = (float(x) for x in np.quantile(diffs, [tail, 1.0 - tail]))
    m = len(diffs)
    tie = 1e-12 * max(1.0, float(np.abs(diffs).max()))  # a replicate equal to 0 up to rounding is a tie
    below = (1 + int(np.sum(diffs <= tie))) / (1 + m)
    above = (1 + int(np.sum(diffs >= -tie))) / (1 + m)
    out.update(
        bootstrap_stderr=float(np.std(diffs, ddof=1)),
        ci_low=low,
        ci_high=high,
        p_value=min(1.0, 2.0 * min(below, above)),
    )
    return out


def _stats_scorer(values: Sequence[Any], aggregate: Callable[..., float]) -> Callable[[Any], Any] | None:
    """``counts -> aggregate per replicate`` through the aggregation's sufficient statistics
    (``bootstrap_stats``, see :func:`_resampled_stats`), or None when it declares none."""
    import numpy as np

    hook = getattr(aggregate, "bootstrap_stats", None)
    prepared = hook(list(values)) if hook is not None else None
    if prepared is None:
        return None
    matrix, score = prepared
    matrix = np.asarray(matrix, dtype=np.float64)
    return lambda counts: np.asarray(score(counts @ matrix), dtype=np.float64)
