"""MMStar (``Lin-Chen/MMStar``, config and split ``val``, 1,500 questions): letter accuracy.

**Official rule** (``mmstar_acc``): ``MMStar_eval`` of the benchmark's own repository,
``MMStar-Benchmark/MMStar`` @ ``88f243a``, ``eval/vlmeval/evaluate/mmstar.py``, rule-only (no
LLM anywhere in that script). For one response and the ``answer`` letter:

1. both are lower-cased, stripped, and their newlines replaced by spaces (in that order);
2. right when the answer equals the prediction's first character; or the prediction starts
   with ``(`` and the answer equals its second character; or it starts with ``option `` and
   the answer equals its 8th character; or it starts with ``the answer is `` and the answer
   equals its 15th character;
3. an empty prediction (an index error in the official ``try``) is wrong.

Quirks kept: only the START of the reply is read, so "Based on the image ..." counts as B and
"A cat sits ..." as A; "Answer: B", "**B**" and ``<answer>B</answer>`` are wrong. Per
``l2_category`` the score is correct / count; per ``category`` the official code divides by a
hard-coded 250 and the final score by 1500 (the sizes of the full set, where this equals the
mean over samples; on a subset the harness divides by the actual count).

**VLMEvalKit's rule** (``mmstar_acc_vlmevalkit``): MMStar on the OpenCompass leaderboard runs
through VLMEvalKit's ``ImageMCQDataset.evaluate`` (open-compass/VLMEvalKit @ ``e8e78f0``,
``vlmeval/dataset/utils/multiple_choice.py`` ``extract_answer_from_item``,
``vlmeval/utils/matching_util.py`` ``can_infer``). Its rule part, reimplemented here:

1. ``can_infer_option``: a reply containing one of four refusal phrases is ``Z``; the
   characters ``.()[],:;!*#{}`` become spaces and the reply is split on whitespace; when
   exactly one option letter occurs as a token and that token (its first occurrence) is among
   the last 4 tokens, that letter; when no option letter occurs and ``Z`` does, ``Z``; else
   the first ``(correct )answer is X`` (``X`` in A-D, asterisks allowed, any case) naming an
   option letter;
2. else ``can_infer_text`` (reply at most twice the options' total length): the one option
   whose lower-cased text occurs in the lower-cased reply;
3. else VLMEvalKit asks an LLM judge (``gpt-4o-mini`` by default in ``run.py``; 3 tries, then
   a **random** letter). Here there is no judge: unmatched = wrong, as VLMEvalKit's
   ``--judge exact_matching`` (which answers ``Z``).

The option texts are read from the question's ``Options: A: ..., B: ...`` part (VLMEvalKit
reads them from its TSV's ``A``-``D`` columns; that TSV was not read here).

**Lenient** (``mmstar_acc_lenient``): the shared :func:`lmms_eval.metrics.extract.extract_choice`.
``mmstar_parse_rate``: 1 when the character the official rule compares is an option letter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import LETTERS, extract_choice

_PREFIXES = (("(", 1), ("option ", 7), ("the answer is ", 14))
_OPTION_MARK = re.compile(r"(?:^|,\s*)([A-Z]):\s")


def _describe(doc: Mapping[str, Any] | None) -> str:
    return f"MMStar item index={doc.get('index')!r}" if doc else "MMStar item"


# ---------------------------------------------------------------- the official rule


def _clean(text: str) -> str:
    return text.lower().strip().replace("\n", " ")


def official_correct(prediction: str, answer: str) -> bool:
    """Steps 1-3 of ``MMStar_eval`` for one reply and its answer."""
    gold, predict = _clean(answer), _clean(prediction)
    if not predict:
        return False
    if gold == predict[0]:
        return True
    for prefix, at in _PREFIXES:
        if predict.startswith(prefix) and len(predict) > at and gold == predict[at]:
            return True
    return False


def official_read(prediction: str) -> str | None:
    """The character the official rule compares with a one-letter answer (upper-cased), or None
    for an empty reply: after ``(``, ``option `` or ``the answer is ``, else the first one."""
    predict = _clean(prediction)
    if not predict:
        return None
    for prefix, at in _PREFIXES:
        if predict.startswith(prefix) and len(predict) > at:
            return predict[at].upper()
    return predict[0].upper()


# ---------------------------------------------------------------- options of a question


def options_of(question: str) -> dict[str, str]:
    """``{letter: text}`` from the last ``Options: A: ..., B: ...`` of a question (consecutive
    letters from A; ``{}`` when the question has none)."""
    head = question.rfind("Options:")
    if head < 0:
        return {}
    tail = question[head + len("Options:") :].strip()
    marks: list[re.Match[str]] = []
    for match in _OPTION_MARK.finditer(tail):
        if match.group(1) == LETTERS[len(marks)]:
            marks.append(match)
    out: dict[str, str] = {}
    for i, match in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(tail)
        out[match.group(1)] = tail[match.end() : end].strip()
    return out


# ---------------------------------------------------------------- VLMEvalKit's can_infer

_REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
_VERBOSE_ANSWER = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")
_SPACED = str.maketrans({c: " " for c in ".()[],:;!*#{}"})


def can_infer_option(answer: str, choices: Mapping[str, str]) -> str | None:
    """VLMEvalKit ``can_infer_option`` (VERBOSE off): a letter, ``"Z"`` or None."""
    if "Failed to obtain answer via API" in answer:
        return None
    if any(refusal in answer for refusal in _REFUSALS):
        return "Z"
    splits = [token.strip() for token in answer.translate(_SPACED).split()]
    count = sum(1 for letter in choices if letter in splits)
    if count == 1:
        for letter in choices:
            if letter in splits and splits.index(letter) > len(splits) - 5:
                return letter
    elif count == 0 and "Z" in splits:
        return "Z"
    match = _VERBOSE_ANSWER.search(answer or "")
    if match and match.group(1).upper() in choices:
        return match.group(1).upper()
    return None


def can_infer_text(answer: str, choices: Mapping[str, str]) -> str | None:
    """VLMEvalKit ``can_infer_text``: the only option whose text is in the reply (case ignored)."""
    answer = answer.lower()
    if len(answer) > 2 * sum(len(str(v)) for v in choices.values()):
        return None
    found = [letter for letter, text in choices.items() if str(text).lower() in answer]
    return found[0] if len(found) == 1 else None


def can_infer(answer: Any, choices: Mapping[str, str]) -> str | None:
    """VLMEvalKit ``can_infer``: the option rule, then the text rule."""
    text = str(answer)
    return can_infer_option(text, choices) or can_infer_text(text, choices)


# ---------------------------------------------------------------- metrics


def _text(prediction: Any) -> str:
    return "" if prediction is None else str(prediction)


def _answer(reference: Any, doc: Mapping[str, Any] | None) -> str:
    value = (doc or {}).get("answer") if reference is None else reference
    if value is None or not str(value).strip():
        raise SampleError(f"{_describe(doc)}: no answer; use the Lin-Chen/MMStar val split")
    return str(value)


def _options(doc: Mapping[str, Any] | None) -> dict[str, str]:
    return options_of(str((doc or {}).get("question", "")))


@register_metric("mmstar_acc")
def mmstar_acc(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMStar accuracy, the official ``MMStar_eval`` rule (the reply's start is read)."""
    return float(official_correct(_text(prediction), _answer(reference, doc)))


@register_metric("mmstar_acc_vlmevalkit")
def mmstar_acc_vlmevalkit(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMStar accuracy, VLMEvalKit's ``can_infer`` without its LLM judge (unmatched = wrong)."""
    letter = can_infer(_text(prediction), _options(doc))
    return float(letter is not None and letter == _answer(reference, doc).strip())


@register_metric("mmstar_acc_lenient")
def mmstar_acc_lenient(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMStar accuracy with the letter read by the shared ``extract_choice``."""
    options = list(_options(doc).values()) or None
    return float(extract_choice(_text(prediction), options) == _answer(reference, doc).strip().upper())


@register_metric("mmstar_parse_rate")
def mmstar_parse_rate(prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """1.0 when the character the official rule compares is one of the question's option letters."""
    letters = "".join(_options(doc)) or "ABCD"
    read = official_read(_text(prediction))
    return float(read is not None and read in letters)
