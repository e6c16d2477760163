"""V* Bench (penghao-wu/vstar): parsing the ``text`` cell and letter accuracy.

The copy users load (``lmms-lab/vstar-bench``, split ``test``, 191 rows) stores each question
as one ``text`` cell: the question, one ``(A) option`` line per option, then the instruction
"Answer with the option's letter from the given choices directly." (:func:`split_vstar_text`
takes it apart). ``label`` is the correct letter.

Two protocols:

* **Generative** (what later papers report, e.g. MGPO's 76.4 = 146/191): ``vstar_acc`` reads
  the option letter with the shared deterministic extractor
  :func:`lmms_eval.metrics.extract.extract_choice`, given the option texts. In order: the last
  ``<answer>`` tag, the last ``\\boxed{}``, the last answer statement ("Answer: B", "the
  answer is C"), a reply that is a letter or starts with "(B)"/"B.", a reply naming exactly one
  option's text, exactly one bracketed letter, exactly one standalone capital letter. A letter
  inside a word never counts, so "Based on the image, the answer is C." is C (lmms-eval 0.7
  read the "B" of "Based": its ``extract_answer_letter`` tries ``^([A-D])`` first). A reply
  that names no option (or two) is unparsed and wrong; ``vstar_parse_rate`` is the share
  parsed. No random fallback.
* **Likelihood** (the official protocol of ``vstar_bench_eval.py``, penghao-wu/vstar @
  7539bcc, ``multiple_choices_inference``): each option text is scored as the assistant's reply
  to the bare question; the option with the lowest mean token cross-entropy is chosen. The
  harness returns that option's letter; ``vstar_choice_acc`` is 1 when it equals ``label``.
  (The official script reads per-image JSON files where the correct option is always first
  and checks ``argmin == 0``; the hub copy reorders options and gives the letter, which is the
  same test.)

Accuracy is the mean over samples (micro over the 191 items, as the official script's
overall ``np.mean(all_acc)``); per-category numbers come from the task's ``breakdown``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import LETTERS, extract_choice

VSTAR_INSTRUCTION = "Answer with the option's letter from the given choices directly."
"""The instruction every ``text`` cell of ``lmms-lab/vstar-bench`` ends with."""

_OPTION_LINE = re.compile(r"\(([A-Z])\)\s?(.*)")


def _describe(doc: Mapping[str, Any] | None) -> str:
    if not doc:
        return "V* item"
    return f"V* item question_id={doc.get('question_id')!r}"


def split_vstar_text(text: str, doc: Mapping[str, Any] | None = None) -> tuple[str, list[str]]:
    """``(question, option texts)`` of a V* ``text`` cell.

    The cell is ``question\\n(A) opt\\n(B) opt...[\\n<instruction>]``: the trailing
    instruction line (when present) is dropped, the option lines are the ``(X) text`` lines
    after the question, lettered A, B, ... in order. A cell in any other shape is that
    sample's :class:`SampleError`.
    """
    lines = str(text).rstrip("\n").split("\n")
    if lines and lines[-1].strip() == VSTAR_INSTRUCTION:
        lines = lines[:-1]
    first = next((i for i, line in enumerate(lines) if _OPTION_LINE.fullmatch(line.strip())), None)
    if first is None or first == 0:
        raise SampleError(
            f"{_describe(doc)}: text {str(text)[:80]!r} has no question followed by '(A) ...' option lines; "
            "expected the lmms-lab/vstar-bench layout"
        )
    options: list[str] = []
    for line in lines[first:]:
        match = _OPTION_LINE.fullmatch(line.strip())
        if match is None or match.group(1) != LETTERS[len(options)]:
            raise SampleError(
                f"{_describe(doc)}: line {line!r} is not option ({LETTERS[len(options)]}); "
                "expected consecutive '(A) ...', '(B) ...' lines after the question"
            )
        options.append(match.group(2).strip())
    question = "\n".join(lines[:first]).strip()
    return question, options


def gold_vstar_letter(reference: Any, n_options: int, doc: Mapping[str, Any] | None = None) -> str:
    """The ``label`` letter, upper-cased; a label outside the options is a :class:`SampleError`."""
    gold = str(reference or "").strip().upper()
    if len(gold) != 1 or gold not in LETTERS[:n_options]:
        raise SampleError(
            f"{_describe(doc)}: label {reference!r} is not one of the {n_options} option letters "
            f"{LETTERS[:n_options]}; check doc_to_target (label)"
        )
    return gold


def _options(doc: Mapping[str, Any] | None, choices: Sequence[Any] | None) -> list[str]:
    if choices:
        return [str(c) for c in choices]
    if doc and "text" in doc:
        return split_vstar_text(doc["text"], doc)[1]
    raise SampleError(f"{_describe(doc)}: no options (set doc_to_choice, or pass the doc with its text)")


@register_metric("vstar_acc")
def vstar_acc(
    prediction: str,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 if the option the shared extractor reads from the reply is the label; unparsed is 0."""
    options = _options(doc, choices)
    gold = gold_vstar_letter(reference, len(options), doc)
    return float(extract_choice(prediction, options) == gold)


@register_metric("vstar_parse_rate")
def vstar_parse_rate(
    prediction: str,
    reference: Any = None,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 if the reply names exactly one option (letter or text), so the mean is the parse rate."""
    return float(extract_choice(prediction, _options(doc, choices)) is not None)


@register_metric("vstar_choice_acc")
def vstar_choice_acc(
    prediction: str,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """Likelihood protocol: 1.0 if the chosen option's letter (the response) equals the label."""
    options = _options(doc, choices)
    gold = gold_vstar_letter(reference, len(options), doc)
    return float(str(prediction or "").strip().upper() == gold)
