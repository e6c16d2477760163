"""Math answer verification with Hugging Face's ``math-verify``.

The final answer is taken from the last ``<answer>...</answer>``, else the last
``\\boxed{...}``, else the whole output (where math-verify finds the answer itself). Answer
and reference are parsed by ``math_verify.parse`` (LaTeX or plain: fractions, roots, units
and ``\\text{}`` stripped, percentages, intervals, sets, equations ``x = 3``) and compared by
``math_verify.verify`` (symbolic and numeric equality).

Timeouts: math-verify guards parsing and comparison with ``signal.alarm``, which works only
in the main thread. Off the main thread these guards are switched off (math-verify's own
advice) instead of failing; scoring in the harness runs in the main thread.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.api.metric import register_metric
from lmms_eval.metrics.extract import answer_tag_content, last_boxed

DEFAULT_TIMEOUT_S = 5
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


def _math_verify() -> Any:
    try:
        import math_verify
    except ImportError as exc:
        raise UsageError(
            "math_verify needs the math-verify package: pip install 'math-verify' (or 'lmms_eval[metrics]')"
        ) from exc
    return math_verify


def _timeout(seconds: int) -> int | None:
    """The timeout to pass to math-verify: ``None`` (off) outside the main thread."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        return None
    return seconds


def final_answer(text: str) -> tuple[str, bool]:
    """(answer text, whether it was delimited): ``<answer>`` content, last ``\\boxed{}``, or all."""
    for inner in (answer_tag_content(text), last_boxed(text)):
        if inner:
            boxed = last_boxed(inner)
            return (boxed if boxed else inner), True
    return str(text), False


def _as_math(text: str) -> str:
    """Wrap a bare expression in ``$...$`` so math-verify reads it as LaTeX."""
    return text if _UNESCAPED_DOLLAR.search(text) or "\\boxed" in text else f"${text}$"


def parse_answer(text: str, delimited: bool = True, timeout_s: int = DEFAULT_TIMEOUT_S) -> list[Any]:
    """math-verify's parse of an answer; a delimited answer is tried as LaTeX first."""
    mv = _math_verify()
    timeout = _timeout(timeout_s)
    parsed = mv.parse(_as_math(text), parsing_timeout=timeout) if delimited else []
    if not parsed:
        parsed = mv.parse(text, parsing_timeout=timeout)
    return parsed


def _plain(text: str) -> str:
    return " ".join(_UNESCAPED_DOLLAR.sub("", str(text)).split()).strip(" .").lower()


def math_equal(prediction: str, reference: str, timeout_s: int = DEFAULT_TIMEOUT_S, extracted: bool = False) -> bool:
    """True if the prediction's final answer equals the reference as mathematics.

    ``extracted``: the prediction already is the answer (a benchmark's own extraction removed the
    ``<answer>``/``\\boxed`` around it), so it is read as LaTeX first, as a delimited answer is
    (a ``\\boxed{}`` left inside still wins); a bare ``B`` is then the symbol ``B``, where
    undelimited text would be read as plain text. A reference math-verify cannot parse (e.g. a
    word) is compared as plain text with the final answer (``$`` signs, case, surrounding spaces
    and a final period ignored).
    """
    if extracted:
        text = str(prediction).strip()
        answer, delimited = last_boxed(text) or text, True
    else:
        answer, delimited = final_answer(str(prediction))
    gold = parse_answer(str(reference), True, timeout_s)
    if not gold:
        return _plain(answer) == _plain(reference)
    pred = parse_answer(answer, delimited, timeout_s)
    if not pred:
        return False
    return bool(_math_verify().verify(gold, pred, timeout_seconds=_timeout(timeout_s)))


@register_metric("math_verify")
def math_verify_metric(prediction: str, reference: Any, timeout_s: int = DEFAULT_TIMEOUT_S, **_: Any) -> float:
    """1.0 if the final answer (<answer>, last \\boxed{}, or the text) equals the reference by math-verify."""
    refs = reference if isinstance(reference, (list, tuple)) else [reference]
    return float(any(math_equal(str(prediction), str(r), int(timeout_s)) for r in refs if r is not None))
