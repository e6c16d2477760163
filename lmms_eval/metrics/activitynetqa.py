"""ActivityNet-QA's official judge scoring (Video-ChatGPT ``quantitative_evaluation/
evaluate_activitynet_qa.py`` @ 659e04b), reimplemented. These metrics read the JUDGE's reply,
never the evaluated model's answer: the task applies them through its ``judge:`` blocks
(``type: extract``, ``extract_reply: whole``), one shared judge call per sample.

The official rule, in order:

1. the judge's reply goes through ``ast.literal_eval``; a reply that does not evaluate (prose, a
   markdown fence around the dict, an empty reply) is NOT scored: the official script writes no
   result for it and asks again in its outer loop. Here it is a judge error of that sample
   (:class:`~lmms_eval.judge.parsing.VerdictError`), counted, never a guessed 0;
2. ``score = int(result['score'])``: ``4.8`` counts 4 (truncated), ``"4"`` counts 4; the score is
   not range-checked (quirk kept). A value that is not a mapping, lacks ``pred`` or ``score``,
   or whose score ``int()`` refuses would crash the official script: a judge error here;
3. ``pred = result['pred']`` lower-cased: ``"yes" in pred`` is a yes, else ``"no" in pred`` is a
   no (so ``"not sure"`` is a no - quirk kept), else neither;
4. accuracy = yes / (yes + no): a verdict that is neither is left out of the denominator;
   average score = sum of scores / all scored replies (neither included).

Per-sample values: :func:`activitynetqa_judge_yes` 1.0 / 0.0 / None (neither, skipped by the
mean, so the mean is yes / (yes + no)); :func:`activitynetqa_judge_score` the integer score;
:func:`activitynetqa_judge_yes_no` 1.0 when the verdict reads as yes or no (the share of the
accuracy's denominator).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from lmms_eval.api.metric import register_metric


def _verdict_error(message: str) -> Exception:
    from lmms_eval.judge.parsing import VerdictError

    return VerdictError(message)


def _excerpt(text: str, n: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 3] + "..."


def parse_judge_reply(reply: Any) -> tuple[str, int]:
    """``(pred, score)`` of a judge reply by the official rule (steps 1-2); raises VerdictError."""
    text = "" if reply is None else str(reply)
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
        raise _verdict_error(
            f"reply is not a Python literal ({type(exc).__name__}), as the official ast.literal_eval "
            f"needs: {_excerpt(text)!r}"
        ) from None
    if not isinstance(value, Mapping) or "pred" not in value or "score" not in value:
        raise _verdict_error(f"reply is not a dict with keys 'pred' and 'score': {_excerpt(text)!r}")
    pred = value["pred"]
    if not isinstance(pred, str):
        raise _verdict_error(f"'pred' is not a string: {pred!r}")
    try:
        score = int(value["score"])
    except (TypeError, ValueError, OverflowError):
        raise _verdict_error(f"'score' is not a number int() accepts: {value['score']!r}") from None
    return pred, score


def verdict(pred: str) -> str | None:
    """Step 3: ``"yes"``, ``"no"`` or None (neither), by substring as the official script does."""
    low = pred.lower()
    if "yes" in low:
        return "yes"
    if "no" in low:
        return "no"
    return None


@register_metric("activitynetqa_judge_yes")
def activitynetqa_judge_yes(prediction: Any, reference: Any = None, **_: Any) -> float | None:
    """ActivityNet-QA judge reply: 1.0 yes, 0.0 no, None neither (mean = official accuracy)."""
    found = verdict(parse_judge_reply(prediction)[0])
    return None if found is None else float(found == "yes")


@register_metric("activitynetqa_judge_score", unit="points")
def activitynetqa_judge_score(prediction: Any, reference: Any = None, **_: Any) -> float:
    """ActivityNet-QA judge reply: int(score) (0-5 asked; mean = official average score)."""
    return float(parse_judge_reply(prediction)[1])


@register_metric("activitynetqa_judge_yes_no")
def activitynetqa_judge_yes_no(prediction: Any, reference: Any = None, **_: Any) -> float:
    """ActivityNet-QA judge reply: 1.0 when its 'pred' reads as yes or no (the accuracy counts it)."""
    return float(verdict(parse_judge_reply(prediction)[0]) is not None)
