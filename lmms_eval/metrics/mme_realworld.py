"""MME-RealWorld's official answer extraction and accuracy (yfzhang114/MME-RealWorld).

Source: ``evaluation/eval_your_results.py`` @ 11af66f (``extract_characters_regex`` and the
scoring loop). :func:`extract_mme_realworld_letter` is our own implementation of that rule,
step by step:

1. Strip the reply.
2. Delete every occurrence of each answer prefix, in this order: "The best answer is",
   "The correct answer is", "The answer is", "The answer", "The best option isThe correct
   option is", "Best answer:Best option:". (The last two are what the script's list holds:
   a missing comma makes Python join "The best option is" with "The correct option is", and
   "Best answer:" with "Best option:", so those four prefixes are never removed on their own.)
3. If the rest has more than 10 whitespace-separated words and no capital A-E: unparsed.
4. The first capital A, B, C, D or E anywhere in the rest is the answer (note: also inside a
   word, so "Based on ..." reads as B; that is the official rule, kept as is).
5. Otherwise the first option (in order) whose lower-cased text contains the lower-cased rest
   gives its letter (the letter in the option's "(X)" prefix); otherwise unparsed.

One deliberate difference: a reply that is empty (or only whitespace) after step 2 is
unparsed. The script's step 5 then returns option A's letter, because the empty string is a
substring of every option; that is a fixed guess, and this harness never guesses.

A sample is right when the extracted letter equals ``answer`` (the script compares
``Ground truth == extracted``). Unparsed = wrong; ``mme_realworld_parse_rate`` is the share
parsed. ``mme_realworld_acc_lenient`` reads the letter with the shared
:func:`lmms_eval.metrics.extract.extract_choice` instead (no letter inside a word counts).

Aggregation in the script: accuracy per (Task, Subtask, Category) with every category that
contains "attribute" merged into "<first part>/attribute"; per Subtask and Task the micro
mean; "Overall" the micro mean over all items. MGPO (arXiv 2507.05920) reports as "overall"
the unweighted mean of the 9 Task/Subtask scores. The task YAMLs reproduce all of these with
``breakdown:`` entries (see ``lmms_eval/tasks/mme_realworld/README.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import LETTERS, extract_choice

ANSWER_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option isThe correct option is",  # two prefixes joined by a missing comma
    "Best answer:Best option:",  # two prefixes joined by a missing comma
)
"""Step 2's prefixes exactly as the official list evaluates (see the module docstring)."""

_CAPITAL_LETTER = re.compile(r"[ABCDE]")
_OPTION_PREFIX = re.compile(r"\s*\(([A-Za-z])\)\s*")
OPTIONS_COLUMN = "multi-choice options"


def _describe(doc: Mapping[str, Any] | None) -> str:
    return f"MME-RealWorld item index={doc.get('index')!r}" if doc else "MME-RealWorld item"


def option_letter(option: str, position: int) -> str:
    """The letter of an option: the ``X`` of its ``(X)`` prefix, else its position's letter."""
    match = _OPTION_PREFIX.match(option)
    return match.group(1).upper() if match else LETTERS[position]


def option_text(option: str) -> str:
    """An option without its ``(X)`` prefix."""
    return _OPTION_PREFIX.sub("", option, count=1).strip()


def extract_mme_realworld_letter(reply: str, options: Sequence[str]) -> str | None:
    """The official extraction of the answer letter (module docstring, steps 1-5); None = unparsed."""
    rest = str(reply or "").strip()
    for prefix in ANSWER_PREFIXES:
        rest = rest.replace(prefix, "")
    if not rest.strip():
        return None  # deliberate difference: the script would read option A here
    letter = _CAPITAL_LETTER.search(rest)
    if letter is not None:
        return letter.group(0)
    if len(rest.split()) > 10:
        return None
    needle = rest.lower()
    for position, option in enumerate(options):
        if needle in str(option).lower():
            return option_letter(str(option), position)
    return None


def options_of(doc: Mapping[str, Any] | None, choices: Sequence[Any] | None = None) -> list[str]:
    """The options of a row (``multi-choice options``; ``choices`` from the task when given)."""
    raw = choices if choices else (doc or {}).get(OPTIONS_COLUMN)
    if not isinstance(raw, (list, tuple)) or not raw or not all(isinstance(o, str) for o in raw):
        raise SampleError(
            f"{_describe(doc)}: {OPTIONS_COLUMN!r} is {raw!r}, not a non-empty list of option strings "
            "like ['(A) ...', '(B) ...']"
        )
    return list(raw)


def gold_letter(reference: Any, doc: Mapping[str, Any] | None = None) -> str:
    """The ``answer`` letter (A-E); anything else is that sample's :class:`SampleError`."""
    gold = str(reference or "").strip().upper()
    if len(gold) != 1 or gold not in "ABCDE":
        raise SampleError(f"{_describe(doc)}: answer {reference!r} is not a letter A-E; check doc_to_target (answer)")
    return gold


@register_metric("mme_realworld_acc")
def mme_realworld_acc(
    prediction: str,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 if the officially extracted letter equals the answer letter; unparsed is 0."""
    gold = gold_letter(reference, doc)
    return float(extract_mme_realworld_letter(prediction, options_of(doc, choices)) == gold)


@register_metric("mme_realworld_parse_rate")
def mme_realworld_parse_rate(
    prediction: str,
    reference: Any = None,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 if the official extraction found a letter, so the mean is the parse rate."""
    return float(extract_mme_realworld_letter(prediction, options_of(doc, choices)) is not None)


@register_metric("mme_realworld_acc_lenient")
def mme_realworld_acc_lenient(
    prediction: str,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 if the shared extractor (no letter inside a word) reads the answer letter; unparsed is 0."""
    gold = gold_letter(reference, doc)
    texts = [option_text(o) for o in options_of(doc, choices)]
    return float(extract_choice(prediction, texts) == gold)
