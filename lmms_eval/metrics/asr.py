"""Speech recognition metrics: corpus-level WER and CER with jiwer.

Per-sample values are ``{"errors": S + D + I, "words": N}``; the aggregation is
100 * sum(errors) / sum(words), i.e. corpus WER in percent, the number ASR papers report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from lmms_eval.api.metric import register_metric

_KEEP = re.compile(r"[^\w\s']", re.UNICODE)


def normalize_basic_asr(text: str) -> str:
    """Lower-case, drop punctuation except apostrophes, collapse whitespace."""
    return " ".join(_KEEP.sub(" ", str(text).lower()).split())


def corpus_rate(values: Sequence[dict[str, float]]) -> float:
    """100 * total errors / total reference units over the corpus."""
    errors = math.fsum(v["errors"] for v in values)
    words = math.fsum(v["words"] for v in values)
    return 100.0 * errors / words if words else math.nan


def edit_counts(reference: str, hypothesis: str, unit: str = "word") -> dict[str, float]:
    """Substitutions + deletions + insertions against the reference, and its length."""
    import jiwer

    if unit == "char":
        reference, hypothesis = reference.replace(" ", ""), hypothesis.replace(" ", "")
        if not reference:
            return {"errors": float(len(hypothesis)), "words": 0.0}
        out = jiwer.process_characters(reference, hypothesis or "")
        return {"errors": float(out.substitutions + out.deletions + out.insertions), "words": float(len(reference))}
    ref_words = reference.split()
    if not ref_words:
        return {"errors": float(len(hypothesis.split())), "words": 0.0}
    if not hypothesis.strip():
        return {"errors": float(len(ref_words)), "words": float(len(ref_words))}
    out = jiwer.process_words(reference, hypothesis)
    return {"errors": float(out.substitutions + out.deletions + out.insertions), "words": float(len(ref_words))}


@register_metric("wer", aggregate=corpus_rate, higher_is_better=False, corpus_level=True)
def wer(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus word error rate (%) after the basic normaliser (case, punctuation, spaces)."""
    return edit_counts(normalize_basic_asr(reference), normalize_basic_asr(prediction))


@register_metric("cer", aggregate=corpus_rate, higher_is_better=False, corpus_level=True)
def cer(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus character error rate (%) after the basic normaliser, spaces removed."""
    return edit_counts(normalize_basic_asr(reference), normalize_basic_asr(prediction), unit="char")
