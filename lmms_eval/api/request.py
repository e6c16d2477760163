"""Requests sent to models and the responses they return."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.messages import Audio, Image, Message, Text, Video


def stable_id(task_hash: str, doc_id: Any, repeat: int) -> str:
    """Request id = hash(task config hash, doc id, repeat index): the same across runs."""
    raw = f"{task_hash}\x1f{type(doc_id).__name__}:{doc_id}\x1f{int(repeat)}"
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


@dataclass
class Request:
    """One generation request: typed chat messages plus generation parameters."""

    task: str
    doc_id: Any
    messages: list[Message]
    gen_kwargs: dict[str, Any] = field(default_factory=dict)
    repeat: int = 0
    id: str = ""
    cost: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def prompt_text(self) -> str:
        """The text of all turns, for logs and text-only models."""
        return "\n".join(m.text() for m in self.messages if m.text())

    def parts(self, kind: type) -> list[Any]:
        """All content parts of one type (Image, Audio, Video, Text) across turns."""
        return [p for m in self.messages for p in m.content if isinstance(p, kind)]

    def images(self) -> list[Image]:
        return self.parts(Image)

    def audios(self) -> list[Audio]:
        return self.parts(Audio)

    def videos(self) -> list[Video]:
        return self.parts(Video)

    def texts(self) -> list[Text]:
        return self.parts(Text)


@dataclass
class Response:
    """What a model returned for one request. ``error`` set means: not an answer."""

    text: str = ""
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, reason: str) -> Response:
        return cls(text="", error=reason)


def estimate_cost(messages: list[Message], probe_files: bool = False) -> float:
    """A rough cost estimate for scheduling: text tokens + image patches + frames + audio seconds.

    Units approximate prompt tokens: 4 characters per token, one token per 28x28 image patch,
    ~200 tokens per video frame, 25 tokens per second of audio. Media known only by path count
    as a 512x512 image / 30 s of audio, unless ``probe_files`` reads their headers (tens of
    microseconds each) for the real size and duration.
    """
    cost = 0.0
    for msg in messages:
        for part in msg.content:
            if isinstance(part, Text):
                cost += len(part.text) / 4.0
            elif isinstance(part, Image):
                size = getattr(part.data, "size", None)
                if size is None and probe_files and part.path:
                    size = _image_size(part.path)
                cost += (size[0] * size[1] / 784.0) if size else 256.0
            elif isinstance(part, Video):
                n = len(part.frames) if part.frames is not None else (part.max_frames or 32)
                cost += 200.0 * n
            elif isinstance(part, Audio):
                seconds = part.seconds
                if seconds is None and probe_files and part.path:
                    seconds = _audio_seconds(part.path)
                cost += 25.0 * (seconds if seconds is not None else 30.0)
    return cost


def _image_size(path: str) -> tuple[int, int] | None:
    """Width and height from the file header, or None if it cannot be read (the model will say why)."""
    try:
        from PIL import Image as PILImage

        with PILImage.open(path) as img:
            return img.size
    except Exception:  # noqa: BLE001 - a cost estimate never fails a run
        return None


def _audio_seconds(path: str) -> float | None:
    """Duration from the file header, or None if it cannot be read."""
    try:
        import soundfile

        return float(soundfile.info(path).duration)
    except Exception:  # noqa: BLE001 - a cost estimate never fails a run
        return None
