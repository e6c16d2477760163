"""Speech recognition metrics: WER and CER with jiwer, in percent.

Corpus metrics (``wer``, ``cer``, ``wer_whisper``, ``cer_whisper``): per-sample values are
``{"errors": S + D + I, "words": N}`` and the aggregation is 100 * sum(errors) / sum(words),
i.e. corpus WER in percent, the number ASR papers report.

Utterance-mean metrics (``wer_utt_mean``, ``wer_whisper_utt_mean``): per-sample values are
one utterance's WER in percent and the aggregation is their mean. An utterance whose
reference is empty after normalisation scores 0 if the hypothesis is empty too, else 100.

``wer_open_asr`` is the Open ASR Leaderboard's rule (huggingface/open_asr_leaderboard,
``normalizer/data_utils.py`` and ``transformers/run_eval.py``): references and predictions go
through the English normaliser; a sample whose normalised reference is empty or reads "ignore
time segment in scoring" is left out of the corpus (the leaderboard filters it before
inference); WER = 100 * total edits / total reference words.

``wer_lmms_eval`` reproduces lmms-eval 0.7's ``librispeech_wer`` for English (EvolvingLMMs-Lab/
lmms-eval 75571cf, ``tasks/librispeech/utils.py`` and ``tasks/asr_wer_utils.py``), under which
published numbers such as Aero-1-Audio's were made: ``<|...|>`` tags and spaces before
``!,.?;:`` removed, the Whisper English normaliser, then Whisper's basic normaliser, tokens made
only of punctuation dropped, lower case; every sample counts (an empty reference adds its
hypothesis' words as errors); corpus WER.

Normalisers: ``basic`` (lower-case, punctuation except apostrophes removed, whitespace
collapsed) and ``whisper`` (the Whisper English normaliser from the ``whisper-normalizer``
package: spelling standardisation, number words to digits, fillers removed, ...).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.corpus import ratio_stats, with_bootstrap_stats

_KEEP = re.compile(r"[^\w\s']", re.UNICODE)


def normalize_basic_asr(text: str) -> str:
    """Lower-case, drop punctuation except apostrophes, collapse whitespace."""
    return " ".join(_KEEP.sub(" ", str(text).lower()).split())


@functools.lru_cache(maxsize=1)
def _whisper_english() -> Callable[[str], str]:
    try:
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as exc:
        raise UsageError(
            "the *_whisper ASR metrics need the whisper-normalizer package: pip install 'lmms_eval[metrics]'"
        ) from exc
    return EnglishTextNormalizer()


@functools.lru_cache(maxsize=1 << 16)
def _normalize_whisper_cached(text: str) -> str:
    return " ".join(_whisper_english()(text).split())


def normalize_whisper_english(text: str) -> str:
    """The Whisper English text normaliser (``whisper_normalizer.english.EnglishTextNormalizer``).

    Results are memoised per text (the normaliser is pure and costs ~0.2 ms a text, most of the
    time of a WER metric): a reference scored for several models or tasks is normalised once.
    """
    return _normalize_whisper_cached(str(text))


@functools.lru_cache(maxsize=1)
def _whisper_basic() -> Callable[[str], str]:
    try:
        from whisper_normalizer.basic import BasicTextNormalizer
    except ImportError as exc:
        raise UsageError(
            "wer_lmms_eval needs the whisper-normalizer package: pip install 'lmms_eval[metrics]'"
        ) from exc
    return BasicTextNormalizer()


_TAG = re.compile(r"<\|.*?\|>")
_SPACE_BEFORE_PUNCT = re.compile(r" ?([!,.?;:])")


@functools.lru_cache(maxsize=1 << 16)
def normalize_lmms_eval_english(text: str) -> str:
    """lmms-eval 0.7's English ASR normalisation, in its order:

    1. ``<|...|>`` tags become a space; whitespace runs become one space; a space before one of
       ``!,.?;:`` is removed; leading spaces are stripped (its ``remove_sp``);
    2. the Whisper English normaliser, then Whisper's basic normaliser;
    3. space-separated tokens made only of Unicode punctuation are dropped; lower case.
    """
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", re.sub(r"\s+", " ", _TAG.sub(" ", str(text)))).lstrip(" ")
    text = _whisper_basic()(_whisper_english()(text))
    kept = [tok for tok in text.split(" ") if not all(unicodedata.category(c)[0] == "P" for c in tok)]
    return " ".join(" ".join(kept).lower().split())


@with_bootstrap_stats(ratio_stats("errors", "words", scale=100.0))
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
        if not hypothesis:
            return {"errors": float(len(reference)), "words": float(len(reference))}
        out = jiwer.process_characters(reference, hypothesis)
        return {"errors": float(out.substitutions + out.deletions + out.insertions), "words": float(len(reference))}
    ref_words = reference.split()
    if not ref_words:
        return {"errors": float(len(hypothesis.split())), "words": 0.0}
    if not hypothesis.strip():
        return {"errors": float(len(ref_words)), "words": float(len(ref_words))}
    if hypothesis == reference:  # a perfect utterance: jiwer would find no edit
        return {"errors": 0.0, "words": float(len(ref_words))}
    out = jiwer.process_words(reference, hypothesis)
    return {"errors": float(out.substitutions + out.deletions + out.insertions), "words": float(len(ref_words))}


def utterance_rate(counts: dict[str, float]) -> float:
    """One utterance's error rate in percent; empty reference: 0 if nothing was said, else 100."""
    if counts["words"] == 0:
        return 0.0 if counts["errors"] == 0 else 100.0
    return 100.0 * counts["errors"] / counts["words"]


