"""MMMU's official answer parsing and scoring (``MMMU/MMMU``, ``lmms-lab/MMMU``).

The rule of ``MMMU-Benchmark/MMMU`` at commit ``bb0b95a`` (files ``mmmu/utils/eval_utils.py``:
``parse_multi_choice_response``, ``parse_open_response``, ``extract_numbers``, ``normalize_str``,
``check_is_number``, ``eval_multi_choice``, ``eval_open``; ``mmmu/utils/data_utils.py``:
``get_multi_choice_info``, ``DOMAIN_CAT2SUB_CAT``; ``mmmu/main_eval_only.py``: aggregation),
reimplemented here. For one response to one question, in order:

**Multiple choice** (``question_type == "multiple-choice"``; options ``A``, ``B``, ... in the
order of the ``options`` list):

1. the characters ``, . ! ? ; : '`` are stripped from both ends, one character class after the
   other in that order (whitespace is not stripped), and the text is padded with one space on
   each side;
2. candidates are the letters written in brackets, ``(B)``;
3. if none: the letters standing alone between spaces, `` B ``;
4. if none and the padded text has more than 5 whitespace-separated words: the options whose
   text occurs in it (case-insensitive);
5. one candidate is the answer; several: the one whose marker (``(X)``, `` X `` or the option
   text) occurs **last** in the text (its last occurrence; the first candidate on a tie);
6. no candidate: the official code picks a **random** letter. Here the answer is ``None``:
   counted wrong and not parsed (``mmmu_parse_rate``).

The parsed letter is right when it equals the ``answer`` letter (or one of them, for a list).

**Open** (any other ``question_type``):

1. the response is stripped, then stripped of ``.`` at both ends, and lower-cased;
2. it is split into lines (the official split on ``". "`` before a capital runs after the
   lower-casing, so it never fires);
3. for each line, every cue of ``could be ``, ``so ``, ``is ``, ``thus ``, ``therefore ``,
   ``final ``, ``answer ``, ``result `` (and ``=`` on the last line) that occurs in it gives the
   text after its last occurrence, stripped; the shortest wins (the first on a tie; an empty
   one is replaced by the next cue's); a non-empty winner that is not a lone punctuation mark
   is a key response;
4. no key response: the whole text of step 1 is the only one;
5. predictions are the key responses plus every number found in them (numbers with thousands
   commas ``1,000``, scientific ``1.5e3``, then plain ``-2.5`` / ``.5`` / ``12``);
6. each prediction is normalised: a text that ``float()`` reads after dropping commas becomes
   that number rounded to 2 decimals; another text is lower-cased, and a one-character text
   becomes the two texts ``" x"`` and ``"x "``;
7. the reference (one string or a list) is normalised the same way; the answer is right when a
   number prediction equals a number reference, or a reference text is a substring of a text
   prediction.

Accuracy is the mean over samples (``main_eval_only``'s "Overall" is correct / total over all
subjects; per-subject and per-discipline values are the same mean over their samples).

Metrics (higher is better, mean over samples):

* ``mmmu_acc`` - the rule above;
* ``mmmu_acc_lenient`` - multiple choice read by :func:`lmms_eval.metrics.extract.extract_choice`
  instead (it reads ``Answer:C``, ``**B**``, ``\\boxed{D}``, which the official parser misses,
  and gives no answer where the official rule takes the last of several candidates); open
  questions as ``mmmu_acc``;
* ``mmmu_parse_rate`` - multiple choice: 1 when steps 1-5 found a letter; open: 1 when the
  response is not empty (the official open parser reads any text).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric

DISCIPLINE_SUBJECTS: dict[str, tuple[str, ...]] = {
    "Art and Design": ("Art", "Art_Theory", "Design", "Music"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Health and Medicine": (
        "Basic_Medical_Science",
        "Clinical_Medicine",
        "Diagnostics_and_Laboratory_Medicine",
        "Pharmacy",
        "Public_Health",
    ),
    "Humanities and Social Science": ("History", "Literature", "Sociology", "Psychology"),
    "Tech and Engineering": (
        "Agriculture",
        "Architecture_and_Engineering",
        "Computer_Science",
        "Electronics",
        "Energy_and_Power",
        "Materials",
        "Mechanical_Engineering",
    ),
}
"""The six disciplines and their 30 subjects (``DOMAIN_CAT2SUB_CAT`` of ``data_utils.py``)."""

SUBJECT_DISCIPLINE: dict[str, str] = {s: d for d, subjects in DISCIPLINE_SUBJECTS.items() for s in subjects}

MULTIPLE_CHOICE = "multiple-choice"
_EDGE_MARKS = (",", ".", "!", "?", ";", ":", "'")
_KEY_CUES = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")
_LONE_MARKS = frozenset({":", ",", ".", "!", "?", ";", "'"})

# step 5 of the open rule, the three number shapes in the order the official code collects them
_NUMBER_WITH_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_NUMBER_SCIENTIFIC = re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+")
_NUMBER_PLAIN = re.compile(
    r"""-?(?: \d+\.\d+ | \.\d+ | \d+\b )   # 2.5, .5 or a whole number
        (?![eE][+-]?\d+)                  # not the mantissa of a scientific number
        (?![,\d])                         # nor the head of a comma-grouped number""",
    re.VERBOSE,
)


