"""Text-matching metrics: exact match (named normalisers), token F1, ANLS, relaxed accuracy,
OCRBench containment.

Every metric here takes one reference or a list of references and scores the best match.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
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

ANLS_SOURCE = (
    "RRC DocVQA/InfographicVQA evaluation script (rrc.cvc.uab.es/?ch=17), verbatim copy "
    "QwenLM/Qwen-VL@e6bbb9d eval_mm/infographicsvqa_eval.py, evaluate_method"
)


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


def anls_similarity(prediction: str, answers: list[str], threshold: float = 0.5) -> float:
    """The RRC script's per-question score (steps in :func:`anls`); 0.0 without answers."""
    det = str(prediction)
    det_answer = _anls_normalize(det)
    distances = []
    for answer in answers:
        dist = levenshtein(_anls_normalize(answer), det_answer)
        length = max(len(answer.upper()), len(det.upper()))
        distances.append(0.0 if length == 0 else dist / length)
    if not distances:
        return 0.0
    score = 1.0 - min(distances)
    return 0.0 if score < threshold else score


@register_metric("anls")
def anls(prediction: str, reference: Any, threshold: float = 0.5, **_: Any) -> float:
    """ANLS exactly as the DocVQA/RRC evaluation script: 1 - NL of the closest answer, 0 below 0.5.

    Steps of ``evaluate_method`` (RRC script for DocVQA/InfographicVQA, ``rrc.cvc.uab.es/?ch=17``;
    read in the verbatim copy ``QwenLM/Qwen-VL@e6bbb9d eval_mm/infographicsvqa_eval.py``, the
    same code lmms-eval's ``anls`` carries), per question:

    1. for each ground-truth answer: ``gt = " ".join(answer.strip().lower().split())`` and
       ``det = " ".join(prediction.strip().lower().split())`` (strip, lower-case, whitespace
       runs collapsed to one space);
    2. ``dist`` = Levenshtein distance of ``gt`` and ``det`` (unit costs);
    3. ``length = max(len(answer.upper()), len(prediction.upper()))``: the lengths of the RAW
       strings (before step 1: surrounding spaces and whitespace runs count) after
       upper-casing (``"ß".upper()`` is ``"SS"``, two characters);
    4. ``NL = 0.0 if length == 0 else dist / length``;
    5. ``score = 1 - min(NL over the answers)``;
    6. ``score < threshold`` (0.5) becomes 0: a similarity of exactly 0.5 is KEPT.

    The reported ANLS is the mean of the scores over the questions. Quirks kept: padding the
    prediction with spaces lowers NL (it lengthens the divisor, not the distance); both strings
    empty (or whitespace only) score 1. No answers: 0.0 (the script would fail on ``min([])``).
    """
    return anls_similarity(prediction, references(reference), threshold)


@register_metric("anls_normalized")
def anls_normalized(prediction: str, reference: Any, threshold: float = 0.5, **_: Any) -> float:
    """ANLS on normalised strings: best 1 - NL over the answers, where NL >= threshold scores 0.

    Not the official script (see :func:`anls`): NL is edit_distance / max(len) of the
    lower-cased, stripped strings (internal whitespace runs collapsed to one space), so padding
    does not lower NL; and, per the paper's formula (Biten et al., ST-VQA, ICCV 2019:
    ``1 - NL if NL < tau else 0``), a distance of exactly the threshold already scores 0,
    where the RRC script keeps a similarity of 0.5. Two empty strings have NL 0.
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


def pix2struct_float(text: str) -> float | None:
    """``_to_float`` of pix2struct's ``relaxed_correctness``: ``"12%"`` -> 0.12, else ``float(text)``.

    Python's ``float`` itself ignores surrounding whitespace and accepts ``"1_000"``, ``"1e3"``,
    ``"nan"``, ``"inf"`` and non-ASCII decimal digits; a trailing ``%`` is cut (all of them:
    ``rstrip``) only when it is the very last character. None when ``float`` raises.
    """
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_correctness(prediction: str, target: str, max_relative_change: float = 0.05) -> bool:
    """pix2struct's ``relaxed_correctness`` for one target (steps in :func:`relaxed_accuracy`)."""
    prediction_float = pix2struct_float(prediction)
    target_float = pix2struct_float(target)
    if prediction_float is not None and target_float:
        return abs(prediction_float - target_float) / abs(target_float) <= max_relative_change
    return prediction.lower() == target.lower()


@register_metric("relaxed_accuracy")
def relaxed_accuracy(prediction: str, reference: Any, max_relative_change: float = 0.05, **_: Any) -> float:
    """ChartQA relaxed accuracy exactly as pix2struct's relaxed_correctness (5 % for numbers).

    Steps (``google-research/pix2struct@945f27e`` ``pix2struct/metrics.py``
    ``relaxed_correctness``; lmms-eval's ChartQA task carries the same function):

    1. each string is read as a number by :func:`pix2struct_float`: ending in ``%`` ->
       ``float(text.rstrip("%")) / 100``, else ``float(text)``; ``ValueError`` -> no number;
    2. if the prediction is a number and the target's number is truthy (a number, not 0):
       correct iff ``|p - t| / |t| <= 0.05`` (a NaN comparison is False);
    3. otherwise (a non-number on either side, or a target of 0): ``prediction.lower() ==
       target.lower()``, with NO stripping and no other normalisation.

    Best over the references (``aggregate_metrics`` takes the max over targets); the reported
    relaxed accuracy is the mean. No thousands separators (``"1,000"`` is not a number), no
    trailing-space tolerance for words (``"Yes "`` != ``"yes"``); ``relaxed_accuracy_lenient``
    is the friendlier variant.
    """
    pred = str(prediction)
    return float(any(relaxed_correctness(pred, r, max_relative_change) for r in references(reference)))


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def _lenient_float(text: str, thousands_separators: bool) -> float | None:
    """A number as the lenient rule reads it: stripped, "1,000" as 1000, "12%" as 0.12."""
    text = text.strip()
    if thousands_separators and _THOUSANDS.fullmatch(text.rstrip("%").strip()):
        text = text.replace(",", "")
    return pix2struct_float(text)


