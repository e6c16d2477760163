"""MME: the prompt as lmms-eval 0.7 builds it, and the Perception/Cognition label of a subtask.

Every question of the hub copy (``lmms-lab/MME``) ends with MME's own instruction
``" Please answer yes or no."``. As lmms-eval 0.7's ``mme_doc_to_text`` does, the question is
stripped, and a non-empty ``pre_prompt`` or ``post_prompt`` REPLACES that instruction: the
instruction is removed and the prompt kwargs put around the question. The default
``post_prompt`` is lmms-eval's ``"\\nAnswer the question using a single word or phrase."``; with
both kwargs empty (the ``official`` prompt variant, also the ``search`` variants) the question
is sent as stored, MME's own prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.metrics.mme import MME_COGNITION, MME_PERCEPTION

MME_INSTRUCTION = " Please answer yes or no."


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}{post_prompt}``, the question without its yes/no instruction when
    either kwarg is non-empty, else the stored question (stripped)."""
    kwargs = lmms_eval_specific_kwargs or {}
    pre = str(kwargs.get("pre_prompt") or "")
    post = str(kwargs.get("post_prompt") or "")
    question = str(doc["question"]).strip()
    if pre or post:
        question = question.replace(MME_INSTRUCTION, "")
    return f"{pre}{question}{post}"


def task_type(doc: Mapping[str, Any]) -> str | None:
    """Breakdown ``task_type``: ``Perception`` or ``Cognition`` (``eval_type_dict`` of calculation.py);
    None for a category in neither."""
    category = str(doc.get("category", ""))
    if category in MME_PERCEPTION:
        return "Perception"
    if category in MME_COGNITION:
        return "Cognition"
    return None
