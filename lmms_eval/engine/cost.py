"""A request's estimated cost, in approximate prompt tokens, for batching and sharding.

Text counts 4 characters per token; an image one token per 28x28 patch; a video ~200 tokens
per frame; audio 25 tokens per second. Media known only by file or bytes count as a 512x512
image / 30 s of audio, unless ``probe`` asks the media layer to read their headers (no pixel or
sample is decoded; the header is cached in the part).
"""

from __future__ import annotations

from collections.abc import Iterable

from lmms_eval.api.messages import Audio, Image, Message, Text, Video
from lmms_eval.media import audio_seconds, image_size

DEFAULT_IMAGE_TOKENS = 256.0
DEFAULT_AUDIO_SECONDS = 30.0
DEFAULT_VIDEO_FRAMES = 32


def estimate_cost(messages: Iterable[Message], probe: bool = False) -> float:
    """The estimated prompt tokens of ``messages`` (see the module docstring)."""
    cost = 0.0
    for msg in messages:
        for part in msg.content:
            if isinstance(part, Text):
                cost += len(part.text) / 4.0
            elif isinstance(part, Image):
                # decoded data has its size at hand; a file or bytes only when headers may be read
                size = image_size(part) if probe or part.data is not None else None
                cost += (size[0] * size[1] / 784.0) if size else DEFAULT_IMAGE_TOKENS
            elif isinstance(part, Video):
                if part.frames is not None:
                    n = len(part.frames)
                elif part.segments is not None:
                    n = sum(len(times) for _, times in part.segments)
                else:
                    n = part.max_frames or DEFAULT_VIDEO_FRAMES
                cost += 200.0 * n
            elif isinstance(part, Audio):
                seconds = part.seconds
                if seconds is None and probe:
                    seconds = audio_seconds(part)
                cost += 25.0 * (seconds if seconds is not None else DEFAULT_AUDIO_SECONDS)
    return cost
