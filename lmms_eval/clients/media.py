"""Typed message parts -> OpenAI chat-completions content parts.

* images: ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}``; an
  ``http(s)`` path is passed as a URL for the server to fetch; a PNG/JPEG file is sent as its own
  bytes (no re-encoding); anything else is encoded as PNG (lossless) or JPEG.
* audio: ``{"type": "input_audio", "input_audio": {"data": <base64>, "format": "wav"}}``; a WAV or
  MP3 file is sent as it is, any other source is decoded and written as 16-bit PCM WAV at its
  own sampling rate.
* video: a list of frames, each sent as an image part, in order (the OpenAI API has no video
  part). Pre-extracted frames are used as given (``frame_indices`` / ``max_frames`` applied);
  a video file is decoded and sampled by :func:`lmms_eval.models.hf_common.load_video`.
"""

from __future__ import annotations

import base64
import io
import os
from typing import Any, Literal

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Audio, Image, Message, Text, Video

ImageFormat = Literal["png", "jpeg"]
_IMAGE_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def encode_pil(img: Any, fmt: ImageFormat = "png", jpeg_quality: int = 95) -> str:
    """A PIL image (or HxWx3 uint8 array) as a ``data:`` URL."""
    if not hasattr(img, "save"):
        from PIL import Image as PILImage

        img = PILImage.fromarray(img)
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.convert("RGB").save(buf, format="JPEG", quality=jpeg_quality)
        return "data:image/jpeg;base64," + _b64(buf.getvalue())
    if img.mode not in ("RGB", "RGBA", "L", "LA", "P", "I;16", "1"):
        img = img.convert("RGB")
    img.save(buf, format="PNG")
    return "data:image/png;base64," + _b64(buf.getvalue())


def image_url(part: Image, fmt: ImageFormat = "png", jpeg_quality: int = 95) -> str:
    """The URL to send for one image part (see the module docstring for the rules)."""
    if part.data is None and part.path:
        path = str(part.path)
        if path.startswith(("http://", "https://", "data:")):
            return path
        mime = _IMAGE_MIME.get(os.path.splitext(path)[1].lower())
        if mime is not None:
            with open(path, "rb") as fh:
                return f"data:{mime};base64,{_b64(fh.read())}"
    return encode_pil(part.load(), fmt, jpeg_quality)


def audio_input(part: Audio) -> dict[str, str]:
    """The ``input_audio`` payload for one audio part."""
    if part.array is None and part.path:
        ext = os.path.splitext(str(part.path))[1].lower()
        if ext in (".wav", ".mp3"):
            with open(part.path, "rb") as fh:
                return {"data": _b64(fh.read()), "format": ext[1:]}
    import soundfile

    wave, rate = part.load()
    buf = io.BytesIO()
    soundfile.write(buf, wave, rate, format="WAV", subtype="PCM_16")
    return {"data": _b64(buf.getvalue()), "format": "wav"}


def _uniform(total: int, n: int) -> list[int]:
    if n >= total:
        return list(range(total))
    return [int((i + 0.5) * total / n) for i in range(n)]


def video_frames(part: Video, max_frames: int | None) -> list[Any]:
    """The frames to send for one video part (PIL images or HxWx3 arrays), in order."""
    caps = [m for m in (part.max_frames, max_frames) if m]
    cap = min(caps) if caps else None
    if part.frames is not None:
        total = len(part.frames)
        if total == 0:
            raise SampleError("video part has an empty frame list")
        if part.frame_indices is not None:
            indices = [int(i) for i in part.frame_indices]
            bad = [i for i in indices if not 0 <= i < total]
            if bad:
                raise SampleError(f"video frame_indices {bad[:5]} outside 0..{total - 1}")
        else:
            indices = _uniform(total, cap) if cap else list(range(total))
        out = []
        for i in indices:
            frame = part.frames[i]
            out.append(Image(path=str(frame)).load() if isinstance(frame, (str, os.PathLike)) else frame)
        return out
    if not part.path:
        raise SampleError("video part has neither frames nor path")
    try:
        from lmms_eval.models.hf_common import load_video
    except ImportError as exc:
        raise SampleError(
            f"decoding video {part.path} needs the video reader of the hf extra ({exc.name or exc}); "
            "pip install 'lmms_eval[hf,video]', or give pre-extracted frames"
        ) from exc
    clip = load_video(part, max_frames=cap)
    return list(clip.frames)


def to_openai_messages(
    messages: list[Message],
    image_format: ImageFormat = "png",
    jpeg_quality: int = 95,
    video_max_frames: int | None = None,
) -> list[dict[str, Any]]:
    """Our typed messages -> OpenAI chat messages. Text-only turns become plain strings."""
    out: list[dict[str, Any]] = []
    for msg in messages:
        if all(isinstance(p, Text) for p in msg.content):
            out.append({"role": msg.role, "content": msg.text()})
            continue
        parts: list[dict[str, Any]] = []
        for part in msg.content:
            if isinstance(part, Text):
                parts.append({"type": "text", "text": part.text})
            elif isinstance(part, Image):
                parts.append({"type": "image_url", "image_url": {"url": image_url(part, image_format, jpeg_quality)}})
            elif isinstance(part, Audio):
                parts.append({"type": "input_audio", "input_audio": audio_input(part)})
            elif isinstance(part, Video):
                for frame in video_frames(part, video_max_frames):
                    parts.append(
                        {"type": "image_url", "image_url": {"url": encode_pil(frame, image_format, jpeg_quality)}}
                    )
            else:  # pragma: no cover - the message types are closed
                raise SampleError(f"cannot send a {type(part).__name__} part to an OpenAI-compatible API")
        out.append({"role": msg.role, "content": parts})
    return out
