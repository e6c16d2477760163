"""Decode a request's media ahead of the model, as the model's :class:`MediaSpec` asks.

The engine calls :func:`prepare_request` (usually through :func:`lmms_eval.media.prefetch`) so
that decoding overlaps generation; the adapter later calls the same ``load_*`` functions with
the same arguments and finds the results in the parts' caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lmms_eval.api.errors import LmmsEvalError, SampleError
from lmms_eval.api.messages import Audio, Image, Video
from lmms_eval.media.audio import load_audio
from lmms_eval.media.image import load_image, one_line
from lmms_eval.media.video import FrameSampling, load_video

if TYPE_CHECKING:
    from lmms_eval.api.request import Request


@dataclass(frozen=True)
class MediaSpec:
    """What an adapter wants decoded before its generate() is called; the adapter decodes with the
    same functions and arguments, so it finds the results in the parts' caches.

    * ``images``: decode images to RGB (:func:`~lmms_eval.media.load_image`).
    * ``audio``: decode audio to mono float32 (:func:`~lmms_eval.media.load_audio`) at
      ``audio_rate`` (None = the native rate).
    * ``video``: sample and decode videos with this :class:`FrameSampling` (None = leave videos
      alone), with ``video_backend`` (None = the first installed reader that works).
    """

    images: bool = False
    audio: bool = False
    audio_rate: int | None = None
    video: FrameSampling | None = None
    video_backend: str | None = None

    @property
    def empty(self) -> bool:
        """True when nothing is to be decoded ahead."""
        return not (self.images or self.audio or self.video is not None)


def prepare_request(request: Request, spec: MediaSpec) -> None:
    """Decode every media part of every message of ``request`` as ``spec`` says (results go to
    the parts' caches).

    Errors are :class:`SampleError` naming the sample (``"<task> doc <id>, video 0"``) and the
    file; an unexpected failure is turned into one as well. Configuration and environment errors
    (:class:`~lmms_eval.api.errors.UsageError`, e.g. a video backend that is not installed, and
    ImportError, e.g. ``soxr`` missing) propagate as they are.
    """
    label = request.label()
    counts = {"image": 0, "audio": 0, "video": 0}
    for message in request.messages:
        for part in message.content:
            kind = getattr(part, "type", None)
            if kind not in counts:
                continue
            where = f"{label}, {kind} {counts[kind]}"
            counts[kind] += 1
            try:
                if isinstance(part, Image) and spec.images:
                    load_image(part, where=where)
                elif isinstance(part, Audio) and spec.audio:
                    load_audio(part, spec.audio_rate, where=where)
                elif isinstance(part, Video) and spec.video is not None:
                    load_video(part, spec.video, spec.video_backend, where=where)
            except (SampleError, LmmsEvalError, ImportError):
                raise
            except Exception as exc:  # noqa: BLE001 - never a bare decoder traceback
                raise SampleError(f"{where}: cannot decode the {kind} ({one_line(exc)})") from exc
