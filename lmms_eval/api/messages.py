"""Typed chat messages: one protocol for every modality.

A request's prompt is a list of :class:`Message`; each message holds content parts
(:class:`Text`, :class:`Image`, :class:`Audio`, :class:`Video`). Media parts carry either the
data itself (a PIL image, a numpy waveform) or a path/URL, plus what adapters need to
decode them. Adapters convert these parts into their processor's own format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

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
    """An image: a PIL image in ``data``, or a local path / URL in ``path``."""

    data: Any = None
    path: str | None = None
    type: Literal["image"] = "image"

    def load(self) -> Any:
        """Return a decoded RGB PIL image (decoding ``path`` on first use)."""
        if self.data is None:
            if self.path is None:
                raise ValueError("image part has neither data nor path")
            from PIL import Image as PILImage

            with PILImage.open(self.path) as img:
                self.data = img.convert("RGB")
        return self.data

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "image"}
        if self.path is not None:
            out["path"] = str(self.path)
        size = getattr(self.data, "size", None)
        if size is not None:
            out["size"] = list(size)
        return out


@dataclass
class Audio:
    """Audio: a mono float waveform in ``array`` at ``sampling_rate``, or a file ``path``."""

    array: Any = None
    sampling_rate: int | None = None
    path: str | None = None
    type: Literal["audio"] = "audio"

    def load(self, target_rate: int | None = None) -> tuple[Any, int]:
        """Return ``(float32 mono waveform, sampling_rate)``, resampled if ``target_rate`` is set."""
        import numpy as np

        if self.array is None:
            if self.path is None:
                raise ValueError("audio part has neither array nor path")
            import soundfile

            data, rate = soundfile.read(self.path, dtype="float32", always_2d=True)
            self.array, self.sampling_rate = data.mean(axis=1), int(rate)
        wave = np.asarray(self.array, dtype=np.float32)
        if wave.ndim > 1:
            wave = wave.mean(axis=-1 if wave.shape[-1] <= 8 else 0)
        rate = int(self.sampling_rate or target_rate or 16000)
        if target_rate and rate != target_rate:
            wave = resample(wave, rate, target_rate)
            rate = target_rate
        return wave, rate

    @property
    def seconds(self) -> float | None:
        """Duration in seconds, when the waveform is loaded."""
        if self.array is None or not self.sampling_rate:
            return None
        return len(self.array) / float(self.sampling_rate)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "audio"}
        if self.path is not None:
            out["path"] = str(self.path)
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 3)
            out["sampling_rate"] = self.sampling_rate
        return out


@dataclass
class Video:
    """A video file (``path``) or pre-extracted frames (``frames``), with sampling hints."""

    path: str | None = None
    frames: list[Any] | None = None
    fps: float | None = None
    max_frames: int | None = None
    frame_indices: list[int] | None = None
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
        return out


Part = Text | Image | Audio | Video


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


def resample(wave: Any, source_rate: int, target_rate: int) -> Any:
    """Resample a 1-D waveform by linear interpolation (adapters may use better resamplers)."""
    import numpy as np

    if source_rate == target_rate or len(wave) == 0:
        return wave
    n_out = int(round(len(wave) * target_rate / source_rate))
    x_old = np.arange(len(wave), dtype=np.float64) / source_rate
    x_new = np.arange(n_out, dtype=np.float64) / target_rate
    return np.interp(x_new, x_old, wave).astype(np.float32)


def media_part(kind: str, value: Any, base_dir: str | None = None) -> Part:
    """Turn a value produced by ``doc_to_visual``/``doc_to_audio``/``doc_to_video`` into a part.

    Accepts a part, a path string, a PIL image, a Hugging Face ``{"array", "sampling_rate"}``
    audio dict, an ``{"bytes": ...}``/``{"path": ...}`` image dict, or raw encoded bytes.
    Relative paths resolve against ``base_dir`` (the dataset's folder for local files).
    """
    if isinstance(value, (Text, Image, Audio, Video)):
        return value
    if isinstance(value, (str, os.PathLike)):
        path = str(value)
        if base_dir and not os.path.isabs(path) and "://" not in path:
            path = os.path.join(base_dir, path)
        return {
            "image": lambda: Image(path=path),
            "audio": lambda: Audio(path=path),
            "video": lambda: Video(path=path),
        }[kind]()
    if isinstance(value, (bytes, bytearray)):
        return _from_bytes(kind, bytes(value))
    if isinstance(value, dict):
        if kind == "audio" and "array" in value:
            return Audio(
                array=value["array"], sampling_rate=int(value.get("sampling_rate") or 16000), path=value.get("path")
            )
        if value.get("bytes") is not None:
            return _from_bytes(kind, value["bytes"])
        if value.get("path") is not None:
            return media_part(kind, value["path"], base_dir)
        raise ValueError(f"cannot read {kind} from a dict with keys {sorted(value)}")
    if kind == "image" and hasattr(value, "size") and hasattr(value, "convert"):
        return Image(data=value)
    if kind == "video" and isinstance(value, list):
        return Video(frames=value)
    raise ValueError(f"cannot turn a {type(value).__name__} into a {kind} part")


def _from_bytes(kind: str, raw: bytes) -> Part:
    import io

    if kind == "image":
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(raw)) as img:
            return Image(data=img.convert("RGB"))
    if kind == "audio":
        import soundfile

        data, rate = soundfile.read(io.BytesIO(raw), dtype="float32", always_2d=True)
        return Audio(array=data.mean(axis=1), sampling_rate=int(rate))
    raise ValueError(f"cannot decode {kind} from raw bytes; give a path")