def relaxed_match(
    prediction: str, target: str, max_relative_change: float = 0.05, thousands_separators: bool = True
) -> bool:
    """The lenient ChartQA rule for one target: numbers within 5 % relative change, else
    equality of the stripped, lower-cased strings; a target of 0 compares as a string."""
    pred_num = _lenient_float(prediction, thousands_separators)
    target_num = _lenient_float(target, thousands_separators)
    if pred_num is not None and target_num:
        return abs(pred_num - target_num) / abs(target_num) <= max_relative_change
    return prediction.strip().lower() == target.strip().lower()


@register_metric("relaxed_accuracy_lenient")
def relaxed_accuracy_lenient(
    prediction: str, reference: Any, max_relative_change: float = 0.05, thousands_separators: bool = True, **_: Any
) -> float:
    """ChartQA relaxed accuracy, lenient: official 5 % rule plus stripping and thousands separators.

    Differences from ``relaxed_accuracy`` (pix2struct): both strings are stripped before the
    number reading and the string comparison (``"Yes "`` equals ``"yes"``), and a number with
    comma thousands groups (``"1,000"``, ``"-12,345.5%"``) is read without the commas
    (``thousands_separators: false`` turns that off). Everything else as the official rule.
    """
    pred = str(prediction)
    return float(any(relaxed_match(pred, r, max_relative_change, thousands_separators) for r in references(reference)))


# ---- OCRBench ------------------------------------------------------------------------------

OCRBENCH_NO_SPACE_DATASETS = frozenset({"HME100k"})


def ocrbench_hit(prediction: str, answers: list[str], no_space: bool) -> bool:
    """The official per-sample rule (steps in :func:`ocrbench_match`)."""
    if no_space:
        predict = str(prediction).strip().replace("\n", " ").replace(" ", "")
        return any(a.strip().replace("\n", " ").replace(" ", "") in predict for a in answers)
    predict = str(prediction).lower().strip().replace("\n", " ")
    return any(a.lower().strip().replace("\n", " ") in predict for a in answers)


def _ocrbench_no_space(doc: dict[str, Any] | None, no_space: bool | None) -> bool:
    if no_space is not None:
        return no_space
    if not doc:
        return False
    return str(doc.get("dataset", "")) in OCRBENCH_NO_SPACE_DATASETS


@register_metric("ocrbench_match")
def ocrbench_match(
    prediction: str, reference: Any, doc: dict[str, Any] | None = None, no_space: bool | None = None, **_: Any
) -> float:
    """OCRBench: 1.0 if an answer is contained in the prediction (official rule; mean = accuracy).

    Steps of the official scoring loop (``Yuliang-Liu/MultimodalOCR@794c36d``
    ``OCRBench/example.py``, the same loop in every ``OCRBench/scripts/*.py``):

    1. HME100k (``doc["dataset"] == "HME100k"``, or ``no_space=True``): answer and prediction
       each ``.strip().replace("\\n", " ").replace(" ", "")``: every ASCII space removed (tabs
       and other whitespace stay), case KEPT;
    2. any other dataset: each ``.lower().strip().replace("\\n", " ")``: lower-cased, stripped,
       newlines to spaces, no other normalisation (no whitespace collapsing, no punctuation
       removal, no full-width folding);
    3. correct (1) when any answer (the ``answer`` list) is a substring of the prediction.

    Quirk kept: an answer that is empty after step 1/2 is contained in every prediction. The
    official total is the number correct out of 1000 (``ocrbench_score``).
    """
    return float(ocrbench_hit(prediction, references(reference), _ocrbench_no_space(doc, no_space)))


def ocrbench_total(values: Sequence[Any]) -> float:
    """Sum of the per-sample 0/1 values: OCRBench's score in points (out of 1000 for the full set)."""
    return math.fsum(float(v) for v in values if v is not None)


@register_metric("ocrbench_score", aggregate=ocrbench_total, unit="points")
def ocrbench_score(
    prediction: str, reference: Any, doc: dict[str, Any] | None = None, no_space: bool | None = None, **_: Any
) -> float:
    """OCRBench points: the official per-sample rule (as ``ocrbench_match``), summed, not averaged.

    ``example.py`` adds each sample's 0/1 result to its ``type``'s score and prints the ten
    category scores, "Text Recognition" (the six recognition types, out of 300) and the
    "Final Score" out of 1000, all as counts of correct samples. Per category: the task's
    breakdown of this metric by ``question_type``.
    """
    return ocrbench_match(prediction, reference, doc=doc, no_space=no_space)
