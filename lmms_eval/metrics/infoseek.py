"""InfoSeek's official scoring (``edchengg/infoseek_eval`` ``infoseek_eval.py`` at commit ``bec0c4c``).

Reimplemented from the rule the official code applies (not copied). One prediction against one
question, by its ``question_type`` (from ``infoseek_val_qtype.jsonl``, lower-cased):

* **normalisation** (SQuAD): lower-case, drop ASCII punctuation, drop the articles a/an/the,
  collapse whitespace;
* ``string`` (any type that is not ``time`` or ``numerical``): right when the normalised
  prediction equals one normalised alias of ``answer_eval`` (exact match, max over aliases);
* ``time``: **the same exact match**. The official docstring promises "+/- one year is correct"
  and "a date question with the right year is correct", but ``evaluate_time`` does not implement
  either; the code is followed here;
* ``numerical``: the answer is the ``range`` ``[lo, hi]`` of ``answer_eval`` (its first item when a
  list, or the dict itself). The prediction is parsed: every ``-`` right after a digit becomes
  `` - `` (so ``9-10`` is a range), numbers are read (sign, leading point, thousands commas,
  decimals, exponent), commas removed and points stripped from both ends (``.5`` reads 5, as
  officially), a number with two points keeps the part before the first; the first two numbers
  make the range ``[a, b]`` when ``a <= b``, else the number ``a``; one number is that number;
  none is the range ``[0, 0]``. A number is right when ``lo <= x <= hi``; a range when both ends
  lie in ``[lo, hi]`` or its interval IoU with ``[lo, hi]`` is at least 0.5. (So an answer with no
  number is right when ``[lo, hi]`` holds 0, exactly as officially; ``infoseek_parse_rate`` counts it
  unparsed.) The official +/-10% tolerance applies only to a single-number answer, which
  ``prepare_qid2example`` never produces, so it is not used.

Splits: a ``data_split`` ending in ``unseen_question`` is the unseen-question split, any other
value the unseen-entity split (the official routing). The official score of a split is the micro
accuracy over its questions, x 100 and rounded to 2 decimals; the **final score is the harmonic mean
of the two split scores**, rounded to 2 decimals.

Metrics:

* ``infoseek_score`` - the official final score (0-100): per sample ``{"split", "correct"}``, the
  aggregation takes the harmonic mean of the two split accuracies. A run holding only one split
  (``--limit``, a breakdown by split) has no final score: NaN, where the official script would
  report ~0 for the empty split;
* ``infoseek_acc`` - the official per-question correctness, mean over samples (micro accuracy of the
  samples run; per split and per question type through the task's breakdowns);
* ``infoseek_parse_rate`` - numerical: a number was found; other types: the normalised prediction is
  not empty.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.normalize import normalize_squad

Number = float | list[float]

# a signed number: optional leading point, digits, ",ddd" groups, optional point and decimals, exponent
_NUMBER = re.compile(
    r"""
    [-+]?            # sign
    \.?\d+           # integer digits, possibly after a leading point (.5)
    (?:,\d\d\d)*     # thousands groups
    \.?\d*           # decimal point and decimals
    (?:[eE][-+]?\d+)?  # exponent
    """,
    re.VERBOSE,
)
# a hyphen that follows a digit is a range dash: "9-10" -> "9 - 10" (a leading minus stays a sign)
_RANGE_DASH = re.compile(r"(?<=\d)-")
IOU_THRESHOLD = 0.5
_EPS = 1e-12


def split_of(data_split: Any) -> str:
    """``unseen_question`` when ``data_split`` ends with it, else ``unseen_entity`` (official routing)."""
    return "unseen_question" if str(data_split or "").endswith("unseen_question") else "unseen_entity"


def parse_numbers(text: str) -> list[float]:
    """The numbers of ``text`` in order, read as the official ``process_numerical_answer`` reads them."""
    spaced = _RANGE_DASH.sub(" - ", str(text))
    values: list[float] = []
    for token in _NUMBER.findall(spaced):
        cleaned = token.replace(",", "").strip(".")
        if cleaned.count(".") > 1:
            cleaned = cleaned.partition(".")[0]
        try:
            values.append(float(cleaned))
        except ValueError:  # a bare sign left after stripping: no number
            continue
    return values


def parse_numerical_prediction(text: str) -> Number:
    """The prediction as a number or a ``[low, high]`` range (``[0, 0]`` when no number is found)."""
    numbers = parse_numbers(text)[:2]
    if len(numbers) == 2:
        first, second = numbers
        return [first, second] if first <= second else first
    if numbers:
        return numbers[0]
    return [0.0, 0.0]


def range_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two intervals (each widened by 1e-12, as officially)."""
    lo_a, hi_a = min(a), max(a)
    lo_b, hi_b = min(b), max(b)
    overlap = max(0.0, min(hi_a, hi_b) - max(lo_a, lo_b))
    union = (hi_a - lo_a + _EPS) + (hi_b - lo_b + _EPS) - overlap
    return overlap / union if union != 0 else 0.0


