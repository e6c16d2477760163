"""Presets for the agent models this harness hosts: an adapter plus the prompt variant (agent
protocol) the model was trained with. Configuration only: each preset is the adapter's class
under another name with ``default_prompt_variant`` set; ``--prompt_variant`` still overrides it
(e.g. ``--prompt_variant reasoning`` on the same checkpoint, or none with ``--prompt_variant ''``).

| preset | adapter | runs tasks under |
|---|---|---|
| ``mmsearch_r1`` / ``mmsearch_r1_vllm`` | qwen2_5_vl / vllm | ``search`` (MMSearch-R1 Search Template) |
| ``react_search`` / ``react_search_vllm`` | qwen2_5_vl / vllm | ``react_search`` (ReAct template) |
| ``mgpo`` / ``mgpo_vllm`` | qwen2_5_vl / vllm | ``mgpo`` (two-turn grounding; V*, MME-RealWorld) |

``pretrained`` is required, as for the adapters: these checkpoints are Qwen2.5-VL-7B based.
"""

from __future__ import annotations

from typing import ClassVar

from lmms_eval.models.qwen2_5_vl import Qwen2_5_VL
from lmms_eval.models.vllm_engine import VLLM


class MMSearchR1(Qwen2_5_VL):
    """MMSearch-R1: Qwen2.5-VL under the Search Template (image search, text search)."""

    name: ClassVar[str] = "mmsearch_r1"
    default_prompt_variant: ClassVar[str | None] = "search"


class ReActSearch(Qwen2_5_VL):
    """A one-stage "General Search" model: Qwen2.5-VL under the ReAct template."""

    name: ClassVar[str] = "react_search"
    default_prompt_variant: ClassVar[str | None] = "react_search"


class MGPO(Qwen2_5_VL):
    """MGPO: Qwen2.5-VL under the two-turn grounding protocol."""

    name: ClassVar[str] = "mgpo"
    default_prompt_variant: ClassVar[str | None] = "mgpo"


class MMSearchR1VLLM(VLLM):
    """``mmsearch_r1`` served by vLLM."""

    name: ClassVar[str] = "mmsearch_r1_vllm"
    default_prompt_variant: ClassVar[str | None] = "search"


class ReActSearchVLLM(VLLM):
    """``react_search`` served by vLLM."""

    name: ClassVar[str] = "react_search_vllm"
    default_prompt_variant: ClassVar[str | None] = "react_search"


class MGPOVLLM(VLLM):
    """``mgpo`` served by vLLM."""

    name: ClassVar[str] = "mgpo_vllm"
    default_prompt_variant: ClassVar[str | None] = "mgpo"