# ---------------------------------------------------------------- documents


def subject_of(sample_id: str) -> str:
    """The subject of an MMMU id: ``validation_Art_Theory_12`` -> ``Art_Theory`` (as ``main_eval_only``)."""
    parts = str(sample_id).split("_")
    if len(parts) < 3:
        raise SampleError(f"MMMU id {sample_id!r} is not '<split>_<Subject>_<n>'; use the MMMU/MMMU ids")
    return "_".join(parts[1:-1])


def parse_options(doc: Mapping[str, Any]) -> list[str]:
    """The options of a row: ``options`` is a STRING holding a Python list literal on the hub."""
    raw = doc.get("options")
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError) as exc:
            raise SampleError(
                f"MMMU item {doc.get('id')!r}: options {raw!r} is not a Python list literal ({exc}); "
                "use the MMMU/MMMU column as it is"
            ) from None
    if not isinstance(value, (list, tuple)):
        raise SampleError(f"MMMU item {doc.get('id')!r}: options {raw!r} is not a list")
    return [str(option) for option in value]


def parse_reference(answer: Any) -> str | list[str]:
    """The reference answer: a string, or a list where the cell holds a list literal (``"['a', 'b']"``)."""
    if isinstance(answer, (list, tuple)):
        return [str(a) for a in answer]
    text = str(answer)
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
            return [str(v) for v in value]
    return text


def is_multiple_choice(doc: Mapping[str, Any]) -> bool:
    """Whether the row is a multiple-choice question (else open); a row without the column is an error."""
    if "question_type" not in doc:
        raise SampleError(f"MMMU item {doc.get('id')!r} has no question_type; use the MMMU/MMMU schema")
    return doc["question_type"] == MULTIPLE_CHOICE


def option_letters(count: int) -> list[str]:
    """``A``, ``B``, ... one per option (``get_multi_choice_info``)."""
    return [chr(ord("A") + i) for i in range(count)]


# ---------------------------------------------------------------- multiple choice


def parse_multi_choice(response: str, options: Sequence[str], loose: bool = False) -> str | None:
    """Multiple-choice steps 1-6 (see the module docstring): the letter, or None (no random pick).

    ``loose``: the variant lmms-eval's video tasks (NExT-QA) use: step 3 finds a letter followed by
    a space with no space needed before it, then, if none, a letter followed by a dot (the last
    occurrence is still looked up as `` X ``)."""
    letters = option_letters(len(options))
    text = "" if response is None else str(response)
    for mark in _EDGE_MARKS:
        text = text.strip(mark)
    padded = f" {text} "

    markers = {letter: f"({letter})" for letter in letters}
    found = [letter for letter in letters if markers[letter] in padded]
    haystack = padded
    if not found:
        markers = {letter: f" {letter} " for letter in letters}
        for probe in ("{} ", "{}.") if loose else (" {} ",):
            found = [letter for letter in letters if probe.format(letter) in padded]
            if found:
                break
    if not found and len(padded.split()) > 5:
        haystack = padded.lower()
        markers = {letter: option.lower() for letter, option in zip(letters, options)}
        found = [letter for letter in letters if markers[letter] in haystack]
    if not found:
        return None
    last_positions = [haystack.rfind(markers[letter]) for letter in found]
    return found[last_positions.index(max(last_positions))]


def eval_multi_choice(reference: str | Sequence[str], letter: str | None) -> bool:
    """Right when the parsed letter equals the reference (or one of a list of references)."""
    if letter is None:
        return False
    references = [reference] if isinstance(reference, str) else list(reference)
    return letter in references


# ---------------------------------------------------------------- open answers


