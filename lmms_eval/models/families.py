"""Model-family traits, in one record that the ``transformers`` and vLLM adapters both read.

A trait here is a fact about a checkpoint family that changes what the model sees (how many
frames, at which times, when an answer ends), so it must not differ between backends: the
``qwen2_5_vl`` adapter and ``--model vllm`` with a Qwen2.5-VL checkpoint sample the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from lmms_eval.api.errors import UsageError


@dataclass(frozen=True)
class ModelFamily:
    """What the adapters must know about a family of checkpoints."""

    name: str
    frame_multiple: int = 1
    """Frames per video are rounded down to a multiple of this (Qwen2-VL pairs frames into one patch)."""
    frames_fps_fallback: float | None = None
    """Rate assumed for pre-extracted frames given without one (qwen-vl-utils assumes 2 fps)."""
    end_tokens: tuple[str, ...] = ()
    """Chat tokens that also end an answer (added to the checkpoint's end-of-sequence ids when in its vocabulary)."""
    sampling_mode: Literal["uniform", "stride"] = "uniform"
    """Frame choice: uniform over the video, or LLaVA-Video's one frame every ``native_fps / fps`` frames."""
    default_fps: float | None = None
    """Frames per second of video time to sample when ``fps`` is not given (None: a fixed count)."""
    default_max_frames: int | None = 32
    """Frame cap when ``max_frames`` is not given."""
    video_metadata: bool = True
    """The processor takes the sampled frames' timing (``video_metadata``, ``do_sample_frames=False``)."""


GENERIC = ModelFamily("generic")
QWEN2_VL = ModelFamily("qwen2_vl", frame_multiple=2, frames_fps_fallback=2.0, end_tokens=("<|im_end|>",))

FAMILIES: dict[str, ModelFamily] = {
    "generic": GENERIC,
    "qwen2_vl": QWEN2_VL,
    "qwen2_5_vl": replace(QWEN2_VL, name="qwen2_5_vl"),
    "llava_onevision": ModelFamily("llava_onevision", end_tokens=("<|im_end|>",)),
    "llava_video": ModelFamily(
        "llava_video", end_tokens=("<|im_end|>",), sampling_mode="stride", default_fps=1.0, default_max_frames=64
    ),
    "qwen2_audio": ModelFamily("qwen2_audio", end_tokens=("<|im_end|>",)),
    "aero": ModelFamily("aero", end_tokens=("<|im_end|>",)),
}

# A checkpoint config's ``model_type`` -> its family (for adapters that serve any checkpoint, such as vllm).
MODEL_TYPES: dict[str, str] = {
    "qwen2_vl": "qwen2_vl",
    "qwen2_5_vl": "qwen2_5_vl",
    "llava_onevision": "llava_onevision",
    "qwen2_audio": "qwen2_audio",
}


def family(name: str) -> ModelFamily:
    """The family called ``name`` (a UsageError naming the known ones otherwise)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise UsageError(f"unknown model family {name!r}; use one of {', '.join(sorted(FAMILIES))}") from None


def family_of_model_type(model_type: str | None) -> ModelFamily:
    """The family of a checkpoint by its config's ``model_type`` (generic when unknown)."""
    return FAMILIES[MODEL_TYPES.get(model_type or "", "generic")]
