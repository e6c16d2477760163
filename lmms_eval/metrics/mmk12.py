"""MMK12's official answer extraction, and the math-verify rule of the General STEM cascade.

Official rule: MM-Eureka ``eval/mmk12/extract_calculate.py`` (``azaj01/MM-EUREKA`` @
``17132c2``, the qwen-branch copy that has ``eval/mmk12/``; ``build_zh_exam_k12_gpt4_prompt``),
reimplemented here. The answer the judge sees is taken from the model's response, in order:

1. the content of the FIRST ``<answer>...</answer>`` (case-sensitive tags, across lines),
   stripped;
2. else the content of the LAST ``\\boxed{...}`` whose braces balance (nested braces allowed;
   a ``\\boxed{`` that never closes is skipped), stripped;
3. else the whole response, unchanged.

The official script then asks GPT-4o whether that answer matches ``answer`` (the judge
prompt ``lmms_eval/tasks/mmk12/judge_prompt.jinja``) and counts "yes" as correct.

Metrics (mean over samples, higher is better):

* ``mmk12_math_verify`` - the rule stage of the General STEM reward's cascade, usable alone
  without a judge: math-verify equality of the extracted answer and ``answer``, the answer read
  as LaTeX first (``B`` is ``$B$``). The shared ``math_verify`` metric reads an answer that
  carries no ``<answer>``/``\\boxed`` as plain text, where math-verify finds no bare letter,
  so it scores ``B`` against ``B`` as 0; the official extraction has already removed the
  delimiters, hence this variant.

There is no parse rate: step 3 always gives an answer (the whole response), so the official
extraction never fails; an unusable judge reply is a ``judge_error``, counted by the harness.
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.metric import register_metric

_FIRST_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_BOXED_OPEN = "\\boxed{"


def balanced_boxed_contents(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}`` with balanced braces, left to right, not overlapping.

    A ``\\boxed{`` whose braces never balance is skipped and the scan goes on after it, so a
    complete box inside an unclosed one is still found.
    """
    found: list[str] = []
    start = text.find(_BOXED_OPEN)
    while start != -1:
        depth, i = 1, start + len(_BOXED_OPEN)
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            found.append(text[start + len(_BOXED_OPEN) : i - 1])
            start = text.find(_BOXED_OPEN, i)
        else:
            start = text.find(_BOXED_OPEN, start + 1)
    return found


def official_answer(response: Any) -> tuple[str, bool]:
    """(the answer the official script sends to its judge, whether step 1 or 2 found it)."""
    text = str(response)
    tag = _FIRST_ANSWER_TAG.search(text)
    if tag:
        return tag.group(1).strip(), True
    boxes = balanced_boxed_contents(text)
    if boxes:
        return boxes[-1].strip(), True
    return text, False


@register_metric("mmk12_math_verify")
def mmk12_math_verify(prediction: Any, reference: Any, **_: Any) -> float:
    """1.0 when the extracted answer equals ``answer`` by math-verify, read as LaTeX first."""
    from lmms_eval.metrics.maths import math_equal

    return float(math_equal(_text(prediction), _text(reference), extracted=True))


def _text(value: Any) -> str:
    return "" if value is None else str(value)