def _key_responses(response: str) -> list[str]:
    """Open steps 1-4: the tails after the answer cues of each line."""
    text = str(response).strip().strip(".").lower()
    lines = re.split(r"\.\s(?=[A-Z])|\n", text)  # the ". X" branch cannot match lower-case text
    keys: list[str] = []
    for number, line in enumerate(lines):
        cues = _KEY_CUES + (("=",) if number == len(lines) - 1 else ())
        best: str | None = None
        for cue in cues:
            if cue not in line:
                continue
            tail = line.split(cue)[-1].strip()
            if not best or len(tail) < len(best):
                best = tail
        if best and best.strip() not in _LONE_MARKS:
            keys.append(best)
    return keys or [text]


def extract_numbers(text: str) -> list[str]:
    """Open step 5: the numbers of a text as strings (comma-grouped, then scientific, then plain)."""
    return _NUMBER_WITH_COMMAS.findall(text) + _NUMBER_SCIENTIFIC.findall(text) + _NUMBER_PLAIN.findall(text)


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def normalize_value(text: str) -> list[float | str]:
    """Open step 6: a number rounded to 2 decimals, else the lower-cased text (a single
    character becomes ``[" x", "x "]`` so it cannot match inside a word)."""
    text = str(text).strip()
    number = _as_number(text)
    if number is not None:
        return [round(number, 2)]
    text = text.lower()
    return [f" {text}", f"{text} "] if len(text) == 1 else [text]


def parse_open(response: str) -> list[float | str]:
    """Open steps 1-6: the normalised predictions of a response (order not significant)."""
    keys = _key_responses(response)
    candidates = list(keys)
    for key in keys:
        candidates.extend(extract_numbers(key))
    out: list[float | str] = []
    for candidate in candidates:
        for value in normalize_value(candidate):
            if value not in out:
                out.append(value)
    return out


def eval_open(reference: str | Sequence[str], predictions: Sequence[float | str]) -> bool:
    """Open step 7: a number equal to a reference number, or a reference text inside a text prediction."""
    references = [reference] if isinstance(reference, str) else list(reference)
    normalized = [value for ref in references for value in normalize_value(ref)]
    for prediction in predictions:
        if isinstance(prediction, str):
            if any(isinstance(ref, str) and ref in prediction for ref in normalized):
                return True
        elif any(not isinstance(ref, str) and prediction == ref for ref in normalized):
            return True
    return False


# ---------------------------------------------------------------- metrics


def _text(prediction: Any) -> str:
    return "" if prediction is None else str(prediction)


def _doc(doc: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not doc:
        raise SampleError("MMMU scoring needs the document (id, question_type, options, answer)")
    return doc


def _reference(reference: Any, doc: Mapping[str, Any]) -> str | list[str]:
    value = doc.get("answer", reference) if reference is None else reference
    if value is None:
        raise SampleError(f"MMMU item {doc.get('id')!r} has no answer; the test split is prediction-only")
    return parse_reference(value)


def official_prediction(response: str, doc: Mapping[str, Any]) -> str | list[float | str] | None:
    """The official parse of a response: a letter (None when unparsed) or the open predictions."""
    if is_multiple_choice(doc):
        return parse_multi_choice(response, parse_options(doc))
    return parse_open(response)


def is_correct(response: str, reference: Any, doc: Mapping[str, Any]) -> bool:
    """The official verdict on one response."""
    gold = _reference(reference, doc)
    if is_multiple_choice(doc):
        return eval_multi_choice(gold, parse_multi_choice(response, parse_options(doc)))
    return eval_open(gold, parse_open(response))


@register_metric("mmmu_acc")
def mmmu_acc(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMMU accuracy, official parser and comparison; an unparsed multiple-choice answer is wrong."""
    return float(is_correct(_text(prediction), reference, _doc(doc)))


@register_metric("mmmu_acc_lenient")
def mmmu_acc_lenient(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MMMU accuracy with multiple choice read by the shared ``extract_choice`` (open: official)."""
    from lmms_eval.metrics.extract import extract_choice

    doc = _doc(doc)
    if not is_multiple_choice(doc):
        return float(is_correct(_text(prediction), reference, doc))
    letter = extract_choice(_text(prediction), parse_options(doc))
    return float(eval_multi_choice(_reference(reference, doc), letter))


@register_metric("mmmu_parse_rate")
def mmmu_parse_rate(prediction: Any, reference: Any = None, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """1.0 when the official parser reads an answer (multiple choice: a letter; open: any text)."""
    doc = _doc(doc)
    response = _text(prediction)
    if is_multiple_choice(doc):
        return float(parse_multi_choice(response, parse_options(doc)) is not None)
    return float(bool(response.strip()))
