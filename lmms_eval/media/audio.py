"""Audio decoding, mono mixing and the project's one resampler.

``soundfile`` decodes (WAV, FLAC, OGG, MP3, ... whatever the bundled libsndfile reads) and
``soxr`` resamples (band-limited, ``quality="HQ"``). Both are imported inside the functions.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from lmms_eval.api.errors import SampleError
from lmms_eval.media.image import is_remote, media_error, one_line, source_name

if TYPE_CHECKING:
    from lmms_eval.api.messages import Audio

MAX_CHANNELS = 8
"""An axis of at most this length may be the channel axis of a 2-D waveform."""


class MissingResampler(ImportError):
    """``soxr`` is not installed."""


def _int_to_float(arr: np.ndarray) -> np.ndarray:
    """Integer PCM -> float32 in [-1, 1] (the scale soundfile's ``dtype="float32"`` uses)."""
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32) / float(-np.iinfo(arr.dtype).min)
    return arr.astype(np.float32, copy=False)


def _read_file(source: Any, name: str) -> tuple[np.ndarray, int]:
    import soundfile

    fh = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
    data, rate = soundfile.read(fh, dtype="float32", always_2d=True)
    return data, int(rate)


def _decode(source: Any, name: str, where: str) -> tuple[np.ndarray, int]:
    if isinstance(source, dict):
        if source.get("array") is not None:
            rate = source.get("sampling_rate")
            if not rate:
                raise media_error(where, f"audio array {name} has no sampling_rate; give {{'array', 'sampling_rate'}}")
            return _int_to_float(np.asarray(source["array"])), int(rate)
        if source.get("bytes") is not None:
            return _decode(source["bytes"], name, where)
        if source.get("path"):
            return _decode(str(source["path"]), name, where)
        raise media_error(
            where, f"an audio dict needs 'array'+'sampling_rate', 'bytes' or 'path'; got {sorted(source)}"
        )
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise media_error(where, f"audio {name} is empty (0 bytes); fix or drop this sample")
        return _read_file(source, name)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if is_remote(path):
            raise media_error(where, f"audio {path} is not a local file; download it first")
        if not os.path.isfile(path):
            raise media_error(where, f"audio file not found: {path}; check the path")
        return _read_file(path, name)
    raise media_error(where, f"cannot read audio from a {type(source).__name__}")


def decode_audio(source: Any, where: str = "") -> tuple[np.ndarray, int]:
    """Decode audio into ``(float32 samples, sampling rate)``; the samples may be multi-channel.

    ``source``: a local path, encoded bytes, a ``{"array", "sampling_rate"}`` dict (integer PCM
    arrays are scaled to [-1, 1]) or a ``{"bytes", "path"}`` dict. Files are read with
    ``soundfile.read(..., dtype="float32", always_2d=True)``, i.e. shape (frames, channels).
    Raises :class:`SampleError` naming the file when it is missing or cannot be decoded.
    """
    name = source_name(source)
    try:
        return _decode(source, name, where)
    except SampleError:
        raise
    except Exception as exc:  # noqa: BLE001 - decoders raise many types
        raise media_error(where, f"cannot decode audio {name} ({one_line(exc)}); fix or drop this sample") from exc


def channel_axis(shape: tuple[int, ...]) -> int:
    """The channel axis of a 2-D waveform: the smaller axis, if its length is <= ``MAX_CHANNELS``.

    soundfile gives (frames, channels); ``datasets`` and torch give (channels, frames). With
    equal lengths (a clip of at most 8 samples) the last axis is taken (soundfile's layout).
    Raises :class:`SampleError` when neither axis is short enough to hold channels.
    """
    rows, cols = shape
    if min(rows, cols) > MAX_CHANNELS:
        raise media_error("", f"audio array of shape {tuple(shape)} is ambiguous: neither axis looks like channels")
    return 0 if rows < cols else 1


def to_mono(wave: np.ndarray) -> np.ndarray:
    """A 1-D float32 waveform: 1-D input passes through; 2-D is averaged over the channel axis.

    The channel axis rule: soundfile gives (frames, channels), ``datasets``/torch give
    (channels, frames); the axis of length <= 8 that is the smaller one holds the channels (see
    :func:`channel_axis`). If neither axis is <= 8 the shape is ambiguous: :class:`SampleError`.
    """
    wave = np.asarray(wave)
    if wave.ndim == 1:
        return wave.astype(np.float32, copy=False)
    if wave.ndim != 2:
        raise media_error("", f"audio array has {wave.ndim} dimensions; expected 1 (mono) or 2 (with channels)")
    if wave.size == 0:
        return np.zeros(0, np.float32)
    axis = channel_axis(wave.shape)
    if wave.shape[axis] == 1:
        return np.ascontiguousarray(wave.reshape(-1), dtype=np.float32)
    return wave.mean(axis=axis, dtype=np.float32)


