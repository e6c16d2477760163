"""LLaVA-Video through the ``transformers`` LLaVA-OneVision classes.

For the ``llava-hf/LLaVA-Video-*-hf`` checkpoints (``LlavaOnevisionForConditionalGeneration``).
Frames are chosen the way LLaVA-Video's own evaluation does (the ``llava_video`` family's stride
rule in :func:`lmms_eval.media.sample_frame_indices`): one frame every ``round(native_fps / fps)``
frames (``fps=1`` by default: 1 frame per second); when that gives more than ``max_frames``
frames (64 by default), or ``force_sample=true``, exactly ``max_frames`` frames spread uniformly
over the whole video instead. Set ``fps=none`` for plain uniform sampling.
``add_time_instruction=true`` adds LLaVA-Video's sentence telling the model the video length and
the time of each sampled frame, right after the video.

Example: ``--model llava_vid --model_args pretrained=llava-hf/LLaVA-Video-7B-Qwen2-hf,max_frames=64``
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from lmms_eval.api.model import ModelConfig
from lmms_eval.media import FrameSampling, VideoClip
from lmms_eval.models.families import FAMILIES, ModelFamily
from lmms_eval.models.hf.chat import ChatInput
from lmms_eval.models.hf.vision import HFConfig
from lmms_eval.models.llava_onevision import LlavaOneVision

LLAVA_VIDEO = FAMILIES["llava_video"]


class LlavaVidConfig(HFConfig):
    """Model args of :class:`LlavaVid`."""

    max_frames: int | None = Field(LLAVA_VIDEO.default_max_frames, ge=1)
    fps: float | None = Field(LLAVA_VIDEO.default_fps, gt=0)
    force_sample: bool = False
    add_time_instruction: bool = False


def time_instruction(clip: VideoClip) -> str | None:
    """LLaVA-Video's sentence about video length and frame times (None without a frame rate)."""
    times = clip.timestamps
    if times is None or clip.duration is None:
        return None
    stamps = ",".join(f"{t:.2f}s" for t in times)
    return (
        f"The video lasts for {clip.duration:.2f} seconds, and {len(clip.indices)} frames are uniformly "
        f"sampled from it. These frames are located at {stamps}.Please answer the following questions "
        "related to this video."
    )


class LlavaVid(LlavaOneVision[LlavaVidConfig]):
    """LLaVA-Video (video-first LLaVA-OneVision checkpoints); images work too."""

    name: ClassVar[str] = "llava_vid"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    Config: ClassVar[type[ModelConfig]] = LlavaVidConfig
    family: ClassVar[ModelFamily] = LLAVA_VIDEO
    renamed_args: ClassVar[dict[str, str]] = {"max_frames_num": "max_frames", "video_fps": "fps"}

    def frame_sampling(self) -> FrameSampling:
        cfg = self.config
        return FrameSampling(fps=cfg.fps, max_frames=cfg.max_frames, mode="stride", force_count=cfg.force_sample)

    def edit_chat(self, chat: ChatInput, clips: list[VideoClip]) -> None:
        if not self.config.add_time_instruction or not clips:
            return
        k = 0
        for msg in chat.messages:
            content: list[dict[str, Any]] = []
            for part in msg["content"]:
                content.append(part)
                if part.get("type") == "video":
                    sentence = time_instruction(clips[k])
                    k += 1
                    if sentence:
                        content.append({"type": "text", "text": "\n" + sentence + "\n"})
            msg["content"] = content
