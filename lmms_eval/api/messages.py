"""Typed chat messages: one protocol for every modality.

A request's prompt is a list of :class:`Message`; each message holds content parts
(:class:`Text`, :class:`Image`, :class:`Audio`, :class:`Video`). Media parts are plain data:
where the medium comes from (decoded data, encoded bytes, or a path/URL) plus the hints an
adapter needs. Nothing here decodes: :mod:`lmms_eval.media` is the only place media are
decoded, resampled or sampled (``media.load_image(part)``, ``media.load_audio(part, rate)``,
``media.load_video(part, sampling)``), and it keeps what it decoded in the part's ``cache``, so a
medium decoded ahead of the model (see ``Model.media_spec``) is not decoded again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from lmms_eval.api.errors import SampleError

Role = Literal["system", "user", "assistant", "tool"]


@dataclass
class Text:
    """Plain text."""

    text: str
    type: Literal["text"] = "text"

    def describe(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass
class Image:
    """An image: decoded (``data``: a PIL image or an HxWxC array), encoded file bytes (``raw``),
    or a local path / URL (``path``)."""

    data: Any = None
    path: str | None = None
    raw: bytes | None = None
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Decoded forms, filled by :mod:`lmms_eval.media`; never logged."""
    type: Literal["image"] = "image"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "image"}
        if self.path is not None:
            out["path"] = str(self.path)
        size = getattr(self.data, "size", None) if self.data is not None else self.cache.get("size")
        if isinstance(size, tuple) and len(size) == 2:
            out["size"] = list(size)
        return out


@dataclass
class Audio:
    """Audio: a waveform in ``array`` at ``sampling_rate``, encoded file bytes (``raw``), or a file ``path``."""

    array: Any = None
    sampling_rate: int | None = None
    path: str | None = None
    raw: bytes | None = None
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Decoded forms, filled by :mod:`lmms_eval.media`; never logged."""
    type: Literal["audio"] = "audio"

    @property
    def seconds(self) -> float | None:
        """Duration in seconds, when a waveform is at hand or the media layer has read it."""
        if self.array is not None and self.sampling_rate:
            n = len(self.array) if getattr(self.array, "ndim", 1) == 1 else max(self.array.shape)
            return n / float(self.sampling_rate)
        value = self.cache.get("seconds")
        return float(value) if value is not None else None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "audio"}
        if self.path is not None:
            out["path"] = str(self.path)
        seconds = self.seconds
        if seconds is not None:
            out["seconds"] = round(seconds, 3)
        if self.sampling_rate:
            out["sampling_rate"] = self.sampling_rate
        return out


@dataclass
class Video:
    """A video file (``path`` or encoded bytes in ``raw``), a folder of frame images (``path``), or
    pre-extracted ``frames``, with sampling hints.

    For a file, ``fps`` is the rate to sample at (overriding the adapter's); for frames or a
    folder, their own rate, if known. ``max_frames`` caps the count together with the adapter's
    cap (the smaller wins); ``frame_indices`` picks exact frames.
    """

    path: str | None = None
    frames: list[Any] | None = None
    raw: bytes | None = None
    fps: float | None = None
    max_frames: int | None = None
    frame_indices: list[int] | None = None
    segments: list[tuple[str, list[float]]] | None = None
    """One video made of instants of several files: ``(path, times)`` pairs, the frames joined in
    this order (a week of clips shown as one video). Overrides the adapter's sampling."""
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Decoded forms, filled by :mod:`lmms_eval.media`; never logged."""
    type: Literal["video"] = "video"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "video"}
        if self.path is not None:
            out["path"] = str(self.path)
        if self.frames is not None:
            out["n_frames"] = len(self.frames)
        for key in ("fps", "max_frames"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.segments is not None:
            out["segments"] = [{"path": str(p), "times": [round(float(t), 3) for t in ts]} for p, ts in self.segments]
        return out


Part = Text | Image | Audio | Video
MEDIA_KINDS = {Image: "image", Audio: "audio", Video: "video"}


@dataclass
class Message:
    """One chat turn."""

    role: Role
    content: list[Part] = field(default_factory=list)

    def text(self) -> str:
        """The concatenated text parts."""
        return "".join(p.text for p in self.content if isinstance(p, Text))

    def describe(self) -> dict[str, Any]:
        return {"role": self.role, "content": [p.describe() for p in self.content]}


def media_part(kind: str, value: Any, base_dir: str | None = None) -> Part:
    """Turn a value produced by ``doc_to_visual``/``doc_to_audio``/``doc_to_video`` into a part,
    without decoding anything.

    Accepts a part, a path string, a PIL image, raw encoded bytes, a Hugging Face
    ``{"array", "sampling_rate"}`` audio dict, an undecoded ``{"bytes", "path"}`` dict (how
    ``datasets`` stores images, audio and video), an image array, or a list of frames (video).
    Relative paths resolve against ``base_dir`` (the dataset's folder for local files).
    """
    if isinstance(value, (Text, Image, Audio, Video)):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = str(value)
        if base_dir and not os.path.isabs(path) and "://" not in path:
            path = os.path.join(base_dir, path)
        return _make(kind, path=path)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _make(kind, raw=bytes(value))
    if isinstance(value, dict):
        if kind == "audio" and value.get("array") is not None:
            rate = value.get("sampling_rate")
            return Audio(array=value["array"], sampling_rate=int(rate) if rate else None, path=value.get("path"))
        if value.get("bytes") is not None:
            return _make(kind, raw=bytes(value["bytes"]), path=value.get("path"))
        if value.get("path") is not None:
            return media_part(kind, value["path"], base_dir)
        raise ValueError(f"cannot read {kind} from a dict with keys {sorted(value)}")
    if kind == "image" and hasattr(value, "size") and hasattr(value, "convert"):
        return Image(data=value)
    if kind == "image" and hasattr(value, "shape"):
        return Image(data=value)
    if kind == "video" and isinstance(value, (list, tuple)):
        return Video(frames=list(value))
    if kind == "audio" and hasattr(value, "shape"):
        raise ValueError("a bare audio array has no sampling rate; return {'array': ..., 'sampling_rate': ...}")
    raise ValueError(f"cannot turn a {type(value).__name__} into a {kind} part")


def _make(kind: str, **fields: Any) -> Part:
    if kind == "image":
        return Image(**fields)
    if kind == "audio":
        return Audio(**fields)
    if kind == "video":
        return Video(**fields)
    raise ValueError(f"unknown media kind {kind!r}; use image, audio or video")


def coerce_messages(value: Any, base_dir: str | None) -> list[Message]:
    """Typed messages from what a ``doc_to_messages`` function returns: :class:`Message` objects or
    OpenAI-style dicts (``{"role", "content": str | [{"type": "text"|"image"|"audio"|"video", ...}]}``)."""
    out = []
    for msg in value:
        if isinstance(msg, Message):
            out.append(msg)
            continue
        content = msg.get("content", [])
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        parts = []
        for part in content:
            if not isinstance(part, dict):
                parts.append(part)
                continue
            kind = part.get("type")
            if kind == "text":
                parts.append(Text(part["text"]))
            elif kind in ("image", "audio", "video"):
                payload = part.get(kind, part.get("url", part.get("path")))
                parts.append(media_part(kind, payload, base_dir))
            else:
                raise SampleError(f"doc_to_messages: unknown content type {kind!r}")
        out.append(Message(msg.get("role", "user"), parts))
    return out
