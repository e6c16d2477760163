"""Typed message parts -> OpenAI chat-completions content parts (decoding through :mod:`lmms_eval.media`).

* images: ``{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}``; an
  ``http(s)`` path is passed as a URL for the server to fetch; a PNG/JPEG file or PNG/JPEG bytes
  are sent as they are (no re-encoding); anything else is decoded by the media layer and encoded
  as PNG (lossless) or JPEG.
* audio: ``{"type": "input_audio", "input_audio": {"data": <base64>, "format": "wav"}}``; a WAV or
  MP3 file (or such bytes) is sent as it is, any other source is decoded by the media layer
  (mono, its own rate) and written as 16-bit PCM WAV.
* video: a list of frames, each sent as an image part, in order (the OpenAI API has no video
  part), sampled by :func:`lmms_eval.media.load_video`: the same frames every adapter gets.
"""

from __future__ import annotations

import base64
import io
import os
from typing import Any, Literal

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Audio, Image, Message, Text, Video
from lmms_eval.media import FrameSampling, load_audio, load_image, load_video

ImageFormat = Literal["png", "jpeg"]
_IMAGE_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _sniff_image(raw: bytes) -> str | None:
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if raw.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def _sniff_audio(raw: bytes) -> str | None:
    if raw[:4] == b"RIFF" and raw[8:12] == b"WAVE":
        return "wav"
    if raw[:3] == b"ID3" or (len(raw) > 1 and raw[0] == 0xFF and raw[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


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
    if part.data is None and part.raw is not None and (mime := _sniff_image(part.raw)):
        return f"data:{mime};base64,{_b64(part.raw)}"
    if part.data is None and part.raw is None and part.path:
        path = str(part.path)
        if path.startswith(("http://", "https://", "data:")):
            return path
        mime = _IMAGE_MIME.get(os.path.splitext(path)[1].lower())
        if mime is not None and os.path.isfile(path):
            with open(path, "rb") as fh:
                return f"data:{mime};base64,{_b64(fh.read())}"
    return encode_pil(load_image(part), fmt, jpeg_quality)


def audio_input(part: Audio) -> dict[str, str]:
    """The ``input_audio`` payload for one audio part."""
    if part.array is None:
        if part.raw is not None and (fmt := _sniff_audio(part.raw)):
            return {"data": _b64(part.raw), "format": fmt}
        if part.raw is None and part.path:
            ext = os.path.splitext(str(part.path))[1].lower()
            if ext in (".wav", ".mp3") and os.path.isfile(part.path):
                with open(part.path, "rb") as fh:
                    return {"data": _b64(fh.read()), "format": ext[1:]}
    import soundfile

    wave, rate = load_audio(part)
    buf = io.BytesIO()
    soundfile.write(buf, wave, rate, format="WAV", subtype="PCM_16")
    return {"data": _b64(buf.getvalue()), "format": "wav"}


def to_openai_messages(
    messages: list[Message],
    image_format: ImageFormat = "png",
    jpeg_quality: int = 95,
    sampling: FrameSampling | None = None,
    video_backend: str | None = None,
) -> list[dict[str, Any]]:
    """Our typed messages -> OpenAI chat messages. Text-only turns become plain strings."""
    sampling = sampling or FrameSampling(max_frames=32)
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
                clip = load_video(part, sampling, video_backend)
                for frame in clip.frames:
                    url = encode_pil(frame, image_format, jpeg_quality)
                    parts.append({"type": "image_url", "image_url": {"url": url}})
            else:  # pragma: no cover - the message types are closed
                raise SampleError(f"cannot send a {type(part).__name__} part to an OpenAI-compatible API")
        out.append({"role": msg.role, "content": parts})
    return out
