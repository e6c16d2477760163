"""EgoSchema's answer parsing and scoring, reimplemented.

EgoSchema itself (``egoschema/EgoSchema`` @ 505c787, README "Benchmarking on EgoSchema") defines
no text parsing: a prediction is the option INDEX 0-4 per question uid, and the score is the share
of questions whose index equals the answer (``subset_answers.json`` for the 500 public answers,
the validation server / Kaggle for all 5,031). The rule that turns a model's text into that index
is lmms-eval's (``EvolvingLMMs-Lab/lmms-eval`` @ 75571cf ``lmms_eval/tasks/egoschema/utils.py``
``parse_multi_choice_response`` + ``egoschema_process_results_generation``, unchanged since
2024-08 ``1d3f34ab``), the rule behind the published LLaVA-Video numbers. In order:

1. the characters ``, . ! ? ; : '`` are stripped from both ends of the response, one after the
   other in that order (whitespace is not stripped), and the text is padded with one space on
   each side;
2. candidates, ALL collected (no "only if none yet" guard - quirk kept), in this order: every
   letter A-E written ``(X)``; every letter followed by a space ``X `` (no space needed BEFORE it,
   so "USA " reads A and an option restated as "C is cooking." reads C - quirk kept); every
   letter followed by a dot ``X.``;
3. none, and the padded text has more than 5 whitespace-separated words: the options whose
   stored text, stripped - WITH its "A. " prefix - occurs in the lower-cased response
   (case-insensitive);
4. one candidate: its letter; several: the candidate whose marker's LAST occurrence comes
   EARLIEST in the text (``argmin`` of ``rfind``; the first listed on a tie) - for option texts
   the search is over the lower-cased text;
5. none: lmms-eval picks a RANDOM letter. Here the response is unparsed (None): it counts wrong
   and is reported by ``egoschema_parse_rate``;
6. the letter becomes its index (A=0 ... E=4); right when it equals the ``answer`` index (the
   hub stores it as a string, "3").

Accuracy is correct / ALL questions (lmms-eval's ``egoschema_aggregate_score`` and the official
server divide by every question), so an unparsed response counts wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric

LETTERS = "ABCDE"
_EDGE_MARKS = (",", ".", "!", "?", ";", ":", "'")


def options_of(doc: Mapping[str, Any] | None) -> list[str]:
    """The row's ``option`` list ("A. ..." strings as stored); an error when there is none."""
    options = (doc or {}).get("option")
    if not isinstance(options, (list, tuple)) or not options:
        raise SampleError("EgoSchema row has no 'option' list; use the lmms-lab/egoschema columns as they are")
    return [str(option) for option in options]


def parse_egoschema_letter(response: Any, options: Sequence[str]) -> str | None:
    """Steps 1-5 of the module docstring: the option letter, or None (no random pick)."""
    letters = LETTERS[: len(options)]
    text = "" if response is None else str(response)
    for mark in _EDGE_MARKS:
        text = text.strip(mark)
    padded = f" {text} "

    markers: list[tuple[str, str]] = []  # (letter, marker), in the official collection order
    for shape in ("({})", "{} ", "{}."):
        markers += [(letter, shape.format(letter)) for letter in letters if shape.format(letter) in padded]
    haystack = padded
    if not markers and len(padded.split()) > 5:
        haystack = padded.lower()
        markers = [
            (letter, option.strip().lower())
            for letter, option in zip(letters, options)
            if option.strip().lower() in haystack
        ]
    if not markers:
        return None
    last = [haystack.rfind(marker) for _, marker in markers]
    return markers[last.index(min(last))][0]


def egoschema_index(response: Any, options: Sequence[str]) -> int | None:
    """The option index 0-4 the rule reads from ``response``, or None when unparsed."""
    letter = parse_egoschema_letter(response, options)
    return None if letter is None else LETTERS.index(letter)


def gold_index(reference: Any) -> int:
    """The ``answer`` cell as an index: "3" -> 3; anything else is this sample's error."""
    text = "" if reference is None else str(reference).strip()
    if not text.isdigit() or int(text) >= len(LETTERS):
        raise SampleError(
            f"EgoSchema answer {reference!r} is not an option index 0-4 (only the Subset config has answers)"
        )
    return int(text)


@register_metric("egoschema_acc")
def egoschema_acc(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """1.0 when the parsed index equals the answer; an unparsed response counts 0 (all in the mean)."""
    gold = gold_index(reference)
    return float(egoschema_index(prediction, options_of(doc)) == gold)


@register_metric("egoschema_parse_rate")
def egoschema_parse_rate(
    prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **_: Any
) -> float:
    """1.0 when the rule finds an option (lmms-eval would pick a random one otherwise)."""
    return float(egoschema_index(prediction, options_of(doc)) is not None)