def numerical_match(prediction: Number, answer_range: Sequence[float]) -> bool:
    """Official range rule: a number inside ``[lo, hi]``; a range inside it or with IoU >= 0.5."""
    lo, hi = answer_range
    if not isinstance(prediction, list):
        return lo <= prediction <= hi
    if all(lo <= end <= hi for end in prediction):
        return True
    return range_iou(prediction, answer_range) >= IOU_THRESHOLD - _EPS


def answer_range(answer_eval: Any, data_id: Any = None) -> list[float]:
    """``[lo, hi]`` of a numerical question's ``answer_eval`` (``[{"wikidata": v, "range": [lo, hi]}]``
    or the dict alone); a value without a range is a :class:`SampleError` naming the question."""
    item = answer_eval[0] if isinstance(answer_eval, list) and answer_eval else answer_eval
    bounds = item.get("range") if isinstance(item, Mapping) else None
    if not isinstance(bounds, (list, tuple)) or len(bounds) < 2:
        raise SampleError(
            f"InfoSeek {data_id!r}: a numerical question needs answer_eval [{{'range': [lo, hi]}}], got "
            f"{answer_eval!r}; check its question_type in infoseek_val_qtype.jsonl"
        )
    return [float(str(bounds[0])), float(str(bounds[1]))]


def aliases(answer_eval: Any, data_id: Any = None) -> list[str]:
    """The answer aliases of a string/time question (a bare string is one alias)."""
    values = [answer_eval] if isinstance(answer_eval, str) else list(answer_eval or [])
    if not values:
        raise SampleError(f"InfoSeek {data_id!r}: answer_eval is empty; the row needs at least one alias")
    return [str(v) for v in values]


def question_type_of(doc: Mapping[str, Any] | None) -> str:
    """The lower-cased ``question_type`` of a row; a row without one is a :class:`SampleError`."""
    qtype = (doc or {}).get("question_type")
    if not qtype:
        data_id = (doc or {}).get("data_id")
        raise SampleError(
            f"InfoSeek {data_id!r} has no question_type; add its line to infoseek_val_qtype.jsonl "
            "(data_id, question_type) next to infoseek_val.jsonl"
        )
    return str(qtype).lower()


def infoseek_correct(prediction: str, answer_eval: Any, question_type: str, data_id: Any = None) -> bool:
    """The official verdict for one prediction (see the module docstring)."""
    if question_type.lower() == "numerical":
        return numerical_match(parse_numerical_prediction(prediction), answer_range(answer_eval, data_id))
    pred = normalize_squad(prediction)
    return any(pred == normalize_squad(alias) for alias in aliases(answer_eval, data_id))


def _answer_eval(reference: Any, doc: Mapping[str, Any] | None) -> Any:
    return (doc or {}).get("answer_eval", reference) if reference is None else reference


def harmonic_mean_score(values: Sequence[Any]) -> float:
    """Official final score (0-100) from per-sample ``{"split", "correct"}``: each split's accuracy
    x 100 rounded to 2 decimals, their harmonic mean rounded to 2 decimals (a zero split counts as
    1e-12, as officially). NaN unless both splits have samples."""
    right: dict[str, float] = {"unseen_question": 0.0, "unseen_entity": 0.0}
    count: dict[str, int] = {"unseen_question": 0, "unseen_entity": 0}
    for value in values:
        if not isinstance(value, Mapping):
            continue
        split = split_of(value.get("split"))
        right[split] += float(value.get("correct") or 0)
        count[split] += 1
    if not all(count.values()):
        return float("nan")
    scores = [round(100 * right[s] / count[s], 2) or _EPS for s in count]
    return round(len(scores) / math.fsum(1 / s for s in scores), 2)


@register_metric("infoseek_score", aggregate=harmonic_mean_score, unit="0-100")
def infoseek_score(prediction: str, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """Official InfoSeek final score: harmonic mean of the unseen-question and unseen-entity accuracies."""
    qtype = question_type_of(doc)
    data_id = (doc or {}).get("data_id")
    correct = infoseek_correct(prediction, _answer_eval(reference, doc), qtype, data_id)
    return {"split": split_of((doc or {}).get("data_split")), "correct": int(correct)}


@register_metric("infoseek_acc")
def infoseek_acc(prediction: str, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """Official InfoSeek per-question rule (exact match over aliases; numerical range match), 0/1."""
    qtype = question_type_of(doc)
    return float(infoseek_correct(prediction, _answer_eval(reference, doc), qtype, (doc or {}).get("data_id")))


@register_metric("infoseek_parse_rate")
def infoseek_parse_rate(prediction: str, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """1 when the official reading finds an answer: a number (numerical), non-empty text (others)."""
    if question_type_of(doc) == "numerical":
        return float(bool(parse_numbers(prediction)))
    return float(bool(normalize_squad(prediction)))
