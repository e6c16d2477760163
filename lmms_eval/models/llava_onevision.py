"""LLaVA-OneVision through ``transformers`` (``llava-hf/llava-onevision-qwen2-*-ov-hf`` checkpoints).

Single images use the AnyRes tiling of the checkpoint's image processor; several images in one
request are encoded as a multi-image prompt; videos are sampled uniformly to ``max_frames``
frames (or at ``fps`` frames per second, capped by ``max_frames``) and pooled by the model.
The prompt comes from the processor's chat template.

Example: ``--model llava_onevision --model_args pretrained=llava-hf/llava-onevision-qwen2-7b-ov-hf``
"""

from __future__ import annotations

from typing import Any, ClassVar

from lmms_eval.api.model import ModelConfig
from lmms_eval.models.families import FAMILIES, ModelFamily
from lmms_eval.models.hf.vision import HFConfig, HFProcessorModel, VisionConfigT


class LlavaOneVision(HFProcessorModel[VisionConfigT]):
    """LLaVA-OneVision: images (single and multi) and video."""

    name: ClassVar[str] = "llava_onevision"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    Config: ClassVar[type[ModelConfig]] = HFConfig
    family: ClassVar[ModelFamily] = FAMILIES["llava_onevision"]

    def model_class(self) -> Any:
        from transformers import LlavaOnevisionForConditionalGeneration

        return LlavaOnevisionForConditionalGeneration
