"""RealWorldQA (xAI; ``lmms-lab/RealWorldQA`` test / ``xai-org/RealworldQA`` test_0412, 765
questions): exact-match accuracy on a letter or a short answer.

xAI released the data only, with no evaluation script. The rule published LMM numbers come from
is lmms-eval's ``realworldqa`` task as it stood from April 2024 (``ea063fcf``) to April 2026
(EvolvingLMMs-Lab/lmms-eval @ ``d0c1eae``: ``tasks/realworldqa/realworldqa.yaml`` filter list
``NumberWordsToDigitsFilter`` then ``MultiChoiceRegexFilter``, metric ``exact_match`` with
``ignore_case`` and ``ignore_punctuation``; ``api/task.py`` ``process_results`` strips), here
reimplemented. For one response and the ``answer`` cell (a letter for the multiple-choice rows,
a word or number for the others), in order:

1. a response that is, lower-cased, one of ``zero`` ... ``ten`` becomes that digit (the whole
   response only: ``"Three."`` stays);
2. the options are read from the question: every ``X. text`` (``\\b([A-Z])\\.\\s+([^\\n]*)``),
   lettered A, B, C, ... in the order found (not by the letter written); the response loses
   every character that is neither a word character nor whitespace, and is stripped;
3. the options' texts are searched in that cleaned response (one regex alternation, the
   leftmost match; the first option on a tie): a hit becomes its letter, so ``"No"`` in
   ``"Not sure"`` is the option "No"; no hit keeps the cleaned response;
4. the result is stripped; result and answer are lower-cased and lose ``string.punctuation``;
5. right when they are equal.

The instruction that most questions end with ("Please answer directly with only the letter of
the correct option and nothing else.") stays in the prompt. No random fallback.

Metrics (mean over samples):

* ``realworldqa_acc`` - the rule above (default);
* ``realworldqa_acc_lenient`` - multiple-choice rows (answer a single option letter): the letter
  read by the shared :func:`lmms_eval.metrics.extract.extract_choice` given the option texts;
  other rows: as ``realworldqa_acc``;
* ``realworldqa_parse_rate`` - multiple-choice rows: 1 when the rule's result is an option
  letter; other rows: 1 when the result is not empty.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import LETTERS, extract_choice
from lmms_eval.metrics.normalize import VQA_NUMBER_WORDS

NUMBER_WORDS: dict[str, str] = {word: digit for word, digit in VQA_NUMBER_WORDS.items() if word != "none"}
"""zero .. ten -> "0" .. "10" (the same words as the VQA script's table, without "none")."""
_OPTION = re.compile(r"\b([A-Z])\.\s+([^\n]*)")
_NOT_WORD = re.compile(r"[^\w\s]")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _describe(doc: Mapping[str, Any] | None) -> str:
    return f"RealWorldQA item {str((doc or {}).get('question', ''))[:60]!r}"


def options_of(question: str) -> list[str]:
    """Step 2: the option texts of a question, in the order found (lettered A, B, ...)."""
    return [text.strip() for _, text in _OPTION.findall(question)]


def lmms_eval_filter(response: str, question: str) -> str:
    """Steps 1-3 and the strip of step 4: what lmms-eval compares."""
    text = NUMBER_WORDS.get(response.lower(), response)
    options = options_of(question)
    letter_of: dict[str, str] = {}
    for i, option in enumerate(options):
        letter_of[option] = LETTERS[i]  # a repeated text keeps its later letter, as the dict does
    cleaned = _NOT_WORD.sub("", text).strip()
    match = re.search("|".join(re.escape(option) for option in options), cleaned)
    if match and match.group() in letter_of:
        return letter_of[match.group()].strip()
    return cleaned.strip()


def normalise(text: str) -> str:
    """Step 4: lower-cased, ASCII punctuation removed."""
    return text.lower().translate(_PUNCTUATION)


def is_correct(response: str, answer: str, question: str) -> bool:
    """Steps 1-5."""
    return normalise(lmms_eval_filter(response, question)) == normalise(answer)


def _text(prediction: Any) -> str:
    return "" if prediction is None else str(prediction)


def _answer(reference: Any, doc: Mapping[str, Any] | None) -> str:
    value = (doc or {}).get("answer") if reference is None else reference
    if value is None:
        raise SampleError(f"{_describe(doc)}: no answer")
    return str(value)


def _question(doc: Mapping[str, Any] | None) -> str:
    if not doc or "question" not in doc:
        raise SampleError("RealWorldQA scoring needs the document (question, answer)")
    return str(doc["question"])


def _is_letter_row(answer: str, options: list[str]) -> bool:
    gold = answer.strip()
    return len(gold) == 1 and gold.upper() in LETTERS[: max(len(options), 1)] and bool(options)


@register_metric("realworldqa_acc")
def realworldqa_acc(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """RealWorldQA accuracy, lmms-eval's rule (option text -> letter, then case/punctuation-free equality)."""
    return float(is_correct(_text(prediction), _answer(reference, doc), _question(doc)))


@register_metric("realworldqa_acc_lenient")
def realworldqa_acc_lenient(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """RealWorldQA accuracy with letters read by the shared ``extract_choice`` (short answers: the rule)."""
    question, answer = _question(doc), _answer(reference, doc)
    options = options_of(question)
    if not _is_letter_row(answer, options):
        return float(is_correct(_text(prediction), answer, question))
    return float(extract_choice(_text(prediction), options) == answer.strip().upper())


@register_metric("realworldqa_parse_rate")
def realworldqa_parse_rate(
    prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **_: Any
) -> float:
    """1.0 when the rule's result is an option letter (letter rows) or not empty (short-answer rows)."""
    question, answer = _question(doc), _answer(reference, doc)
    options = options_of(question)
    read = normalise(lmms_eval_filter(_text(prediction), question))
    if _is_letter_row(answer, options):
        return float(len(read) == 1 and read.upper() in LETTERS[: len(options)])
    return float(bool(read))
