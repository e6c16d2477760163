"""MATH-Vision: the official prompt. Scoring lives in :mod:`lmms_eval.metrics.mathvision`.

Prompt of ``mathllm/MATH-V`` @ ``a1f5cc3`` (``models/GPT4V.py`` ``process_example_mergedimg``,
also ``geninput``): the question, then, for a multiple-choice item whose options are not just
the letters ``A``-``E``, one ``(A) option`` line per option. (Items whose options are
``["A", ..., "E"]`` draw the options in the image; the official code leaves the lines out.)
The official instruction ("Please solve the problem and put your answer in one "\\boxed{}"...")
is the task's ``post_prompt``, after the question, so the ``reasoning`` prompt variant
replaces it; the official code puts it before the question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LETTERS = "ABCDE"


def options_block(options: list[str]) -> str:
    """``(A) x`` lines for the options, or "" when there are none or they are only the letters."""
    if not options or "".join(options) == LETTERS[: len(options)]:
        return ""
    return "\n".join(f"({LETTERS[i]}) {option}" for i, option in enumerate(options))


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + ``\\n(A) ...`` option lines + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    block = options_block([str(o) for o in (doc.get("options") or [])])
    body = f"{doc['question']}\n{block}" if block else str(doc["question"])
    return f"{kwargs.get('pre_prompt', '')}{body}{kwargs.get('post_prompt', '')}"
