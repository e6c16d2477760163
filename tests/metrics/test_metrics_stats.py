"""Statistics: deterministic bootstrap (fast path = plain path), paired comparison, group helpers."""

from __future__ import annotations

import math
import random
import time

import pytest

from lmms_eval.api.metric import mean
from lmms_eval.api.registry import METRICS
from lmms_eval.engine.stats import (
    bootstrap_stderr,
    mean_stderr,
    paired_comparison,
    stderr_for,
    weighted_mean,
    weighted_mean_stderr,
)
from lmms_eval.metrics.asr import corpus_rate


def _wer_values(n: int, seed: int = 0) -> list[dict[str, float]]:
    rnd = random.Random(seed)
    return [{"errors": float(rnd.randint(0, 5)), "words": float(rnd.randint(1, 20))} for _ in range(n)]


def test_mean_stderr_by_hand() -> None:
    # values 0, 1, 1, 0: sd (ddof 1) = sqrt(1/3), stderr = sqrt(1/3) / 2
    assert mean_stderr([0, 1, 1, 0]) == pytest.approx(math.sqrt(1 / 3) / 2)
    assert math.isnan(mean_stderr([1]))


def test_stderr_for_mean_is_analytic() -> None:
    assert stderr_for([0, 1, 1, 0], mean, 100, "x") == mean_stderr([0, 1, 1, 0])


def test_bootstrap_is_deterministic_per_seed_text() -> None:
    values = _wer_values(300)
    first = bootstrap_stderr(values, corpus_rate, 200, "task/wer,none")
    assert first == bootstrap_stderr(values, corpus_rate, 200, "task/wer,none")
    assert first != bootstrap_stderr(values, corpus_rate, 200, "other/wer,none")
    assert 0 < first < 10


def test_fast_bootstrap_equals_plain_resampling() -> None:
    values = _wer_values(500)

    def plain(vs):  # the same function without the sufficient-statistics hook
        return corpus_rate(vs)

    assert not hasattr(plain, "bootstrap_stats")
    fast = bootstrap_stderr(values, corpus_rate, 100, "s")
    assert fast == pytest.approx(bootstrap_stderr(values, plain, 100, "s"), rel=1e-12)


def test_fast_bootstrap_for_bleu_equals_plain() -> None:
    bleu = METRICS.get("bleu")
    rnd = random.Random(1)
    words = "the a cat dog sat ran on under mat rug quickly".split()
    values = []
    for _ in range(60):
        ref = " ".join(rnd.choice(words) for _ in range(8))
        hyp = " ".join(w if rnd.random() < 0.7 else rnd.choice(words) for w in ref.split())
        values.append(bleu.compute(hyp, ref))
    fast = bootstrap_stderr(values, bleu.aggregate, 50, "bleu")
    slow = bootstrap_stderr(values, lambda vs: bleu.aggregate(vs), 50, "bleu")
    assert fast == pytest.approx(slow, rel=1e-9)


def test_bootstrap_20k_corpus_is_fast() -> None:
    values = _wer_values(20_000)
    start = time.perf_counter()
    stderr = bootstrap_stderr(values, corpus_rate, 1000, "big")
    elapsed = time.perf_counter() - start
    assert 0 < stderr < 1
    assert elapsed < 10, f"bootstrap of 20k WER samples took {elapsed:.1f}s"


def test_bootstrap_skips_nan_resamples() -> None:
    values = [{"errors": 1.0, "words": 0.0}, {"errors": 1.0, "words": 2.0}]
    assert not math.isnan(bootstrap_stderr(values, corpus_rate, 200, "nan"))


def test_paired_comparison_exact_sign_flip() -> None:
    # Five samples, A beats B by 1 on every one: only the all-plus and all-minus sign
    # assignments reach |mean| = 1, so p = 2 / 2^5.
    a = {f"s{i}": 1.0 for i in range(5)}
    b = {f"s{i}": 0.0 for i in range(5)}
    out = paired_comparison(a, b, iters=200, seed=3)
    assert out["n"] == 5 and out["mean_diff"] == 1.0
    assert out["p_value"] == pytest.approx(2 / 32)
    assert out["p_method"] == "exact sign-flip"
    assert out["stderr"] == 0.0 and out["ci_low"] == out["ci_high"] == 1.0


def test_paired_comparison_known_differences() -> None:
    # d = (1, 0, 0, -1, 1, 1): mean 1/3, sd = sqrt(((2/3)^2 * 3 + (1/3)^2 * 2 + (4/3)^2) / 5)
    a = {i: v for i, v in enumerate([1, 1, 0, 0, 1, 1])}
    b = {i: v for i, v in enumerate([0, 1, 0, 1, 0, 0])}
    out = paired_comparison(a, b, iters=2000, seed=0)
    d = [1, 0, 0, -1, 1, 1]
    mu = sum(d) / 6
    sd = math.sqrt(sum((x - mu) ** 2 for x in d) / 5)
    assert out["mean_diff"] == pytest.approx(1 / 3)
    assert out["mean_a"] == pytest.approx(4 / 6) and out["mean_b"] == pytest.approx(2 / 6)
    assert out["stderr"] == pytest.approx(sd / math.sqrt(6))
    # Exact p: sign patterns of the four non-zero d's (1, -1, 1, 1) with |sum| >= 2:
    # sums are +-4 (2 patterns) and +-2 (8 patterns) out of 16, times 4 for the zeros: 10/16.
    assert out["p_value"] == pytest.approx(10 / 16)
    assert out["ci_low"] <= 1 / 3 <= out["ci_high"]


def test_paired_comparison_monte_carlo_and_missing_ids() -> None:
    rnd = random.Random(0)
    a = {i: rnd.random() for i in range(400)}
    b = {i: a[i] - 0.2 + rnd.gauss(0, 0.1) for i in range(400)}
    b["extra"] = 0.0
    out = paired_comparison(a, b, iters=500, seed=1)
    assert out["n"] == 400 and out["n_only_b"] == 1 and out["n_only_a"] == 0
    assert out["p_method"] == "monte-carlo sign-flip"
    assert out["p_value"] == pytest.approx(1 / 501)  # no flip reaches a 0.2 mean difference
    assert out["ci_low"] < out["mean_diff"] < out["ci_high"]
    assert out["bootstrap_stderr"] == pytest.approx(out["stderr"], rel=0.2)
    assert paired_comparison(a, b, iters=500, seed=1) == out  # deterministic


def test_paired_comparison_same_runs() -> None:
    a = {i: float(i % 2) for i in range(50)}
    out = paired_comparison(a, dict(a), iters=100, seed=0)
    assert out["mean_diff"] == 0.0 and out["p_value"] == 1.0


def test_paired_comparison_no_overlap() -> None:
    out = paired_comparison({"a": 1.0}, {"b": 1.0})
    assert out["n"] == 0 and math.isnan(out["mean_diff"])


def test_group_helpers() -> None:
    assert weighted_mean([0.5, 1.0], [1, 3]) == pytest.approx(0.875)
    assert math.isnan(weighted_mean([1.0], [0]))
    assert weighted_mean_stderr([0.1, 0.2], [1, 1]) == pytest.approx(math.sqrt(0.01 + 0.04) / 2)
    assert math.isnan(weighted_mean_stderr([math.nan, 0.1], [1, 1]))
