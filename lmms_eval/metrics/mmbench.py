"""MMBench's official answer matching and CircularEval (``lmms-lab/MMBench``, configs ``en``/``cn``).

The rule of ``open-compass/VLMEvalKit`` at commit ``e8e78f05f3080fe28154f2130321f17951c3be94``
(files ``vlmeval/utils/matching_util.py``: ``can_infer_option``, ``can_infer_text``, ``can_infer``;
``vlmeval/dataset/utils/multiple_choice.py``: ``build_choices``, ``prefetch_circular_group``,
``eval_circular_group``, ``extract_answer_from_item``, ``mcq_circular_eval``, ``report_acc``),
reimplemented here.

**Matching one response** (``can_infer``) against the options present (columns ``A``..``D`` that
are not empty; ``build_choices``), in order:

1. a response containing ``Failed to obtain answer via API`` is unmatched;
2. a response containing one of the refusal phrases (``Sorry, I can't help with images of people
   yet.``, ``I can't process this file.``, ``I'm sorry, but without the image provided``,
   ``Cannot determine the answer``) is ``Z`` (no option: wrong);
3. each of ``.()[],:;!*#{}`` is replaced by a space and the text split on whitespace;
4. if exactly one option letter occurs as a token: that letter, provided its FIRST occurrence
   is among the last four tokens (else go on to step 6);
5. if no option letter occurs and the token ``Z`` does: ``Z``;
6. the first match of ``(?i)(?:correct\\s+)?answer\\s+is\\s+\\**([ABCD])\\**`` (case-insensitive,
   no word boundary: "the answer is apple" gives ``A``) whose letter, upper-cased, is an option;
7. otherwise the option TEXT: if the lower-cased response is at most twice as long as all
   option texts together, the option whose lower-cased text occurs in it, when exactly one
   does (``can_infer_text``);
8. otherwise unmatched.

(VLMEvalKit skips step 4's letter when the environment variable ``VERBOSE`` is set, a token ``A``
occurs and there are more than three tokens; that debugging switch is not reproduced.)

**CircularEval.** The hub data already holds every rotation of a question as its own row (the
official TSVs do too): the row of rotation ``i`` has ``index = main index + i * 1e6``, and the
group of a row is ``int(index) % 1e6``; the main row is the one whose index equals its group.
A question (group) scores 1 only when every rotation is answered with its own answer letter:

* a matched letter (or ``Z``) that differs from the row's ``answer`` fails the group;
* with the judge (``mmbench_acc``), an unmatched response is sent to the judge with VLMEvalKit's
  ``build_prompt`` (``build_prompt_cn`` for a question with a CJK character) and the judge's reply
  is matched by the same rule. A reply that matches nothing is a judge error (VLMEvalKit asks up
  to three times, then picks a RANDOM letter; here no letter is ever guessed);
* without the judge (``mmbench_acc_rule``, VLMEvalKit's ``exact_matching`` mode), an unmatched
  response fails its group.

Only groups whose main row was scored count (``mcq_circular_eval`` scores the main rows).
A group in which a rotation has no value (a judge error, or ``--limit`` cutting the group) is
left out when every scored rotation is right (it cannot be decided), and is 0 as soon as one
scored rotation is wrong (as the official evaluation stops at the first failure). The number of
rotations a group has is the ``mmbench_rotations`` column the task adds (rows of the split that
share the group), else the rows scored. Accuracy is hits / groups (``report_acc``'s ``Overall``),
per ``category`` and ``L2-category`` through the task's breakdowns.

Metrics:

* ``mmbench_acc_rule`` - CircularEval with rule matching only (unmatched = wrong);
* ``mmbench_judge_match`` - the per-row value of the judge block ``mmbench_acc``: the letter the
  rule reads from the judge's reply (or from the response, where the rule decided); unmatched
  raises (a judge error);
* ``mmbench_rule_decision`` - the judge block's cascade: 1/0 for a matched letter right/wrong,
  None for an unmatched response (only those go to the judge);
* ``mmbench_parse_rate`` - share of rows whose response the rule matched (a letter or ``Z``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric

OPTION_LETTERS = "ABCD"
GROUP_OFFSET = 1_000_000
"""``int(index) % 1e6`` is a row's group (``mcq_circular_eval``'s ``g_index``)."""
ROTATIONS_COLUMN = "mmbench_rotations"
"""Added by the task's ``process_docs``: how many rows of the split share the row's group."""

_API_FAILURE = "Failed to obtain answer via API"
_REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
_SEPARATORS = ".()[],:;!*#{}"
_VERBOSE_ANSWER = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")
_CJK = re.compile("[\u4e00-\u9fff]")


# ---------------------------------------------------------------- documents


def option_present(value: Any) -> bool:
    """An option cell that holds an option: not null/NaN, not empty, not the text ``nan`` (a TSV's
    empty cell is NaN when pandas reads it; the hub copies store missing options as null or "nan")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    text = str(value)
    return text != "" and text != "nan"


def choices_of(doc: Mapping[str, Any]) -> dict[str, str]:
    """``{letter: option text}`` of the options present, in letter order (``build_choices``)."""
    return {letter: str(doc[letter]) for letter in OPTION_LETTERS if option_present(doc.get(letter))}


