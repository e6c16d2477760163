"""PerceptionTest multiple-choice video QA: the answer-letter rule behind the published numbers and
the official top-1 accuracy.

The benchmark's own metric (google-deepmind/perception_test README, "Metrics": "Multiple-Choice
Video QA: Top-1 Accuracy") scores an option index per question: correct / number of questions.
A model's text becomes an option by the rule lmms-eval's ``perceptiontest_val_mc`` applies (the
harness LLaVA-Video reports with; EvolvingLMMs-Lab/lmms-eval @ 75571cf
``lmms_eval/tasks/perceptiontest/val/utils.py``), reimplemented in
:func:`extract_perceptiontest_letter`, in order:

1. strip the response;
2. the first capital A, B, C or D standing as a word of its own (regex word boundaries on both
   sides: "B.", "(C)" and "C:" count; the B of "Based" does not; the article "A" of "A person ..."
   does - quirk kept);
3. none: unparsed.

The letter maps to option index A=0, B=1, C=2, D=3 and is right when it equals ``answer_id``. The
questions have three options, so "D" is parsed but never right. An unparsed response is WRONG
and stays in the denominator (accuracy = correct / all questions), as both the official top-1
accuracy and lmms-eval count it.

``perceptiontest_acc`` is that rule (the default). ``perceptiontest_parse_rate`` is the share of
responses in which the rule found a letter. ``perceptiontest_acc_lenient`` (NOT official) reads the
option with the shared :func:`lmms_eval.metrics.extract.extract_choice` over the row's option
texts instead (the last ``<answer>`` tag first, the article "A" ignored, an option named by its
text counts); unparsed is wrong there too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import extract_choice
from lmms_eval.metrics.extract import first_standalone_letter as extract_perceptiontest_letter


def _options(doc: Mapping[str, Any] | None, choices: Sequence[Any] | None) -> list[str] | None:
    if choices:
        return [str(c) for c in choices]
    options = (doc or {}).get("options")
    return [str(o) for o in options] if options else None


@register_metric("perceptiontest_acc")
def perceptiontest_acc(prediction: Any, reference: Any, **_: Any) -> float:
    """1.0 when the rule's letter is the answer letter; unparsed is 0.0 (kept in the mean)."""
    return float(extract_perceptiontest_letter(prediction) == str(reference).strip())


@register_metric("perceptiontest_parse_rate")
def perceptiontest_parse_rate(prediction: Any, reference: Any = None, **_: Any) -> float:
    """1.0 when the rule finds a letter A-D in the response."""
    return float(extract_perceptiontest_letter(prediction) is not None)


@register_metric("perceptiontest_acc_lenient")
def perceptiontest_acc_lenient(
    prediction: Any,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """NOT official: 1.0 when the shared extractor, over the row's options, names the answer letter."""
    return float(extract_choice(str(prediction or ""), _options(doc, choices)) == str(reference).strip())