@register_metric("wer", aggregate=corpus_rate, higher_is_better=False, corpus_level=True, unit="%")
def wer(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus word error rate (%) after the basic normaliser (case, punctuation, spaces)."""
    return edit_counts(normalize_basic_asr(reference), normalize_basic_asr(prediction))


@register_metric("cer", aggregate=corpus_rate, higher_is_better=False, corpus_level=True, unit="%")
def cer(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus character error rate (%) after the basic normaliser, spaces removed."""
    return edit_counts(normalize_basic_asr(reference), normalize_basic_asr(prediction), unit="char")


@register_metric("wer_whisper", aggregate=corpus_rate, higher_is_better=False, corpus_level=True, unit="%")
def wer_whisper(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus word error rate (%) after the Whisper English normaliser (the Open ASR Leaderboard's)."""
    return edit_counts(normalize_whisper_english(reference), normalize_whisper_english(prediction))


IGNORED_REFERENCE = "ignore time segment in scoring"


@register_metric("wer_open_asr", aggregate=corpus_rate, higher_is_better=False, corpus_level=True, unit="%")
def wer_open_asr(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus WER (%) as the Open ASR Leaderboard scores it: Whisper English normaliser; samples whose
    normalised reference is empty or "ignore time segment in scoring" count for nothing."""
    ref = normalize_whisper_english(reference)
    if not ref.strip() or ref.strip() == IGNORED_REFERENCE:
        return {"errors": 0.0, "words": 0.0}
    return edit_counts(ref, normalize_whisper_english(prediction))


@register_metric("wer_lmms_eval", aggregate=corpus_rate, higher_is_better=False, corpus_level=True, unit="%")
def wer_lmms_eval(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus WER (%) as lmms-eval 0.7 scores LibriSpeech, the rule of Aero-1-Audio's published numbers.

    See :func:`normalize_lmms_eval_english`; every sample counts."""
    return edit_counts(normalize_lmms_eval_english(reference), normalize_lmms_eval_english(prediction))


@register_metric("cer_whisper", aggregate=corpus_rate, higher_is_better=False, corpus_level=True, unit="%")
def cer_whisper(prediction: str, reference: Any, **_: Any) -> dict[str, float]:
    """Corpus character error rate (%) after the Whisper English normaliser, spaces removed."""
    return edit_counts(normalize_whisper_english(reference), normalize_whisper_english(prediction), unit="char")


@register_metric("wer_utt_mean", higher_is_better=False, unit="%")
def wer_utt_mean(prediction: str, reference: Any, **_: Any) -> float:
    """Mean of per-utterance WER (%) after the basic normaliser (empty reference: 0 or 100)."""
    return utterance_rate(edit_counts(normalize_basic_asr(reference), normalize_basic_asr(prediction)))


@register_metric("wer_whisper_utt_mean", higher_is_better=False, unit="%")
def wer_whisper_utt_mean(prediction: str, reference: Any, **_: Any) -> float:
    """Mean of per-utterance WER (%) after the Whisper English normaliser (empty reference: 0 or 100)."""
    return utterance_rate(edit_counts(normalize_whisper_english(reference), normalize_whisper_english(prediction)))