def group_of(doc: Mapping[str, Any]) -> tuple[int, bool]:
    """``(group, is_main_row)`` of a row: ``int(index) % 1e6`` and whether the index is the group."""
    raw = doc.get("index")
    try:
        index = int(str(raw).strip())
    except (TypeError, ValueError):
        raise SampleError(f"MMBench row index {raw!r} is not an integer; use the lmms-lab/MMBench rows") from None
    return index % GROUP_OFFSET, index < GROUP_OFFSET


def is_chinese(text: str) -> bool:
    """``cn_string``: the text has a character in U+4E00..U+9FFF (the judge prompt is then Chinese)."""
    return bool(_CJK.search(text))


# ---------------------------------------------------------------- matching


def can_infer_option(answer: str, choices: Mapping[str, str]) -> str | None:
    """Steps 1-6 of the module docstring: an option letter, ``Z``, or None."""
    if _API_FAILURE in answer:
        return None
    if any(refusal in answer for refusal in _REFUSALS):
        return "Z"
    text = answer
    for mark in _SEPARATORS:
        text = text.replace(mark, " ")
    tokens = [token.strip() for token in text.split()]
    present = [letter for letter in choices if letter in tokens]
    if len(present) == 1:
        letter = present[0]
        if tokens.index(letter) > len(tokens) - 5:
            return letter
    elif not present and "Z" in tokens:
        return "Z"
    match = _VERBOSE_ANSWER.search(answer)
    if match and match.group(1).upper() in choices:
        return match.group(1).upper()
    return None


def can_infer_text(answer: str, choices: Mapping[str, str]) -> str | None:
    """Step 7: the one option whose lower-cased text occurs in the lower-cased answer."""
    lowered = answer.lower()
    if len(lowered) > 2 * sum(len(text) for text in choices.values()):
        return None
    found = [letter for letter, text in choices.items() if text.lower() in lowered]
    return found[0] if len(found) == 1 else None


def can_infer(answer: Any, choices: Mapping[str, str]) -> str | None:
    """The official rule (``can_infer``): an option letter, ``Z``, or None when nothing matches."""
    text = str(answer)
    return can_infer_option(text, choices) or can_infer_text(text, choices)


def match_letter(prediction: Any, doc: Mapping[str, Any] | None) -> str | None:
    """:func:`can_infer` of a prediction against the document's options."""
    if not doc:
        raise SampleError("MMBench metrics need the document (its option columns A-D)")
    return can_infer("" if prediction is None else prediction, choices_of(doc))


def _gold(reference: Any) -> str:
    gold = "" if reference is None else str(reference).strip()
    if len(gold) != 1 or gold not in OPTION_LETTERS:
        raise SampleError(f"MMBench answer {reference!r} is not one of A-D; the dev split's rows carry the letter")
    return gold


# ---------------------------------------------------------------- CircularEval


def row_value(letter: str | None, reference: Any, doc: Mapping[str, Any]) -> dict[str, Any]:
    """The per-row value CircularEval folds: group, main row, rotations in the split, right or not."""
    group, main = group_of(doc)
    rotations = doc.get(ROTATIONS_COLUMN)
    return {
        "group": group,
        "main": main,
        "rotations": int(rotations) if rotations is not None else None,
        "correct": int(letter is not None and letter == _gold(reference)),
    }


def circular_accuracy(values: Sequence[Mapping[str, Any]]) -> float:
    """Hits / decided groups over the groups whose main row is among ``values`` (module docstring)."""
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for value in values:
        groups.setdefault(int(value["group"]), []).append(value)
    hits = decided = 0
    for rows in groups.values():
        if not any(row["main"] for row in rows):
            continue
        if any(not row["correct"] for row in rows):
            decided += 1
            continue
        expected = max((int(row["rotations"]) for row in rows if row.get("rotations") is not None), default=len(rows))
        if len(rows) >= expected:
            decided += 1
            hits += 1
    return hits / decided if decided else float("nan")


@register_metric("mmbench_acc_rule", aggregate=circular_accuracy)
def mmbench_acc_rule(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """MMBench CircularEval with the official rule matching only (exact_matching: unmatched is wrong)."""
    letter = match_letter(prediction, doc)
    assert doc is not None
    return row_value(letter, reference, doc)


@register_metric("mmbench_judge_match", aggregate=circular_accuracy)
def mmbench_judge_match(
    prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any
) -> dict[str, Any]:
    """MMBench CircularEval row value of a judge reply matched by the official rule (none: judge error)."""
    from lmms_eval.judge.parsing import VerdictError

    letter = match_letter(prediction, doc)
    if letter is None:
        raise VerdictError(f"the official rule reads no option letter (nor Z) from the judge's reply {prediction!r}")
    assert doc is not None
    return row_value(letter, reference, doc)


@register_metric("mmbench_rule_decision")
def mmbench_rule_decision(
    prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any
) -> float | None:
    """MMBench cascade rule: 1/0 for a matched letter right/wrong, None when unmatched (to the judge)."""
    letter = match_letter(prediction, doc)
    if letter is None:
        return None
    return float(letter == _gold(reference))


@register_metric("mmbench_parse_rate")
def mmbench_parse_rate(prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMBench: 1 when the official rule matches the response (an option letter or Z), else 0."""
    return float(match_letter(prediction, doc) is not None)
