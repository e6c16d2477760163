"""The media layer: the one place where images, audio and video are decoded, resampled or sampled.

Message parts (:mod:`lmms_eval.api.messages`) are plain data; adapters and API clients turn them
into pixels, waveforms and frames only through this package, so every model sees media decoded
the same way:

* images (:mod:`.image`): :func:`decode_image`, :func:`load_image`, :func:`image_size` -- RGB
  PIL images, EXIF orientation applied; sizes read from the header for cost estimates.
* audio (:mod:`.audio`): :func:`decode_audio`, :func:`to_mono`, :func:`resample` (soxr, the one
  resampler), :func:`load_audio`, :func:`audio_seconds`.
* video (:mod:`.video`): :class:`FrameSampling` and :func:`sample_frame_indices` (the one
  frame-index sampler), :func:`read_video` (PyAV, decord, torchcodec, OpenCV readers that keep
  only the wanted frames), :func:`load_video` -> :class:`VideoClip`.
* decode-ahead: :class:`MediaSpec` + :func:`prepare_request` say and do what a model wants
  decoded before its ``generate()``; :func:`prefetch` runs that in threads, a bounded number of
  batches ahead of the consumer.

Every failure to read one sample's media is a :class:`~lmms_eval.api.errors.SampleError` with a
one-line message naming the file and, where there is one, the fix. Decoded results are kept in the
parts' ``cache`` dicts, so a medium is decoded once however many times it is asked for.

Importing this package is cheap: PIL, soundfile, soxr, av, cv2, decord and torchcodec are
imported inside the functions that use them, and torch is never imported (except by the
torchcodec reader, used only when selected by name).
"""

from lmms_eval.media.audio import MissingResampler, audio_seconds, decode_audio, load_audio, resample, to_mono
from lmms_eval.media.image import decode_image, image_size, load_image
from lmms_eval.media.prefetch import prefetch
from lmms_eval.media.prepare import MediaSpec, prepare_request
from lmms_eval.media.video import (
    FRAME_EXTENSIONS,
    FrameSampling,
    VideoClip,
    load_video,
    read_video,
    sample_frame_indices,
    video_backends,
)
from lmms_eval.media.video_readers import set_decoder_threads

__all__ = [
    "FRAME_EXTENSIONS",
    "FrameSampling",
    "MediaSpec",
    "MissingResampler",
    "VideoClip",
    "audio_seconds",
    "decode_audio",
    "decode_image",
    "image_size",
    "load_audio",
    "load_image",
    "load_video",
    "prefetch",
    "prepare_request",
    "read_video",
    "resample",
    "sample_frame_indices",
    "set_decoder_threads",
    "to_mono",
    "video_backends",
]
