"""RealWorldQA prompt: the ``question`` cell as stored (it already holds the options and, for
most rows, the answer instruction), with ``pre_prompt``/``post_prompt`` around it.

``{pre_prompt}{question stripped}{post_prompt}``; both empty by default (lmms-eval's default).
A non-empty ``post_prompt`` (the ``reasoning`` variant) replaces the stored instruction: the
sentence "Please answer directly with only the letter of the correct option and nothing else."
is removed from the question first, as lmms-eval's ``realworldqa_doc_to_text`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LETTER_INSTRUCTION = "Please answer directly with only the letter of the correct option and nothing else."


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}{post_prompt}`` (the stored instruction dropped when a post_prompt is set)."""
    kwargs = lmms_eval_specific_kwargs or {}
    question = str(doc["question"]).strip()
    post = kwargs.get("post_prompt") or ""
    if post:
        question = question.replace(LETTER_INSTRUCTION, "").rstrip()
    return f"{kwargs.get('pre_prompt', '')}{question}{post}"
