"""Text-matching metrics: exact match and ANLS."""

from __future__ import annotations

import re
import string
from typing import Any

from lmms_eval.api.metric import register_metric

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")
_SPACES = re.compile(r"\s+")


def normalize_basic(text: str, ignore_case: bool = True, ignore_punctuation: bool = False) -> str:
    """Collapse whitespace; optionally lower-case and drop ASCII punctuation."""
    text = str(text)
    if ignore_case:
        text = text.lower()
    if ignore_punctuation:
        text = _PUNCT.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _references(reference: Any) -> list[str]:
    if reference is None:
        return []
    if isinstance(reference, (list, tuple)):
        return [str(r) for r in reference]
    return [str(reference)]


@register_metric("exact_match")
def exact_match(
    prediction: str, reference: Any, ignore_case: bool = True, ignore_punctuation: bool = False, **_: Any
) -> float:
    """1.0 if the prediction equals any reference after whitespace (and case) normalisation."""
    pred = normalize_basic(prediction, ignore_case, ignore_punctuation)
    return float(any(pred == normalize_basic(r, ignore_case, ignore_punctuation) for r in _references(reference)))


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@register_metric("anls")
def anls(prediction: str, reference: Any, threshold: float = 0.5, **_: Any) -> float:
    """Average Normalized Levenshtein Similarity (DocVQA): best over references, 0 below 1 - threshold.

    Per the DocVQA rule, strings are lower-cased and stripped, similarity is
    1 - edit_distance / max(len), and a similarity below ``1 - threshold`` (NL >= 0.5) counts 0.
    """
    pred = " ".join(str(prediction).strip().lower().split())
    best = 0.0
    for ref in _references(reference):
        ref = " ".join(ref.strip().lower().split())
        longest = max(len(pred), len(ref))
        similarity = 1.0 if longest == 0 else 1.0 - _levenshtein(pred, ref) / longest
        best = max(best, similarity if similarity >= 1.0 - threshold else 0.0)
    return best
