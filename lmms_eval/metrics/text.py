"""Text-matching metrics: exact match (named normalisers), token F1, ANLS, relaxed accuracy,
OCRBench containment.

Every metric here takes one reference or a list of references and scores the best match.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any

from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.normalize import normalize_squad

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")
_SPACES = re.compile(r"\s+")


def normalize_basic(text: str, ignore_case: bool = True, ignore_punctuation: bool = False) -> str:
    """Collapse whitespace; optionally lower-case and drop ASCII punctuation."""
    text = str(text)
    if ignore_case:
        text = text.lower()
    if ignore_punctuation:
        text = _PUNCT.sub("", text)
    return " ".join(text.split())  # str.split splits on exactly what \s matches in Python's re


def references(reference: Any) -> list[str]:
    """A reference or list of references as a list of strings (``None`` -> no references)."""
    if reference is None:
        return []
    if isinstance(reference, (list, tuple)):
        return [str(r) for r in reference]
    return [str(reference)]


# ---- exact match ---------------------------------------------------------------------------


@register_metric("exact_match")
def exact_match(
    prediction: str, reference: Any, ignore_case: bool = True, ignore_punctuation: bool = False, **_: Any
) -> float:
    """1.0 if the prediction equals any reference after whitespace (and case) normalisation."""
    pred = normalize_basic(prediction, ignore_case, ignore_punctuation)
    if isinstance(reference, str):  # the common case, without building a list
        return float(pred == normalize_basic(reference, ignore_case, ignore_punctuation))
    return float(any(pred == normalize_basic(r, ignore_case, ignore_punctuation) for r in references(reference)))


@register_metric("exact_match_strict")
def exact_match_strict(prediction: str, reference: Any, **_: Any) -> float:
    """1.0 if the prediction equals any reference character for character (no normalisation)."""
    return float(any(str(prediction) == r for r in references(reference)))


@register_metric("exact_match_squad")
def exact_match_squad(prediction: str, reference: Any, **_: Any) -> float:
    """1.0 if the prediction equals any reference after the SQuAD normaliser (case, punctuation, a/an/the)."""
    pred = normalize_squad(prediction)
    return float(any(pred == normalize_squad(r) for r in references(reference)))


def squad_f1(prediction: str, reference: str) -> float:
    """Token-overlap F1 of two strings after the SQuAD normaliser.

    Bag-of-tokens overlap: precision = common / prediction tokens, recall = common /
    reference tokens. If either side has no tokens the score is 1.0 when both are empty and
    0.0 otherwise (the SQuAD v2.0 rule for unanswerable questions).
    """
    pred_tokens = normalize_squad(prediction).split()
    ref_tokens = normalize_squad(reference).split()
    if not pred_tokens or not ref_tokens:
        return float(pred_tokens == ref_tokens)
    common = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_tokens)
    recall = common / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


@register_metric("token_f1")
def token_f1(prediction: str, reference: Any, **_: Any) -> float:
    """SQuAD token F1: best bag-of-tokens F1 over the references after the SQuAD normaliser."""
    return max((squad_f1(prediction, r) for r in references(reference)), default=0.0)


# ---- ANLS ----------------------------------------------------------------------------------


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions all cost 1)."""
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:  # rapidfuzz comes with jiwer; this path is a safety net
        return _levenshtein_dp(a, b)
    return int(Levenshtein.distance(a, b))


def _levenshtein_dp(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _anls_normalize(text: str) -> str:
    return " ".join(str(text).strip().lower().split())


@register_metric("anls")
def anls(prediction: str, reference: Any, threshold: float = 0.5, **_: Any) -> float:
    """ANLS (DocVQA): best 1 - NL over the references, where NL >= threshold (0.5) scores 0.

    NL is the normalised Levenshtein distance edit_distance / max(len) of the lower-cased,
    stripped strings (internal whitespace runs collapsed to one space). Two empty strings
    have NL 0. Per Biten et al. (ST-VQA, ICCV 2019), a distance of exactly the threshold
    already scores 0.
    """
    pred = _anls_normalize(prediction)
    best = 0.0
    for ref in references(reference):
        ref = _anls_normalize(ref)
        longest = max(len(pred), len(ref))
        distance = 0.0 if longest == 0 else levenshtein(pred, ref) / longest
        if distance < threshold:
            best = max(best, 1.0 - distance)
    return best


# ---- ChartQA relaxed accuracy -------------------------------------------------------------

_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _chartqa_float(text: str, thousands_separators: bool) -> float | None:
    """A number as ChartQA reads it: ``float(text)``, "12%" as 0.12; None if not a number."""
    text = text.strip()
    if thousands_separators and _THOUSANDS.fullmatch(text.rstrip("%").strip()):
        text = text.replace(",", "")
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_match(
    prediction: str, target: str, max_relative_change: float = 0.05, thousands_separators: bool = True
) -> bool:
    """ChartQA rule for one target: numbers within 5 % relative change, else case-insensitive equality.

    As in the official rule, a target that is not a number, or is the number 0 (no relative
    change is defined), is compared as a string.
    """
    pred_num = _chartqa_float(prediction, thousands_separators)
    target_num = _chartqa_float(target, thousands_separators)
    if pred_num is not None and target_num:
        return abs(pred_num - target_num) / abs(target_num) <= max_relative_change
    return prediction.strip().lower() == target.strip().lower()


@register_metric("relaxed_accuracy")
def relaxed_accuracy(
    prediction: str, reference: Any, max_relative_change: float = 0.05, thousands_separators: bool = True, **_: Any
) -> float:
    """ChartQA relaxed accuracy: numbers within 5 % of the target, other answers equal ignoring case."""
    pred = str(prediction)
    return float(any(relaxed_match(pred, r, max_relative_change, thousands_separators) for r in references(reference)))


# ---- OCRBench ------------------------------------------------------------------------------

OCRBENCH_NO_SPACE_DATASETS = frozenset({"HME100k"})


@register_metric("ocrbench_match")
def ocrbench_match(
    prediction: str, reference: Any, doc: dict[str, Any] | None = None, no_space: bool | None = None, **_: Any
) -> float:
    """OCRBench: 1.0 if a lower-cased reference is a substring of the lower-cased prediction.

    For the HME100k handwritten-formula subset (``doc["dataset"] == "HME100k"``, or
    ``no_space=True``) all spaces are removed instead and case is kept, as in the official
    script. Newlines count as spaces.
    """
    if no_space is None:
        no_space = bool(doc) and str(doc.get("dataset", "")) in OCRBENCH_NO_SPACE_DATASETS
    pred = str(prediction).strip().replace("\n", " ")
    for ref in references(reference):
        ref = ref.strip().replace("\n", " ")
        if no_space:
            hit = ref.replace(" ", "") in pred.replace(" ", "")
        else:
            hit = ref.lower() in pred.lower()
        if hit:
            return 1.0
    return 0.0
