"""LLaVA-Video through the ``transformers`` LLaVA-OneVision classes.

For the ``llava-hf/LLaVA-Video-*-hf`` checkpoints (``LlavaOnevisionForConditionalGeneration``).
Frames are chosen the way LLaVA-Video's own evaluation does: one frame every
``round(native_fps / video_fps)`` frames (``video_fps=1`` by default: 1 frame per second);
when that gives more than ``max_frames_num`` frames, or ``force_sample=true``, exactly
``max_frames_num`` frames spread uniformly over the whole video instead
(``numpy.linspace(0, total - 1, max_frames_num)`` truncated to integers). Set ``video_fps=none``
for plain uniform sampling. ``add_time_instruction=true`` adds LLaVA-Video's sentence telling
the model the video length and the time of each sampled frame, right after the video.

Example: ``--model llava_vid --model_args pretrained=llava-hf/LLaVA-Video-7B-Qwen2-hf,max_frames_num=64``
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from lmms_eval.api.messages import Video
from lmms_eval.models.hf_common import ChatInput, HFConfig, VideoClip, load_video
from lmms_eval.models.llava_onevision import LlavaOneVision


class LlavaVidConfig(HFConfig):
    """Model args of :class:`LlavaVid`."""

    max_frames_num: int = 64
    video_fps: float | None = 1.0
    force_sample: bool = False
    add_time_instruction: bool = False


def llava_video_indices(
    total: int, native_fps: float | None, video_fps: float | None, max_frames: int | None, force_sample: bool
) -> list[int]:
    """LLaVA-Video's frame choice: every ``round(native_fps / video_fps)``-th frame, or
    ``max_frames`` uniform frames when that is too many (or ``force_sample``)."""
    if total <= 0:
        return []
    if video_fps and native_fps:
        step = max(1, int(round(native_fps / video_fps)))
        indices = list(range(0, total, step))
    else:
        indices = list(range(total))
    if max_frames and (len(indices) > max_frames or force_sample):
        indices = np.linspace(0, total - 1, max_frames, dtype=int).tolist()
    return indices


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


class LlavaVid(LlavaOneVision):
    """LLaVA-Video (video-first LLaVA-OneVision checkpoints); images work too."""

    name: ClassVar[str] = "llava_vid"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    Config: ClassVar[type[HFConfig]] = LlavaVidConfig

    def load_clip(self, video: Video) -> VideoClip:
        cfg: LlavaVidConfig = self.config  # type: ignore[assignment]

        def picker(total: int, native: float | None, target: float | None, limit: int | None) -> list[int]:
            return llava_video_indices(total, native, target, limit, cfg.force_sample)

        return load_video(video, fps=cfg.video_fps, max_frames=cfg.max_frames_num, picker=picker)

    def edit_chat(self, chat: ChatInput, clips: list[VideoClip]) -> None:
        cfg: LlavaVidConfig = self.config  # type: ignore[assignment]
        if not cfg.add_time_instruction or not clips:
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
