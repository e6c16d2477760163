"""The significance tests behind ``lmms-eval compare``, checked against SciPy and by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from lmms_eval.api.metric import mean
from lmms_eval.api.registry import METRICS
from lmms_eval.engine.stats import MCNEMAR_EXACT_MAX, mcnemar_test, paired_bootstrap

scipy_stats = pytest.importorskip("scipy.stats")


def test_mcnemar_exact_by_hand() -> None:
    # b=1, c=6: 7 discordant pairs; P(X <= 1) = (1 + 7) / 128, two-sided 16/128 = 0.125
    res = mcnemar_test(1, 6)
    assert res["p_method"] == "mcnemar exact"
    assert res["p_value"] == pytest.approx(0.125, abs=1e-12)
    assert mcnemar_test(10, 0)["p_value"] == pytest.approx(2 / 1024, abs=1e-15)
    assert mcnemar_test(3, 3)["p_value"] == 1.0  # capped at 1
    assert mcnemar_test(0, 0)["p_value"] == 1.0


@pytest.mark.parametrize("b,c", [(0, 5), (2, 9), (7, 7), (13, 4), (40, 61), (120, 80), (480, 520)])
def test_mcnemar_exact_matches_scipy_binomtest(b: int, c: int) -> None:
    expected = scipy_stats.binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_test(b, c)["p_value"] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_mcnemar_chi2_past_the_exact_limit_matches_scipy() -> None:
    b, c = 560, 480
    assert b + c > MCNEMAR_EXACT_MAX
    res = mcnemar_test(b, c)
    statistic = (abs(b - c) - 1) ** 2 / (b + c)
    assert res["p_method"] == "mcnemar chi2"
    assert res["statistic"] == pytest.approx(statistic)
    assert res["p_value"] == pytest.approx(scipy_stats.chi2.sf(statistic, 1), rel=1e-9)
    # and it is close to the exact binomial value there
    assert res["p_value"] == pytest.approx(scipy_stats.binomtest(b, b + c).pvalue, rel=0.05)


def _wer_values(errors: list[int], words: list[int]) -> list[dict[str, float]]:
    return [{"errors": float(e), "words": float(w)} for e, w in zip(errors, words)]


def test_paired_bootstrap_corpus_wer_fast_path_equals_plain_loop() -> None:
    wer = METRICS.get("wer").aggregate
    assert getattr(wer, "bootstrap_stats", None) is not None  # the vectorised path is exercised
    words = [10, 12, 8, 20, 15, 9, 11, 14]
    a = _wer_values([1, 0, 2, 3, 1, 0, 1, 2], words)
    b = _wer_values([2, 1, 2, 5, 3, 1, 1, 4], words)

    def plain(values: Sequence[Any]) -> float:  # same aggregation, no bootstrap_stats hook
        return wer(values)

    fast = paired_bootstrap(a, b, wer, iters=300, seed="x")
    slow = paired_bootstrap(a, b, plain, iters=300, seed="x")
    # corpus WER on all samples, by hand: 10/99 vs 19/99 (in %)
    assert fast["value_a"] == pytest.approx(100 * 10 / 99)
    assert fast["value_b"] == pytest.approx(100 * 19 / 99)
    assert fast["diff"] == pytest.approx(100 * 9 / 99)
    for key in ("bootstrap_stderr", "ci_low", "ci_high", "p_value"):
        assert fast[key] == pytest.approx(slow[key], rel=1e-9), key
    assert fast["ci_low"] > 0  # b is worse on every resample with words: significant
    assert fast["p_value"] == pytest.approx(2 / 301)


def test_paired_bootstrap_p_value_is_the_two_sided_share_of_replicates() -> None:
    import numpy as np

    a = [0.2, 0.5, 0.9, 0.4, 0.7, 0.1]
    b = [0.3, 0.4, 0.95, 0.5, 0.6, 0.3]
    res = paired_bootstrap(a, b, mean, iters=500, seed=3)
    # recompute by hand with the same generator draws
    from lmms_eval.engine.stats import _rng

    rng = _rng(3)
    diffs = np.array(
        [
            np.mean([b[i] for i in idx]) - np.mean([a[i] for i in idx])
            for idx in (rng.integers(0, 6, 6) for _ in range(500))
        ]
    )
    tie = 1e-12  # replicates equal to 0 up to rounding are ties
    below = (1 + np.sum(diffs <= tie)) / 501
    above = (1 + np.sum(diffs >= -tie)) / 501
    assert res["p_value"] == pytest.approx(min(1.0, 2 * min(below, above)))
    assert res["diff"] == pytest.approx(np.mean(b) - np.mean(a))
    assert res["ci_low"] == pytest.approx(np.quantile(diffs, 0.025))


def test_paired_bootstrap_identical_runs_and_edge_cases() -> None:
    a = [1.0, 0.0, 1.0, 1.0]
    assert paired_bootstrap(a, a, mean, iters=200)["p_value"] == 1.0
    assert math.isnan(paired_bootstrap([1.0], [0.0], mean)["p_value"])
    with pytest.raises(ValueError):
        paired_bootstrap([1.0, 2.0], [1.0], mean)
