"""AI2D (``lmms-lab/ai2d``, test, 3,088 questions): letter accuracy.

AI2D (Kembhavi et al., ECCV 2016) has no official script for generative models. The rule the
published LMM numbers come from is lmms-eval's ``ai2d`` task (EvolvingLMMs-Lab/lmms-eval, the
same at ``d0c1eae`` and at ``75571cf``: ``tasks/ai2d/ai2d.yaml`` + ``utils.py``
``MultiChoiceRegexFilter``, ``api/task.py`` ``process_results``, ``api/metrics.py``
``exact_match_hf_evaluate``), reimplemented here. For one response, in order:

1. if the raw response matches ``^\\s*([A-Z])\\.`` (a capital letter and a dot at its start,
   case-sensitive) it becomes that letter; otherwise it is kept whole (the filter's
   ``regex_pattern`` argument is not used by its ``apply``);
2. the result is stripped of surrounding whitespace (``process_results``);
3. prediction and reference (the option letter ``"ABCD..."[int(answer)]``) are lower-cased and
   every ASCII punctuation character (``string.punctuation``) is removed from both;
4. right when the two strings are equal.

So ``"B"``, ``"(B)"``, ``"b."``, ``"**B**"`` and ``" B. Its leaves"`` count as B (brackets,
dots and asterisks are punctuation); ``"B) leaves"`` (-> ``"b leaves"``), ``"The answer is B."``
and ``"<answer>B</answer>"`` (-> ``"answerbanswer"``) do not. There is no random fallback; the rule has no notion of
"unparsed", so ``ai2d_parse_rate`` reports how often step 3 leaves one of the option letters.

Metrics (mean over samples):

* ``ai2d_acc`` - the rule above (default);
* ``ai2d_acc_lenient`` - the letter read by the shared
  :func:`lmms_eval.metrics.extract.extract_choice` given the option texts (reads "The answer is
  B", ``\\boxed{B}``, ``<answer>B</answer>``, a reply naming one option's text; two options
  named = no answer);
* ``ai2d_parse_rate`` - 1 when the rule's normalised prediction is one of the option letters;
* ``ai2d_choice_acc`` - the likelihood task: the harness's chosen option letter vs the gold
  letter.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import LETTERS, extract_choice

_LEADING_LETTER = re.compile(r"^\s*([A-Z])\.")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _describe(doc: Mapping[str, Any] | None) -> str:
    return f"AI2D item {doc.get('question')!r:.60}" if doc else "AI2D item"


def options_of(doc: Mapping[str, Any] | None, choices: Sequence[Any] | None = None) -> list[str]:
    """The option texts (the ``options`` list of the row, or the task's ``choices``)."""
    if choices:
        return [str(c) for c in choices]
    if doc and isinstance(doc.get("options"), (list, tuple)):
        return [str(o) for o in doc["options"]]
    raise SampleError(f"{_describe(doc)}: no options list; use the lmms-lab/ai2d row (options: list of strings)")


def gold_letter(doc: Mapping[str, Any], n_options: int | None = None) -> str:
    """The letter of the correct option: ``answer`` is the option INDEX as a string (``"2"`` -> C)."""
    count = len(options_of(doc)) if n_options is None else n_options
    raw = doc.get("answer")
    try:
        index = int(str(raw).strip())
    except ValueError:
        raise SampleError(f"{_describe(doc)}: answer {raw!r} is not an option index") from None
    if not 0 <= index < count:
        raise SampleError(f"{_describe(doc)}: answer index {index} outside the {count} options")
    return LETTERS[index]


def _reference(reference: Any, doc: Mapping[str, Any] | None, n_options: int) -> str:
    letter = "" if reference is None else str(reference).strip()
    if len(letter) == 1 and letter in LETTERS[:n_options]:
        return letter
    if doc is None:
        raise SampleError(f"AI2D reference {reference!r} is not an option letter and no document was given")
    return gold_letter(doc, n_options)


def lmms_eval_filter(response: str) -> str:
    """Steps 1-2: the leading ``X.`` letter, else the whole response; then stripped."""
    match = _LEADING_LETTER.match(response)
    return (match.group(1) if match else response).strip()


def normalise(text: str) -> str:
    """Step 3: lower-cased, ASCII punctuation removed (``exact_match`` with ``ignore_case`` and
    ``ignore_punctuation``)."""
    return text.lower().translate(_PUNCTUATION)


def is_correct(response: str, gold: str) -> bool:
    """Steps 1-4 for one response and the gold letter."""
    return normalise(lmms_eval_filter(response)) == normalise(gold)


def _text(prediction: Any) -> str:
    return "" if prediction is None else str(prediction)


@register_metric("ai2d_acc")
def ai2d_acc(
    prediction: Any,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """AI2D accuracy, lmms-eval's rule (leading ``X.`` or the whole reply, case and punctuation ignored)."""
    options = options_of(doc, choices)
    return float(is_correct(_text(prediction), _reference(reference, doc, len(options))))


@register_metric("ai2d_acc_lenient")
def ai2d_acc_lenient(
    prediction: Any,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """AI2D accuracy with the letter read by the shared ``extract_choice``."""
    options = options_of(doc, choices)
    return float(extract_choice(_text(prediction), options) == _reference(reference, doc, len(options)))


@register_metric("ai2d_parse_rate")
def ai2d_parse_rate(
    prediction: Any,
    reference: Any = None,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """1.0 when the default rule's normalised prediction is one of the option letters."""
    options = options_of(doc, choices)
    read = normalise(lmms_eval_filter(_text(prediction)))
    return float(read.upper() in LETTERS[: len(options)] and len(read) == 1)


@register_metric("ai2d_choice_acc")
def ai2d_choice_acc(
    prediction: Any,
    reference: Any,
    doc: Mapping[str, Any] | None = None,
    choices: Sequence[Any] | None = None,
    **_: Any,
) -> float:
    """Likelihood task: 1.0 when the chosen option's letter (the response) is the gold letter."""
    options = options_of(doc, choices)
    return float(_text(prediction).strip() == _reference(reference, doc, len(options)))
