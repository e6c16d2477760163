"""MATH-Vision's official answer extraction and matching (``MathLLMs/MathVision``).

Rule of ``mathllm/MATH-V`` at commit ``a1f5cc3`` (``evaluation/evaluate.py`` ``evaluate``,
``evaluation/utils.py`` ``find_math_answer``, ``_strip_string``, ``is_equal``, ``eval_tuple``;
unchanged since ``1d36118``), reimplemented here. For one response, in order:

1. ``answer = response.strip()``.
2. Letter endings: for ``c`` in ``ABCDE`` (first match wins), an answer that ends with
   ``" c."`` or ``" (c)."``, or starts with ``"c\\n"``, ``"(c)\\n"`` or ``"(c) c\\n"``, becomes ``c``.
3. The text after the last ``"is "``, right-stripped of ``"."``, replaces the answer when it
   parses as a float.
4. Without ``oxed{`` in it: for each flag ``the final answer is``, ``the answer is``, ``the
   correct answer is``, ``the answer should be`` (then the same flag with ``the`` -> ``The``),
   the answer becomes the text after the flag's last occurrence, stripped; when the flag was
   present, only its first line up to the first ``". "`` is kept. With several ``oxed{``:
   only the last ``\\boxed{...`` is kept.
5. ``find_math_answer``: lower-case; drop ``{}``; the greedy ``oxed{(.*)}`` content (else the
   whole text), cut at a ``}`` that comes before any ``{``; the part after the last ``=`` and
   after the last ``\\approx``; spaces, ``\\,``, ``\\text``, ``\\mbox``, ``\\left``/``\\right``,
   degree marks, ``m^3``, ``units``, ``km`` removed (``∞`` -> ``\\infty``, ``bmatrix`` ->
   ``pmatrix``); then ``_strip_string`` (MATH-style: ``tfrac``/``dfrac`` -> ``frac``, ``$`` and
   ``\\%`` removed, a leading ``.`` gets a ``0``, ``\\sqrt3`` -> ``\\sqrt{3}``; ``\\frac12`` is
   braced only when the text also holds ``sqrt``, as in the official code; ``0.5`` ->
   ``\\frac{1}{2}``; ``a/b`` of two integers -> ``\\frac{a}{b}``).
6. ``(a)``..``(e)`` and ``{a}``..``{e}`` -> the letter; right-strip ``.``, left-strip ``:``, strip.
7. Correct when ``is_equal(answer, extracted)`` or, for a multiple-choice item,
   ``is_equal(text of the answer option, extracted)``. ``is_equal``: both lower-cased; an empty
   side is wrong; equal after ``strip()`` is right; tuples/lists ``(a,b)`` of two or more
   elements are compared after evaluating each element (rounded to 2 decimals); otherwise both
   are parsed as LaTeX and evaluated, right when they agree after rounding to 2 decimals.

Evaluation follows the official mechanism: the LaTeX is parsed to a sympy expression and its
printed form is evaluated with the ``math`` module's names (no builtins), so ``1/3`` and
``\\frac{1}{3}`` agree and an expression with free symbols never does. One difference:
the official code uses the ``latex2sympy2`` package, which pins ``antlr4`` 4.7 and cannot be
installed beside ``math-verify``; this module uses its maintained fork ``latex2sympy2_extended``,
whose parse of some inputs differs (e.g. ``6/2`` becomes the integer 3, so a tuple element
prints ``3`` where the official prints ``3.0``). The evaluation namespace is the ``math``
module's names, as in the official code (its ``from math import *``), so sympy's ``E`` is unknown there.

Metrics: ``mathvision_acc`` (steps 1-7), ``mathvision_parse_rate`` (steps 2-4 found an explicit
answer: a letter ending, ``is <number>``, a flag or a ``\\boxed{}``, or the candidate is itself a
number or an option letter; our diagnostic, the official code has none).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.metric import register_metric

LETTERS = "ABCDE"
FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
_BOXED = re.compile(r"oxed{(.*)}", flags=re.S)
_MATH_NAMES: dict[str, Any] = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
_MATH_NAMES["__builtins__"] = {}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _letter_ending(answer: str) -> str | None:
    for c in LETTERS:
        if answer.endswith((f" {c}.", f" ({c}).")) or answer.startswith((f"{c}\n", f"({c})\n", f"({c}) {c}\n")):
            return c
    return None


def _after_flag(answer: str, flag: str) -> str:
    rest = answer.split(flag)[-1].strip()
    if flag in answer:
        rest = rest.split("\n")[0].split(". ")[0]
    return rest


def candidate_answer(response: str) -> tuple[str, bool]:
    """Steps 1-4: the text handed to ``find_math_answer``, and whether an explicit marker was found."""
    answer = response.strip()
    marked = False
    letter = _letter_ending(answer)
    if letter is not None:
        answer, marked = letter, True
    tail = answer.split("is ")[-1].rstrip(".")
    if _is_number(tail):
        marked = marked or tail != answer
        answer = tail
    if "oxed{" not in answer:
        for flag in FLAGS:
            for spelling in (flag, flag.replace("the", "The")):
                marked = marked or spelling in answer
                answer = _after_flag(answer, spelling)
    else:
        marked = True
        if answer.count("oxed{") > 1:
            answer = "\\boxed{" + answer.split("oxed{")[-1]
    return answer, marked or _is_number(answer) or (len(answer) == 1 and answer in LETTERS)


def _fix_sqrt(text: str) -> str:
    head, *parts = text.split("\\sqrt")
    out = head
    for part in parts:
        out += "\\sqrt{" + part[0] + "}" + part[1:] if part and part[0] != "{" else "\\sqrt" + part
    return out


def _fix_fracs(text: str) -> str:
    head, *parts = text.split("\\frac")
    out = head
    for part in parts:
        out += "\\frac"
        if part.startswith("{"):
            out += part
            continue
        if len(part) < 2:
            return text
        numerator, denominator, rest = part[0], part[1], part[2:]
        out += "{" + numerator + "}" + ("{" + denominator + "}" + rest if denominator != "{" else denominator + rest)
    return out


def _fix_a_slash_b(text: str) -> str:
    pieces = text.split("/")
    if len(pieces) != 2:
        return text
    try:
        a, b = int(pieces[0]), int(pieces[1])
    except ValueError:
        return text
    return f"\\frac{{{a}}}{{{b}}}" if text == f"{a}/{b}" else text


def strip_string(text: str) -> str:
    """``_strip_string`` of the official ``utils.py`` (MATH-style clean-up, see step 5)."""
    for old, new in (("\n", ""), ("\\!", ""), ("\\\\", "\\"), ("tfrac", "frac"), ("dfrac", "frac")):
        text = text.replace(old, new)
    for old in ("\\left", "\\right", "^{\\circ}", "^\\circ", "\\$", "$"):
        text = text.replace(old, "")
    text = text.split("\\text{ ")[0]
    text = text.replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.")
    if not text:
        return text
    if text[0] == ".":
        text = "0" + text
    if len(text.split("=")) == 2:
        text = text.split("=")[-1]
    if len(text.split("\\approx")) == 2:
        text = text.split("\\approx")[-1]
    if "sqrt" in text:
        text = _fix_sqrt(text)
    text = text.replace(" ", "")
    if "sqrt" in text:
        text = _fix_fracs(text)
    if text == "0.5":
        text = "\\frac{1}{2}"
    return _fix_a_slash_b(text)


_FIND_REPLACEMENTS = (
    (" ", ""),
    ("\\,", ""),
    ("∞", "\\infty"),
    ("+\\infty", "\\infty"),
    ("\\\\", "\\"),
    ("\n", ""),
    ("\\text", ""),
    ("\\mbox", ""),
    ("bmatrix", "pmatrix"),
    ("\\left", ""),
    ("\\right", ""),
    ("^{\\circ}", ""),
    ("^\\circ", ""),
    ("{m}^3", ""),
    ("m^3", ""),
    ("{units}", ""),
    ("units", ""),
    ("{km}", ""),
    ("km", ""),
)


def find_math_answer(text: str) -> str:
    """Step 5: the official ``find_math_answer`` (boxed content, last ``=``, LaTeX clean-up)."""
    text = text.lower().replace("{}", "")
    boxed = _BOXED.findall(text)
    answer = boxed[-1] if boxed else text
    close, open_ = answer.find("}"), answer.find("{")
    if close != -1 and (open_ == -1 or close < open_):
        answer = answer.split("}")[0]
    answer = answer.split("=")[-1].split("\\approx")[-1]
    for old, new in _FIND_REPLACEMENTS:
        answer = answer.replace(old, new)
    return strip_string(answer)


def extract_answer(response: str) -> str:
    """Steps 1-6: the official ``model_answer`` of a response."""
    answer = find_math_answer(candidate_answer(response)[0])
    for c in "abcde":
        answer = answer.replace(f"({c})", c)
    for c in "abcde":
        answer = answer.replace(f"{{{c}}}", c)
    return answer.rstrip(".").lstrip(":").strip()


def _evaluate(latex: str) -> Any:
    """A LaTeX string's value: parsed by latex2sympy, its printed form evaluated with ``math`` names."""
    from latex2sympy2_extended import latex2sympy

    return eval(str(latex2sympy(latex)), _MATH_NAMES)  # noqa: S307 - sympy's printed output, no builtins


