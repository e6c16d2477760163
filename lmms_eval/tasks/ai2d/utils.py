"""AI2D prompts: lmms-eval's multiple-choice prompt (the one its published numbers use) and the
bare question for likelihood scoring.

Generative (``ai2d``, lmms-eval ``tasks/ai2d/utils.py`` ``ai2d_doc_to_text`` with
``prompt_format: mcq``)::

    {pre_prompt}{question}
    A. {option 0}
    B. {option 1}
    ...{post_prompt}

with ``post_prompt`` = ``"\\nAnswer with the option's letter from the given choices directly."``.
Likelihood (``ai2d_likelihood``): ``{pre_prompt}{question}{post_prompt}`` (both empty by
default); each option text is scored as the assistant's reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.metrics.ai2d import gold_letter, options_of
from lmms_eval.metrics.extract import LETTERS


def doc_to_choice(doc: Mapping[str, Any]) -> list[str]:
    """The option texts, in letter order."""
    return options_of(doc)


def doc_to_target(doc: Mapping[str, Any]) -> str:
    """The correct letter: ``answer`` is the option index as a string (``"1"`` -> ``"B"``)."""
    return gold_letter(doc)


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """Generative prompt: the question, one ``X. option`` line per option, the instruction."""
    kwargs = lmms_eval_specific_kwargs or {}
    lines = "\n".join(f"{LETTERS[i]}. {option}" for i, option in enumerate(options_of(doc)))
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{lines}{kwargs.get('post_prompt', '')}"


def doc_to_question(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """Likelihood prompt: the bare question (the options are scored as the reply)."""
    kwargs = lmms_eval_specific_kwargs or {}
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{kwargs.get('post_prompt', '')}"
