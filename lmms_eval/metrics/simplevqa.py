"""SimpleVQA metrics over the judge's per-sample grades (``correct`` / ``incorrect`` / ``not_attempted``).

The rule is ``simpleVQA_eval.py`` of SimpleVQA/SimpleVQA @ b94d1f3d05d7f488afcdcf95bfcd69bcb279111e
(written anew here, not copied): over all N graded samples,

* CO  = correct / N            (``is_correct``)
* IN  = incorrect / N          (``is_incorrect``)
* NA  = not attempted / N      (``is_not_attempted``)
* CGA = CO / (CO + IN)         (``accuracy_given_attempted``; 0 when nothing was attempted)
* F1  = 2 * CGA * CO / (CGA + CO)  (harmonic mean of CO and CGA; 0 when both are 0)

Each metric's per-sample value is the grade itself (the label name a ``label`` judge block
writes); only the aggregation differs, so one judge grade feeds all five. Differences from the
script: no rounding of CO/IN to 4 decimals before CGA and F1; a grade outside the three names is
a :class:`~lmms_eval.api.errors.SampleError` (the script maps long unknown replies to "not
attempted" and crashes with a KeyError on its own "答案解析失败" parse-failure marker; here an
unparseable judge reply is a ``judge_error`` sample, never a grade).

``simplevqa_em_lenient`` is NOT the official rule: lmms-eval 0.7's exact match of the normalised
answer, kept as a named judge-free variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric

GRADES = ("correct", "incorrect", "not_attempted")


def _grade(prediction: Any) -> str:
    grade = str(prediction).strip() if prediction is not None else ""
    if grade not in GRADES:
        raise SampleError(
            f"SimpleVQA grade {prediction!r} is not one of {', '.join(GRADES)}; "
            "these metrics aggregate a label judge block's grades (see lmms_eval/tasks/simplevqa/README.md)"
        )
    return grade


def grade_shares(values: Sequence[Any]) -> dict[str, float]:
    """``{correct, incorrect, not_attempted}`` shares of all graded samples (0 each when none)."""
    grades = [_grade(v) for v in values]
    total = len(grades)
    return {g: (grades.count(g) / total if total else 0.0) for g in GRADES}


def simplevqa_scores(values: Sequence[Any]) -> dict[str, float]:
    """CO, IN, NA, CGA and F1 of a list of grades (formulas in the module docstring)."""
    shares = grade_shares(values)
    co, inc, na = shares["correct"], shares["incorrect"], shares["not_attempted"]
    attempted = co + inc
    cga = co / attempted if attempted > 0 else 0.0
    f1 = 2 * cga * co / (cga + co) if cga + co > 0 else 0.0
    return {"CO": co, "IN": inc, "NA": na, "CGA": cga, "F1": f1}


def _aggregate(key: str) -> Any:
    def aggregate(values: Sequence[Any]) -> float:
        return simplevqa_scores(values)[key]

    aggregate.__name__ = f"simplevqa_{key.lower()}"
    return aggregate


def _grade_metric(prediction: Any, reference: Any = None, **_: Any) -> str:
    return _grade(prediction)


def _register(name: str, key: str, higher: bool, description: str) -> None:
    def compute(prediction: Any, reference: Any = None, **kwargs: Any) -> str:
        return _grade_metric(prediction, reference, **kwargs)

    compute.__name__ = name
    compute.__doc__ = description
    register_metric(name, aggregate=_aggregate(key), higher_is_better=higher)(compute)


_register("simplevqa_co", "CO", True, "SimpleVQA CO: share of samples the judge graded correct (is_correct).")
_register("simplevqa_in", "IN", False, "SimpleVQA IN: share of samples the judge graded incorrect (is_incorrect).")
_register("simplevqa_na", "NA", False, "SimpleVQA NA: share of samples graded not attempted (is_not_attempted).")
_register("simplevqa_cga", "CGA", True, "SimpleVQA CGA: correct given attempted, CO / (CO + IN); 0 if none attempted.")
_register("simplevqa_f1", "F1", True, "SimpleVQA F1: harmonic mean of CO and CGA, 2*CGA*CO/(CGA+CO); 0 if both 0.")


@register_metric("simplevqa_em_lenient")
def simplevqa_em_lenient(prediction: Any, reference: Any, **_: Any) -> float:
    """NOT official: 1.0 if the lower-cased, stripped answer equals the reference (lmms-eval 0.7 style)."""
    return float(str(prediction or "").strip().lower() == str(reference or "").strip().lower())