def eval_tuple(text: str) -> str:
    """``(a,b,...)`` / ``[a,b,...]`` with each element evaluated and rounded to 2 decimals; else as is."""
    elements = text[1:-1].split(",")
    if len(elements) < 2 or not text or (text[0], text[-1]) not in (("(", ")"), ("[", "]")):
        return text
    try:
        values = [e if "infty" in e or e in ("a", "-a") else str(round(_evaluate(e), 2)) for e in elements]
    except Exception:  # noqa: BLE001 - the official code keeps the text when any element fails
        return text
    return f"{text[0]}{','.join(values)}{text[-1]}"


def is_equal(answer: str, reference: str) -> bool:
    """Step 7: the official ``is_equal`` (string, tuple, then numeric agreement to 2 decimals)."""
    answer, reference = answer.lower(), reference.lower()
    if not answer.replace(" ", "") or not reference.replace(" ", ""):
        return False
    if answer.strip() == reference.strip():
        return True
    answer, reference = eval_tuple(answer), eval_tuple(reference)
    if answer == reference:
        return True
    try:
        return bool(round(_evaluate(reference), 2) == round(_evaluate(answer), 2))
    except Exception:  # noqa: BLE001 - anything that does not evaluate is not equal (official)
        return False


def option_text(answer: str, options: Sequence[str], item: Any = None) -> str:
    """The text of the answer option of a multiple-choice item ('' for free-form items)."""
    if not options:
        return ""
    index = ord(answer.strip()[:1] or "?") - ord("A")
    if not 0 <= index < len(options):
        raise SampleError(f"MathVision item {item!r}: answer {answer!r} is not a letter of its {len(options)} options")
    return str(options[index])