def resample(wave: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample to ``target_rate`` with ``soxr`` (band-limited, ``quality="HQ"``): the one resampler.

    Equal rates return the input (converted to float32 only if needed); an empty waveform stays
    empty. 2-D input is (frames, channels). Raises :class:`MissingResampler` (an ImportError)
    with the install command when ``soxr`` is missing.
    """
    wave = np.asarray(wave)
    if int(source_rate) == int(target_rate) or wave.shape[0] == 0:
        return wave.astype(np.float32, copy=False)
    if source_rate <= 0 or target_rate <= 0:
        raise ValueError(f"sampling rates must be positive, got {source_rate} -> {target_rate}")
    try:
        import soxr
    except ImportError as exc:
        raise MissingResampler("resampling audio needs soxr: pip install soxr") from exc
    data = np.ascontiguousarray(wave, dtype=np.float32)
    return np.asarray(soxr.resample(data, float(source_rate), float(target_rate), quality="HQ"), dtype=np.float32)


def _part_source(part: Audio, where: str) -> Any:
    if part.array is not None:
        if not part.sampling_rate:
            raise media_error(where, "audio part has an array but no sampling_rate; set Audio.sampling_rate")
        return {"array": part.array, "sampling_rate": part.sampling_rate, "path": part.path}
    if part.raw is not None:
        return {"bytes": part.raw, "path": part.path}
    if part.path is not None:
        return str(part.path)
    raise media_error(where, "audio part has neither an array, raw bytes nor a path")


def load_audio(part: Audio, target_rate: int | None = None, where: str = "") -> tuple[np.ndarray, int]:
    """The part's audio as a float32 mono waveform at ``target_rate`` (None: the native rate).

    Decodes ``array`` + ``sampling_rate`` if set, else ``raw``, else ``path``; mixes to mono
    (:func:`to_mono`); resamples (:func:`resample`). The result is cached per rate in
    ``part.cache[("audio", target_rate)]`` (a second call returns the same array) and the
    duration in ``part.cache["seconds"]``. Raises :class:`SampleError` naming the file when the
    audio cannot be decoded, is empty (also once resampled), or holds NaN/inf samples.
    """
    key = ("audio", target_rate)
    cached = part.cache.get(key)
    if cached is not None:
        return cached
    source = _part_source(part, where)
    name = str(part.path) if part.path is not None else source_name(source)
    wave, rate = decode_audio(source, where)
    try:
        mono = to_mono(wave)
    except SampleError as exc:
        raise media_error(where, f"audio {name}: {exc}") from None
    if mono.size == 0:
        raise media_error(where, f"audio {name} is empty (0 samples); fix or drop this sample")
    if not np.isfinite(mono).all():
        raise media_error(where, f"audio {name} holds NaN/inf samples; fix or drop this sample")
    part.cache["seconds"] = mono.shape[0] / float(rate)
    if target_rate is not None and int(target_rate) != rate:
        mono = resample(mono, rate, int(target_rate))
        rate = int(target_rate)
        if mono.size == 0:  # e.g. one frame at 48 kHz read at 16 kHz: a model would hear silence
            raise media_error(where, f"audio {name} has no samples at {rate} Hz (too short); fix or drop this sample")
    result = (np.ascontiguousarray(mono, dtype=np.float32), int(rate))
    part.cache[key] = result
    return result


def audio_seconds(part: Audio) -> float | None:
    """Duration in seconds without decoding when possible: from the array, else the file header.

    Uses ``soundfile.info`` on ``path`` or ``raw`` bytes. Cached in ``part.cache["seconds"]``;
    None when unreadable (a cost estimate never fails).
    """
    if part.cache.get("seconds") is not None:
        return float(part.cache["seconds"])
    seconds: float | None = None
    try:
        if part.array is not None:
            if part.sampling_rate:
                shape = np.shape(part.array)
                frames = shape[0] if len(shape) == 1 else shape[1 - channel_axis(shape)]
                seconds = frames / float(part.sampling_rate)
        elif part.raw is not None or (part.path is not None and os.path.isfile(str(part.path))):
            import soundfile

            fh = io.BytesIO(part.raw) if part.raw is not None else str(part.path)
            info = soundfile.info(fh)
            seconds = info.frames / float(info.samplerate) if info.samplerate else None
    except Exception:  # noqa: BLE001 - unreadable: no estimate
        seconds = None
    if seconds is not None:
        part.cache["seconds"] = seconds
    return seconds
