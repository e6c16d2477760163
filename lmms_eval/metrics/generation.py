"""Text generation metrics: corpus BLEU and chrF with sacrebleu, ROUGE-L with rouge-score.

BLEU and chrF are corpus-level: each sample stores ``{"hyp": prediction, "refs": [...]}``
(plus ``"opts"`` when the task sets sacrebleu options) and the aggregation hands the whole
corpus to sacrebleu's ``corpus_bleu`` / ``corpus_chrf``. Samples may have different numbers
of references. Scores are on sacrebleu's 0-100 scale. ROUGE-L is the mean of per-sample
ROUGE-L F-measures (best over references), on rouge-score's 0-1 scale.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.corpus import with_bootstrap_stats
from lmms_eval.metrics.text import references


def _needs(package: str, pip_name: str) -> UsageError:
    return UsageError(f"this metric needs the {package} package: pip install {pip_name} (or 'lmms_eval[metrics]')")


def _sample(prediction: str, reference: Any, metric: str, opts: dict[str, Any]) -> dict[str, Any]:
    refs = references(reference)
    if not refs:
        raise SampleError(f"{metric} needs at least one reference; doc_to_target gave none.")
    value: dict[str, Any] = {"hyp": str(prediction), "refs": refs}
    opts = {k: v for k, v in opts.items() if v is not None}
    if opts:
        value["opts"] = opts
    return value


def _streams(values: Sequence[dict[str, Any]]) -> tuple[list[str], list[list[str | None]]]:
    """Hypotheses and sacrebleu's reference streams (padded with None for fewer references)."""
    hyps = [v["hyp"] for v in values]
    width = max(len(v["refs"]) for v in values)
    streams = [[v["refs"][i] if i < len(v["refs"]) else None for v in values] for i in range(width)]
    return hyps, streams


def _sacrebleu_metric(kind: str, opts: dict[str, Any]) -> Any:
    try:
        from sacrebleu.metrics import BLEU, CHRF
    except ImportError as exc:
        raise _needs("sacrebleu", "sacrebleu") from exc
    return BLEU(**opts) if kind == "bleu" else CHRF(**opts)


def _opts(values: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return dict(values[0].get("opts", {})) if values else {}


def _sacrebleu_stats(kind: str) -> Callable[[Sequence[Any]], tuple[Any, Callable[[Any], Any]] | None]:
    """Per-sentence sufficient statistics from sacrebleu, for the fast bootstrap."""

    def stats(values: Sequence[Any]) -> tuple[Any, Callable[[Any], Any]] | None:
        import numpy as np

        metric = _sacrebleu_metric(kind, _opts(values))
        hyps, streams = _streams(values)
        if not hasattr(metric, "_extract_corpus_statistics") or not hasattr(metric, "_compute_score_from_stats"):
            return None  # a sacrebleu without these (2.x) internals: plain bootstrap instead
        matrix = np.asarray(metric._extract_corpus_statistics(hyps, streams), dtype=np.float64)

        def score(sums: Any) -> Any:
            return np.array([metric._compute_score_from_stats(list(row)).score for row in sums], dtype=np.float64)

        return matrix, score

    return stats


@with_bootstrap_stats(_sacrebleu_stats("bleu"))
def corpus_bleu(values: Sequence[dict[str, Any]]) -> float:
    """sacrebleu corpus BLEU (0-100) over the stored hypotheses and references."""
    if not values:
        return math.nan
    hyps, streams = _streams(values)
    return float(_sacrebleu_metric("bleu", _opts(values)).corpus_score(hyps, streams).score)


@with_bootstrap_stats(_sacrebleu_stats("chrf"))
def corpus_chrf(values: Sequence[dict[str, Any]]) -> float:
    """sacrebleu corpus chrF (0-100) over the stored hypotheses and references."""
    if not values:
        return math.nan
    hyps, streams = _streams(values)
    return float(_sacrebleu_metric("chrf", _opts(values)).corpus_score(hyps, streams).score)


@register_metric("bleu", aggregate=corpus_bleu, corpus_level=True, unit="0-100")
def bleu(
    prediction: str, reference: Any, tokenize: str | None = None, lowercase: bool | None = None, **_: Any
) -> dict[str, Any]:
    """Corpus BLEU (sacrebleu, 13a tokeniser, exp smoothing; 0-100) over all samples."""
    return _sample(prediction, reference, "bleu", {"tokenize": tokenize, "lowercase": lowercase})


@register_metric("chrf", aggregate=corpus_chrf, corpus_level=True, unit="0-100")
def chrf(
    prediction: str,
    reference: Any,
    word_order: int | None = None,
    char_order: int | None = None,
    beta: int | None = None,
    lowercase: bool | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Corpus chrF (sacrebleu: character 6-grams, beta 2; 0-100); word_order=2 gives chrF++."""
    opts = {"word_order": word_order, "char_order": char_order, "beta": beta, "lowercase": lowercase}
    return _sample(prediction, reference, "chrf", opts)


@functools.lru_cache(maxsize=4)
def _rouge_scorer(use_stemmer: bool) -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:
        raise _needs("rouge-score", "rouge-score") from exc
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)


@register_metric("rouge_l")
def rouge_l(prediction: str, reference: Any, use_stemmer: bool = False, **_: Any) -> float:
    """ROUGE-L F-measure (rouge-score, LCS of tokens; 0-1), best over references, averaged.

    rouge-score's tokeniser lower-cases and keeps only ``[a-z0-9]`` tokens, so text in other
    scripts has no tokens and scores 0.
    """
    refs = references(reference)
    if not refs:
        raise SampleError("rouge_l needs at least one reference; doc_to_target gave none.")
    scores = _rouge_scorer(bool(use_stemmer)).score_multi(refs, str(prediction))
    return float(scores["rougeL"].fmeasure)
