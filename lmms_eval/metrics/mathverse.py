"""MathVerse's official quick match, and a judge-free rule variant.

Official rule: ``ZrrSkywalker/MathVerse`` @ ``937b090``, ``evaluation/`` (reimplemented; the LLM
steps are the task's judge blocks, see ``lmms_eval/tasks/mathverse/README.md``):

1. **Extraction** (``extract_answer_s1.py``): the last 30 space-separated words of the response
   (README command ``--trunk_response 30``) go to the LLM with the demo prompt of
   ``prompts.py`` (``demo_prompt_extract``); the reply, with ``"Extracted Answer: "`` removed
   and stripped, is the extraction.
2. **Scoring** (``score_answer_s2.py``): by default the LLM judges the extraction against
   ``answer`` with ``demo_prompt_score`` and must reply ``0`` or ``1`` (after removing
   ``"Judgement:"`` and stripping); with ``--quick_match`` instead the extraction is correct
   when it equals ``answer`` exactly (no LLM call).
3. **Accuracy** = mean over the problems (overall, per ``problem_version``, per
   ``metadata.subject`` and ``subject``/``subfield``).

Metrics here (mean over samples, higher is better):

* ``mathverse_quick_match`` - step 2's ``--quick_match``: the stripped text equals ``answer``
  (the extract block's ``score_with`` and its cascade rule: a response that already IS the
  answer needs no extraction call).
* ``mathverse_acc_rule`` - **not official**, a judge-free lower bound in the spirit of the
  General STEM reward: the final answer is the last ``<answer>...</answer>``, else the last
  ``\\boxed{}``, else the whole response. Multi-choice (``question_type == "multi-choice"``):
  the option letter :func:`~lmms_eval.metrics.extract.extract_choice` finds (tag, box, answer
  statements, a lone letter...) equals ``answer``. Free-form: math-verify equality with
  ``answer`` (:func:`~lmms_eval.metrics.maths.math_equal`). Anything else is wrong.
* ``mathverse_parse_rate`` - share of samples where ``mathverse_acc_rule`` found an answer
  (a letter; or a final answer math-verify could parse, or any text when ``answer`` itself is
  not mathematics).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric

MULTI_CHOICE = "multi-choice"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _question_type(doc: Mapping[str, Any] | None) -> str:
    if not doc or "question_type" not in doc:
        raise SampleError(
            f"MathVerse scoring needs the document's 'question_type' column (sample_index "
            f"{(doc or {}).get('sample_index')!r}); use the AI4Math/MathVerse schema"
        )
    return str(doc["question_type"])


def quick_match(extraction: Any, answer: Any) -> bool:
    """Official ``--quick_match``: the (stripped) extraction equals the answer exactly."""
    return _text(extraction).strip() == _text(answer)


def rule_answer(response: Any, answer: Any, doc: Mapping[str, Any] | None) -> tuple[bool, bool]:
    """(parsed, correct) of the judge-free rule variant (see the module doc)."""
    from lmms_eval.metrics.extract import extract_choice
    from lmms_eval.metrics.maths import final_answer, math_equal, parse_answer

    text = _text(response)
    if _question_type(doc) == MULTI_CHOICE:
        letter = extract_choice(text)
        return letter is not None, letter is not None and letter == _text(answer).strip()
    final, delimited = final_answer(text)
    if not final.strip():
        return False, False
    parsed = bool(parse_answer(final, delimited)) or not parse_answer(_text(answer), True)
    return parsed, parsed and math_equal(text, _text(answer))


@register_metric("mathverse_quick_match")
def mathverse_quick_match(prediction: Any, reference: Any, **_: Any) -> float:
    """1.0 when the answer text equals the reference exactly (MathVerse ``--quick_match``)."""
    return float(quick_match(prediction, reference))


@register_metric("mathverse_acc_rule")
def mathverse_acc_rule(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """Judge-free MathVerse accuracy (not the official rule): option letter or math-verify."""
    return float(rule_answer(prediction, reference, doc)[1])


@register_metric("mathverse_parse_rate")
def mathverse_parse_rate(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """1.0 when the judge-free rule found an answer (a letter, or a parseable final answer)."""
    return float(rule_answer(prediction, reference, doc)[0])
