"""Prompt variants: one task, several prompts, chosen per run with ``--prompt_variant NAME``.

A task's ``prompt_variants: {NAME: {...}}`` entry overlays its prompt kwargs (after ``default``
and the model's own ``lmms_eval_specific_kwargs``); two keys in it are not prompt kwargs:
``system_prompt`` replaces the task's system prompt and ``generation_kwargs`` overlays its
generation parameters. The variant is part of the task's config hash, so its samples never mix
with the default prompt's in a resumed run.

``reasoning`` is built in for every task: the General STEM model's Reasoning Template,
``{question}\\nPlease reason step by step. Output the thinking process within <think> </think>
tags and final answer within <answer> </answer> tags.``, as the ``post_prompt`` (the slot where a
task's own trailing answer instruction stands). Under it, the model's output is reduced before
the task's filters: ``<think>...</think>`` removed, then the content of the last
``<answer>...</answer>`` taken when there is one (:func:`reasoning_answer`). A task's own
``prompt_variants.reasoning`` entry is laid over the built-in one (e.g. to give more
``generation_kwargs``, or another ``post_prompt``); the reduction stays.

``search`` and ``react_search`` are built in too: the task's ``pre_prompt``/``post_prompt``
emptied (so the question is bare) and an ``agent:`` block running MMSearch-R1's Search Template
or the ReAct template with image and text search (see :mod:`lmms_eval.agent.search`). Any
variant may carry an ``agent:`` block (e.g. V*'s ``mgpo``); the answer the filters read is then
the protocol's (:meth:`~lmms_eval.agent.protocol.AgentProtocol.answer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lmms_eval.api.errors import ConfigError, SampleError
from lmms_eval.metrics.extract import answer_tag_content

if TYPE_CHECKING:
    from lmms_eval.tasks.task import Task

REASONING = "reasoning"
REASONING_INSTRUCTION = (
    "\nPlease reason step by step. Output the thinking process within <think> </think> tags "
    "and final answer within <answer> </answer> tags."
)
SEARCH = "search"
REACT_SEARCH = "react_search"
BUILTIN_VARIANTS: dict[str, dict[str, Any]] = {
    REASONING: {"post_prompt": REASONING_INSTRUCTION},
    # The search protocols write their own instructions around the bare question.
    # per-turn room as MMSearch-R1 evaluates (max_response_length 2048)
    SEARCH: {
        "pre_prompt": "",
        "post_prompt": "",
        "agent": {"protocol": "mmsearch_r1"},
        "generation_kwargs": {"max_new_tokens": 2048},
    },
    REACT_SEARCH: {
        "pre_prompt": "",
        "post_prompt": "",
        "agent": {"protocol": "react"},
        "generation_kwargs": {"max_new_tokens": 2048},
    },
}
NOT_PROMPT_KWARGS = frozenset({"system_prompt", "generation_kwargs", "agent"})


def variant_entry(declared: dict[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The overlay of variant ``name``: a built-in one with the task's own entry on top (so
    ``reasoning: {generation_kwargs: {max_new_tokens: 4096}}`` keeps the built-in instruction),
    the task's own entry, or None when neither exists."""
    if name not in declared and name not in BUILTIN_VARIANTS:
        return None
    return {**BUILTIN_VARIANTS.get(name, {}), **(declared.get(name) or {})}


def available_variants(declared: dict[str, dict[str, Any]]) -> list[str]:
    """Every variant name a task can run under (its own and the built-in ones)."""
    return sorted(set(declared) | set(BUILTIN_VARIANTS))


def prompt_overlay(entry: dict[str, Any]) -> dict[str, Any]:
    """The prompt-kwargs part of a variant entry."""
    return {k: v for k, v in entry.items() if k not in NOT_PROMPT_KWARGS}


def reasoning_answer(output: str) -> str:
    """The answer part of a Reasoning Template reply: ``<think>`` blocks dropped, then the
    content of the last ``<answer>...</answer>`` if there is one, else the rest as it is."""
    from lmms_eval.filters import strip_think

    text = strip_think(str(output))
    found = answer_tag_content(text)
    return found if found is not None else text


def check_changes_prompt(task: Task, docs: Sequence[dict[str, Any]], model_name: str | None) -> None:
    """Refuse a prompt variant that leaves ``task``'s prompt unchanged on every one of ``docs`` (the
    first few documents; e.g. a ``doc_to_text`` that reads no ``post_prompt``): the run would be the
    default prompt under another name. A variant that changes only some documents' prompts (a time
    window over a video week) passes. Raises a ConfigError naming the YAML and the fix."""
    name = task.prompt_variant
    if not name or task.agent_spec is not None or not docs:  # an agent protocol always writes its own prompt
        return
    checked = 0
    for doc in docs:
        try:
            chosen = [m.describe() for m in task.build_messages(doc, model_name)]
            task.set_prompt_variant(None)
            try:
                plain = [m.describe() for m in task.build_messages(doc, model_name)]
            finally:
                task.set_prompt_variant(name)
        except SampleError:  # a row whose prompt cannot be built is that sample's error later
            continue
        checked += 1
        if chosen != plain:
            return
    if not checked:
        return
    raise ConfigError(
        f"{task.yaml_path}: prompt variant {name!r} does not change the prompt of task {task.name!r} "
        f"(its prompt reads none of {', '.join(sorted(prompt_overlay(task.variant_overlay))) or 'its keys'}); "
        f"add prompt_variants: {{{name}: {{...}}}} to the YAML with the prompt kwargs it should set"
    )
