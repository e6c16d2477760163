"""Multiple-choice accuracy and parse rate, on the shared :func:`extract_choice`.

The reference may be the answer letter ("B"), the option index (1) or the option text
("banana", with ``choices`` from the task's ``doc_to_choice``); see :func:`gold_letter`.
An answer that names no option scores 0 in ``mcq_accuracy`` and 0 in ``mcq_parse_rate``:
there is no random fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import LETTERS, extract_choice, gold_letter


def _gold(reference: Any, choices: Sequence[Any] | None, letters: str) -> str:
    gold = gold_letter(reference, choices, letters)
    if gold is None:
        n = len(choices) if choices else len(letters)
        raise SampleError(
            f"mcq reference {reference!r} is neither one of the {n} option letters nor an option's text; "
            "make doc_to_target give the answer letter, index or option text."
        )
    return gold


@register_metric("mcq_accuracy")
def mcq_accuracy(
    prediction: str, reference: Any, choices: Sequence[Any] | None = None, letters: str = LETTERS, **_: Any
) -> float:
    """1.0 if the option extracted from the answer is the reference option; unparsed answers score 0."""
    gold = _gold(reference, choices, letters)
    return float(extract_choice(prediction, choices, letters) == gold)


@register_metric("mcq_parse_rate")
def mcq_parse_rate(
    prediction: str, reference: Any = None, choices: Sequence[Any] | None = None, letters: str = LETTERS, **_: Any
) -> float:
    """1.0 if an option could be extracted from the answer, so its mean is the parse rate."""
    return float(extract_choice(prediction, choices, letters) is not None)
