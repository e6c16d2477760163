"""Qwen2.5-VL and Qwen2-VL through ``transformers`` (registered as ``qwen2_5_vl`` and ``qwen2_vl``).

Images and videos go through the checkpoint's own processor and chat template. ``min_pixels``/
``max_pixels`` bound each image's resized area (and so its number of visual tokens: one per
28x28 pixels); ``video_min_pixels``/``video_max_pixels`` do the same per video frame. Videos
are sampled at ``fps`` frames per second when set, else uniformly, in both cases at most
``max_frames`` frames, rounded to an even count (the family's trait: the model pairs frames into
one temporal patch). The sampled frames' timing is handed to the processor so the model's
temporal position ids (Qwen2.5-VL's ``second_per_grid_ts``) match the real video time; frames
given without a rate are taken as 2 per second, as qwen-vl-utils does.

Example: ``--model qwen2_5_vl --model_args pretrained=Qwen/Qwen2.5-VL-7B-Instruct,max_pixels=1605632``
"""

from __future__ import annotations

from typing import Any, ClassVar

from lmms_eval.api.errors import UsageError
from lmms_eval.api.model import ModelConfig
from lmms_eval.media import VideoClip
from lmms_eval.models.families import FAMILIES, ModelFamily
from lmms_eval.models.hf.vision import HFConfig, HFProcessorModel


class Qwen2_5_VLConfig(HFConfig):
    """Model args of :class:`Qwen2_5_VL`."""

    min_pixels: int | None = None
    max_pixels: int | None = None
    video_min_pixels: int | None = None
    video_max_pixels: int | None = None


class Qwen2_5_VL(HFProcessorModel[Qwen2_5_VLConfig]):
    """Qwen2.5-VL / Qwen2-VL instruct checkpoints: image and video understanding."""

    name: ClassVar[str] = "qwen2_5_vl"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    Config: ClassVar[type[ModelConfig]] = Qwen2_5_VLConfig
    family: ClassVar[ModelFamily] = FAMILIES["qwen2_5_vl"]

    def __init__(self, config: Qwen2_5_VLConfig | None = None) -> None:
        for lo, hi in (("min_pixels", "max_pixels"), ("video_min_pixels", "video_max_pixels")):
            a, b = getattr(config, lo, None), getattr(config, hi, None)
            if a is not None and b is not None and a > b:
                raise UsageError(f"model qwen2_5_vl: {lo}={a} is larger than {hi}={b}")
        super().__init__(config)

    @staticmethod
    def _size(processor: Any, lo: int | None, hi: int | None) -> dict[str, int] | None:
        if lo is None and hi is None:
            return None
        size = getattr(processor, "size", None) or {}

        def get(key: str) -> Any:
            return size.get(key) if isinstance(size, dict) else getattr(size, key, None)

        return {
            "shortest_edge": int(lo if lo is not None else get("shortest_edge")),
            "longest_edge": int(hi if hi is not None else get("longest_edge")),
        }

    def images_kwargs(self) -> dict[str, Any]:
        cfg = self.config
        size = self._size(self.processor.image_processor, cfg.min_pixels, cfg.max_pixels)
        return {"size": size} if size else {}

    def image_pixel_limits(self) -> tuple[int, int]:
        """``(min_pixels, max_pixels)`` the image processor resizes each image into: what an agent
        protocol needs to know the model-input size a predicted box refers to (MGPO)."""
        processor = self.processor.image_processor
        size = getattr(processor, "size", None) or {}
        lo, hi = (
            size.get(k) if isinstance(size, dict) else getattr(size, k, None) for k in ("shortest_edge", "longest_edge")
        )
        lo = self.config.min_pixels or lo or getattr(processor, "min_pixels", None)
        hi = self.config.max_pixels or hi or getattr(processor, "max_pixels", None)
        if lo is None or hi is None:
            raise RuntimeError("the image processor states no pixel limits")
        return int(lo), int(hi)

    def videos_kwargs(self, clips: list[VideoClip]) -> dict[str, Any]:
        cfg = self.config
        out = super().videos_kwargs(clips)
        vp = getattr(self.processor, "video_processor", None)
        size = self._size(vp, cfg.video_min_pixels, cfg.video_max_pixels)
        if size:
            out["size"] = size
        if vp is not None and hasattr(vp, "cap_pixels_per_frame"):
            # The reference preprocessing (qwen-vl-utils) bounds a video's total pixel budget.
            out["cap_pixels_per_frame"] = True
        return out
