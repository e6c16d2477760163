"""NExT-QA multiple choice: lmms-eval's letter rule and the official accuracy, reimplemented.

**Reading a response** (:func:`parse_nextqa_letter`): the rule of lmms-eval's ``nextqa`` task
(``EvolvingLMMs-Lab/lmms-eval`` @ 75571cf, ``lmms_eval/tasks/nextqa/utils.py``,
``parse_multi_choice_response``, itself adapted from MMMU's parser). The five options are
``A``-``E`` (``a0``-``a4``, each stripped). In order:

1. the characters ``, . ! ? ; : '`` are stripped from both ends of the response, one after the
   other in that order (whitespace is not stripped), and the text is padded with one space on
   each side;
2. candidates: the letters written in brackets, ``(C)``;
3. if none: the letters followed by a space, ``C `` (no space needed BEFORE the letter, so the
   article of "A man ..." reads as option A and "THE END" as option E - quirks kept);
4. if none: the letters followed by a dot, ``C.``;
5. if none and the padded text has more than 5 whitespace-separated words: the options whose
   (stripped) text occurs in it, case-insensitively;
6. one candidate is the answer; several: the one whose marker occurs LAST - for bracketed
   letters the last ``(X)``, for the letters of steps 3-4 the last `` X `` (space on both sides;
   none found on either side counts as -1, and a tie goes to the first candidate in A-E order),
   for option texts the last occurrence of the text;
7. no candidate: lmms-eval picks a RANDOM letter. Here the answer is ``None``: counted wrong and
   reported by ``nextqa_mc_parse_rate`` (no random fallback).

**Accuracy** (official, ``doc-doc/NExT-QA`` @ 6b92588 ``eval_mc.py``): a question is right when
the predicted option equals ``answer`` (an index 0-4 into ``a0``-``a4``); accuracy is correct /
ALL questions, overall and per question type, where type ``TP`` (temporal previous) counts as
``TN`` ("Bef&Aft"); the three groups C (causal), T (temporal), D (descriptive) are the first
letter of the type. lmms-eval's ``exact_match`` is the same mean over all questions (with its
random pick for unparsed responses).

Metrics (mean over samples, higher is better):

* ``nextqa_mc_acc`` - the rule above, unparsed = wrong;
* ``nextqa_mc_parse_rate`` - 1 when steps 1-6 found a letter;
* ``nextqa_mc_acc_lenient`` (not official) - the response read by
  :func:`lmms_eval.metrics.extract.extract_choice` with the five option texts (it reads
  ``<answer>B</answer>``, ``\\boxed{B}``, "The answer is B" and leaves the article "A" alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import extract_choice
from lmms_eval.metrics.mmmu import parse_multi_choice

LETTERS = "ABCDE"
OPTION_COLUMNS: tuple[str, ...] = ("a0", "a1", "a2", "a3", "a4")

TYPE_NAMES: dict[str, str] = {
    "CW": "Why",
    "CH": "How",
    "TN": "Bef&Aft",
    "TC": "When",
    "DC": "Cnt",
    "DL": "Loc",
    "DO": "Other",
}
"""The official question types and the column names ``eval_mc.py`` prints for them."""
GROUP_NAMES: dict[str, str] = {"C": "causal", "T": "temporal", "D": "descriptive"}
"""The three groups: the first letter of a type (``Acc_C``, ``Acc_T``, ``Acc_D`` in ``eval_mc.py``)."""


def official_type(raw: Any) -> str:
    """The official type of a row's ``type``: ``TP`` counts as ``TN``, the others as they are."""
    code = str(raw).strip()
    return "TN" if code == "TP" else code


def options_of(doc: Mapping[str, Any]) -> list[str]:
    """The five option texts ``a0``-``a4`` of a row, stripped (as lmms-eval reads them)."""
    missing = [c for c in OPTION_COLUMNS if c not in doc]
    if missing:
        raise SampleError(f"NExT-QA row lacks option column(s) {', '.join(missing)}; use the lmms-lab/NExTQA MC schema")
    return [str(doc[c]).strip() for c in OPTION_COLUMNS]


def gold_letter(reference: Any) -> str:
    """The answer letter of a reference: a letter ``A``-``E`` or an index 0-4."""
    if isinstance(reference, int) and not isinstance(reference, bool) and 0 <= reference < len(LETTERS):
        return LETTERS[reference]
    text = str(reference).strip()
    if len(text) == 1 and text in LETTERS:
        return text
    if text.isdigit() and int(text) < len(LETTERS):
        return LETTERS[int(text)]
    raise SampleError(f"NExT-QA reference {reference!r} is neither a letter A-E nor an index 0-4")


def parse_nextqa_letter(response: Any, options: Sequence[str]) -> str | None:
    """Steps 1-7 of the module docstring: the option letter, or None where lmms-eval would guess
    (MMMU's parser in its loose form, :func:`lmms_eval.metrics.mmmu.parse_multi_choice`)."""
    return parse_multi_choice(response, options, loose=True)


def _options(doc: Mapping[str, Any] | None, choices: Sequence[Any] | None) -> list[str]:
    if choices:
        return [str(c).strip() for c in choices]
    if doc is None:
        raise SampleError("nextqa metrics need the row (its a0-a4 options)")
    return options_of(doc)


@register_metric("nextqa_mc_acc")
def nextqa_mc_acc(
    prediction: Any,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 when lmms-eval's letter rule reads the answer option; unparsed counts wrong (official denominator)."""
    return float(parse_nextqa_letter(prediction, _options(doc, choices)) == gold_letter(reference))


@register_metric("nextqa_mc_parse_rate")
def nextqa_mc_parse_rate(
    prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **kwargs: Any
) -> float:
    """1.0 when lmms-eval's letter rule finds an option (no random pick)."""
    return float(parse_nextqa_letter(prediction, _options(doc, kwargs.get("choices"))) is not None)


@register_metric("nextqa_mc_acc_lenient")
def nextqa_mc_acc_lenient(
    prediction: Any,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """Not official: the option read by the shared ``extract_choice`` (answer tags, boxed, statements)."""
    options = _options(doc, choices)
    return float(extract_choice(str(prediction or ""), options, LETTERS) == gold_letter(reference))
