"""Images and audio embedded in the report as ``data:`` URIs, within a size budget.

Images become thumbnails (Pillow, at most ``THUMB`` pixels a side); audio files are embedded as
they are, up to a per-file cap. Once the report's media budget is spent, or for a file too large,
remote, missing or unreadable, the report shows a note with the reason instead. Nothing is ever
fetched from the network.
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass

THUMB = 256
AUDIO_TYPES = {
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".webm": "audio/webm",
}


@dataclass
class Embedded:
    """A medium as a ``data:`` URI, or the note saying why it was not embedded (``uri`` None)."""

    uri: str | None
    note: str = ""


def _mb(n: float) -> str:
    return f"{n / 1e6:.3g} MB"


class MediaEmbedder:
    """Turns media paths into data URIs while the total stays under ``budget_bytes``."""

    def __init__(self, budget_bytes: int, max_audio_bytes: int, max_image_bytes: int = 50_000_000) -> None:
        self.budget = budget_bytes
        self.max_audio = max_audio_bytes
        self.max_image = max_image_bytes
        self.used = 0
        self.skipped = 0
        self._encoded: dict[str, str] = {}
        """Encoded URIs by path (the work is done once; every use is charged to the budget)."""

    def _local(self, path: object, kind: str) -> str | Embedded:
        if not isinstance(path, str) or not path:
            return Embedded(None, f"{kind} not in the log (no path: the data was stored in the dataset)")
        if "://" in path:
            return Embedded(None, f"remote {kind} not fetched: {path}")
        if not os.path.isfile(path):
            return Embedded(None, f"{kind} file not found: {path}")
        if self.used >= self.budget:
            self.skipped += 1
            return Embedded(
                None, f"{kind} not embedded: the report's media budget ({_mb(self.budget)}) is spent: {path}"
            )
        return path

    def _spend(self, uri: str, path: str, kind: str) -> Embedded:
        if self.used + len(uri) > self.budget:
            self.skipped += 1
            return Embedded(
                None, f"{kind} not embedded: the report's media budget ({_mb(self.budget)}) is spent: {path}"
            )
        self.used += len(uri)
        return Embedded(uri)

    def image(self, path: object) -> Embedded:
        """A thumbnail of the image at ``path`` (PNG or JPEG), or a note."""
        local = self._local(path, "image")
        if isinstance(local, Embedded):
            return local
        if local in self._encoded:
            return self._spend(self._encoded[local], local, "image")
        size = os.path.getsize(local)
        if size > self.max_image:
            return Embedded(None, f"image too large to embed ({_mb(size)}): {local}")
        try:
            from PIL import Image

            with Image.open(local) as img:
                img.thumbnail((THUMB, THUMB))
                alpha = img.mode in ("RGBA", "LA", "P")
                img = img.convert("RGBA" if alpha else "RGB")
                buf = io.BytesIO()
                img.save(buf, format="PNG" if alpha else "JPEG", quality=80)
        except Exception as exc:  # a file Pillow cannot read: say so, keep going
            return Embedded(None, f"image not readable ({type(exc).__name__}): {local}")
        mime = "image/png" if alpha else "image/jpeg"
        self._encoded[local] = f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode()}"
        return self._spend(self._encoded[local], local, "image")

    def audio(self, path: object) -> Embedded:
        """The audio file at ``path`` as it is, or a note (too large, unknown type, budget spent)."""
        local = self._local(path, "audio")
        if isinstance(local, Embedded):
            return local
        if local in self._encoded:
            return self._spend(self._encoded[local], local, "audio")
        mime = AUDIO_TYPES.get(os.path.splitext(local)[1].lower())
        if mime is None:
            return Embedded(None, f"audio type not playable in a browser: {local}")
        size = os.path.getsize(local)
        if size > self.max_audio:
            return Embedded(
                None, f"audio too large to embed ({_mb(size)} > {_mb(self.max_audio)}, --max-audio-mb): {local}"
            )
        with open(local, "rb") as fh:
            data = fh.read()
        self._encoded[local] = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        return self._spend(self._encoded[local], local, "audio")