def score(response: str, answer: str, options: Sequence[str], item: Any = None) -> bool:
    """Steps 1-7 for one response."""
    extracted = extract_answer(response)
    return is_equal(answer, extracted) or is_equal(option_text(answer, options, item), extracted)


def _reference(reference: Any, doc: Mapping[str, Any]) -> str:
    answer = reference if reference not in (None, "") else doc.get("answer")
    if answer in (None, ""):
        raise SampleError(f"MathVision item {doc.get('id')!r} has no answer")
    return str(answer)


@register_metric("mathvision_acc")
def mathvision_acc(prediction: Any, reference: Any, doc: Mapping[str, Any] | None = None, **_: Any) -> float:
    """MATH-Vision accuracy with the official extraction and ``is_equal`` (answer letter or option text)."""
    doc = doc or {}
    response = "" if prediction is None else str(prediction)
    return float(score(response, _reference(reference, doc), list(doc.get("options") or []), doc.get("id")))


@register_metric("mathvision_parse_rate")
def mathvision_parse_rate(prediction: Any, reference: Any = None, **_: Any) -> float:
    """1.0 when the response marks its answer (letter ending, ``is N``, answer flag or ``\\boxed{}``)."""
    return float(candidate_answer("" if prediction is None else str(prediction))[1])
