"""MathVista's official answer extraction, normalisation and scoring (``AI4Math/MathVista``).

Rule of ``lupantech/MathVista`` at commit ``53d5258`` (files ``evaluation/extract_answer.py``
``extract_answer``, ``evaluation/calculate_score.py`` ``normalize_extracted_answer`` /
``safe_equal``), reimplemented here. For one response to one problem, in order:

1. **Rule extraction** (``extract_answer`` before its LLM call):

   a. the response is ``""`` -> the extraction is ``""``;
   b. ``question_type == "multi_choice"`` and the response is exactly one of ``choices`` -> the response;
   c. ``answer_type == "integer"`` and Python ``int(response)`` parses -> ``str(int(response))``;
   d. ``answer_type == "float"`` and ``float(response)`` parses -> ``str(float(response))``;
   e. otherwise the rules cannot extract (``None`` here). The official ``--quick_extract``
      regex (``The answer is "(.*)"\\.``) is off by default (no official script passes it), so
      it is not applied; the official run then asks the LLM with the demo prompt of
      ``evaluation/prompts/ext_ans.py`` (the task's judge block, ``extract_prompt.jinja``).

2. **Normalisation** of the extraction (``normalize_extracted_answer``):

   * multi-choice: the text stripped; the first ``(X)`` letter, upper-cased, replaces it when
     present; a letter among ``A``.. (one per choice) becomes that choice's text; anything
     else becomes the **choice with the smallest Levenshtein distance** (the first on ties).
     This is the official rule and it is kept: it is deterministic (not a random pick); it
     does mean that an empty or unrelated extraction still lands on some option;
   * integer: ``str(int(float(x)))``; float: ``str(round(float(x), int(precision)))`` (the hub
     parquet stores ``precision`` as float64 ``1.0``/``2.0``; the official code's ``int()`` is
     what makes ``round`` accept it); list: ``str(x)``; a failure gives ``None``.

3. **Equality**: the normalised prediction ``==`` the ``answer`` string.

Metrics (higher is better, mean over samples):

* ``mathvista_acc_rule`` - steps 1-3 with rules only: an answer the rules cannot extract is
  wrong (no judge needed);
* ``mathvista_parse_rate`` - 1 when step 1 extracted a non-empty answer;
* ``mathvista_rule_decision`` - the judge cascade's rule: 1/0 as ``mathvista_acc_rule`` when
  step 1 extracted, ``None`` when it could not (so ``judge_when: unparsed`` asks the LLM);
* ``mathvista_acc_extracted`` - steps 2-3 on a text taken as the extraction: the judge's
  ``score_with`` (the LLM's extracted answer), also right for rule-extracted answers since
  normalising a response equals normalising its rule extraction (see the tests).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.text import levenshtein

_PAREN_LETTER = re.compile(r"\(([a-zA-Z])\)")


def _field(doc: Mapping[str, Any] | None, name: str) -> Any:
    if doc is None or name not in doc:
        raise SampleError(
            f"MathVista scoring needs the document's {name!r} column (pid {(doc or {}).get('pid')!r}); "
            "use the AI4Math/MathVista schema"
        )
    return doc[name]


def _choices(doc: Mapping[str, Any]) -> list[str]:
    return [str(c) for c in (doc.get("choices") or [])]


def rule_extract(response: str, doc: Mapping[str, Any]) -> str | None:
    """Step 1: the official rule extraction, or None where the official code asks the LLM."""
    question_type = _field(doc, "question_type")
    answer_type = _field(doc, "answer_type")
    if response == "":
        return ""
    if question_type == "multi_choice" and response in _choices(doc):
        return response
    if answer_type == "integer":
        try:
            return str(int(response))
        except ValueError:
            pass
    if answer_type == "float":
        try:
            return str(float(response))
        except ValueError:
            pass
    return None


def closest_choice(text: str, choices: Sequence[str]) -> str:
    """The choice with the smallest edit distance to ``text`` (the first one on ties)."""
    distances = [levenshtein(text, choice) for choice in choices]
    return choices[distances.index(min(distances))]


def normalize_extracted_answer(extraction: Any, doc: Mapping[str, Any]) -> str | None:
    """Step 2: the official normalisation of an extraction by question/answer type (see module doc)."""
    question_type = _field(doc, "question_type")
    answer_type = _field(doc, "answer_type")
    if question_type == "multi_choice":
        choices = _choices(doc)
        if not choices:
            raise SampleError(f"MathVista pid {doc.get('pid')!r} is multi_choice but has no choices")
        text = extraction.strip() if isinstance(extraction, str) else str(extraction)
        letters = _PAREN_LETTER.findall(text)
        if letters:
            text = letters[0].upper()
        option_letters = [chr(ord("A") + i) for i in range(len(choices))]
        if text in option_letters:
            return choices[option_letters.index(text)]
        return closest_choice(text, choices)
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            return str(round(float(extraction), int(_field(doc, "precision"))))
    except (TypeError, ValueError, OverflowError):
        return None
    if answer_type == "list":
        return str(extraction)
    return extraction if isinstance(extraction, str) else None


def is_correct(prediction: str | None, answer: Any) -> bool:
    """Step 3: string equality of the normalised prediction and the answer."""
    return prediction is not None and prediction == answer


def _answer(reference: Any, doc: Mapping[str, Any]) -> str:
    answer = reference if reference not in (None, "") else doc.get("answer")
    if not isinstance(answer, str) or answer == "":
        raise SampleError(
            f"MathVista pid {doc.get('pid')!r} has no answer (the test split withholds them: run mathvista_test, "
            "which writes a submission file instead of scores)"
        )
    return answer


def _text(prediction: Any) -> str:
    return "" if prediction is None else str(prediction)


@register_metric("mathvista_acc_rule")
def mathvista_acc_rule(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MathVista accuracy with the official rules only: an answer the rules cannot extract is wrong."""
    doc = doc or {}
    extraction = rule_extract(_text(prediction), doc)
    if extraction is None:
        return 0.0
    return float(is_correct(normalize_extracted_answer(extraction, doc), _answer(reference, doc)))


@register_metric("mathvista_rule_decision")
def mathvista_rule_decision(
    prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any
) -> float | None:
    """The judge cascade's rule: 1/0 when the official rules extract an answer, None when the LLM must."""
    doc = doc or {}
    extraction = rule_extract(_text(prediction), doc)
    if extraction is None:
        return None
    return float(is_correct(normalize_extracted_answer(extraction, doc), _answer(reference, doc)))


@register_metric("mathvista_acc_extracted")
def mathvista_acc_extracted(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """Official normalisation + equality of a text taken as the extraction (the judge's ``score_with``)."""
    doc = doc or {}
    return float(is_correct(normalize_extracted_answer(_text(prediction), doc), _answer(reference, doc)))


@register_metric("mathvista_parse_rate")
def mathvista_parse_rate(
    prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **_: Any
) -> float:
    """1.0 when the official rules extract a non-empty answer without the LLM (mean = parse rate)."""
    extraction = rule_extract(_text(prediction), doc or {})
    return float(bool(extraction))
