"""Video-MME's official scoring (``thanku-all/parse_answer`` @ afd52cf ``eval_your_results.py``,
linked from BradyFU/Video-MME's README), reimplemented.

:func:`extract_videomme_letter`, in order:

1. strip the response;
2. delete every occurrence of each answer prefix, in this order: "The best answer is", "The correct
   answer is", "The answer is", "The answer", "The best option isThe correct option is", "Best
   answer:Best option:", "Answer:", "Option:", "The correct answer", "The correct option" (two
   pairs are glued together by missing commas in the official list, so "The best option is" alone
   and "Best answer:" alone are NOT removed: quirk kept);
3. more than 10 whitespace-separated words and no capital A-D anywhere: unparsed;
4. else the first capital A, B, C or D anywhere in the text (inside a word too: "Based on ..."
   reads B - quirk kept); none: unparsed.

Accuracy is correct / ANSWERED: the official script counts only parsed responses in the
denominator. ``videomme_acc`` returns None for an unparsed response so the mean skips it (per
duration, domain and task type as well); ``videomme_acc_strict`` (not official) counts it wrong;
``videomme_parse_rate`` reports the share parsed.
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.metric import register_metric

PREFIXES: tuple[str, ...] = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option isThe correct option is",
    "Best answer:Best option:",
    "Answer:",
    "Option:",
    "The correct answer",
    "The correct option",
)
_LETTER = re.compile(r"[ABCD]")


def extract_videomme_letter(response: Any) -> str | None:
    """The official letter of a response, or None when the official rule finds none."""
    text = ("" if response is None else str(response)).strip()
    for prefix in PREFIXES:
        text = text.replace(prefix, "")
    if len(text.split()) > 10 and not _LETTER.search(text):
        return None
    found = _LETTER.search(text)
    return found.group(0) if found else None


@register_metric("videomme_acc")
def videomme_acc(prediction: Any, reference: Any, **_: Any) -> float | None:
    """1.0 / 0.0 for a parsed response; None (left out of the mean, as officially) when unparsed."""
    letter = extract_videomme_letter(prediction)
    return None if letter is None else float(letter == str(reference).strip())


@register_metric("videomme_acc_strict")
def videomme_acc_strict(prediction: Any, reference: Any, **_: Any) -> float:
    """Not official: like ``videomme_acc`` but an unparsed response counts as wrong."""
    return float(extract_videomme_letter(prediction) == str(reference).strip())


@register_metric("videomme_parse_rate")
def videomme_parse_rate(prediction: Any, reference: Any = None, **_: Any) -> float:
    """1.0 when the official extraction finds a letter."""
    return float(extract_videomme_letter(prediction) is not None)
