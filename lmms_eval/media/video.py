"""Video: the one frame-index sampler, the reader front door, and video parts -> :class:`VideoClip`.

* :class:`FrameSampling` says which frames an adapter wants (a count, a rate, a cap);
  :func:`sample_frame_indices` turns it into indices, the same way for every adapter and client.
* :func:`read_video` decodes only the wanted frames of a file or encoded bytes with PyAV, decord,
  torchcodec or OpenCV (see :mod:`lmms_eval.media.video_readers`).
* :func:`load_video` handles every source a :class:`~lmms_eval.api.messages.Video` part can
  have (pre-extracted frames, a folder of frame images, a file, bytes) and its hints.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lmms_eval.api.errors import SampleError, UsageError, did_you_mean
from lmms_eval.media.image import decode_image, media_error, one_line, rgb_array, source_name
from lmms_eval.media.video_readers import AUTO_EXCLUDED, BACKENDS, INSTALL, MODULES, READERS, video_backends

if TYPE_CHECKING:
    from lmms_eval.api.messages import Video

FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
"""Files of a frame folder that count as frames (case-insensitive)."""


@dataclass(frozen=True)
class FrameSampling:
    """Which frames of a video an adapter wants. Hashable: it is part of the clip's cache key.

    * ``fps``: target frames per second of video time; None = a fixed count.
    * ``max_frames``: cap on the count, and the count itself when ``fps`` is None (None with
      ``fps`` None = all frames).
    * ``multiple_of``: round the count down to a multiple of this when that keeps >= 1 frame
      (Qwen2-VL pairs frames: 2). ``uniform`` mode only.
    * ``min_frames``: at least this many frames (never more than the video has). ``uniform`` only.
    * ``mode``: ``"uniform"`` (evenly spread) or ``"stride"`` (LLaVA-Video's evaluation rule).
    * ``force_count``: ``stride`` mode: always take exactly ``max_frames`` uniform frames.
    """

    fps: float | None = None
    max_frames: int | None = None
    multiple_of: int = 1
    min_frames: int = 1
    mode: Literal["uniform", "stride"] = "uniform"
    force_count: bool = False

    def __post_init__(self) -> None:
        if self.fps is not None and not self.fps > 0:
            raise UsageError(f"video fps must be > 0 (or unset), got {self.fps}")
        if self.max_frames is not None and self.max_frames < 1:
            raise UsageError(f"video max_frames must be >= 1 (or unset), got {self.max_frames}")
        if self.multiple_of < 1 or self.min_frames < 0:
            raise UsageError(f"video multiple_of must be >= 1 and min_frames >= 0, got {self}")
        if self.mode not in ("uniform", "stride"):
            raise UsageError(f"video sampling mode must be 'uniform' or 'stride', got {self.mode!r}")


def _uniform(total: int, n: int) -> list[int]:
    if n >= total:
        return list(range(total))
    if n == 1:
        return [total // 2]
    return np.rint(np.linspace(0, total - 1, n)).astype(int).tolist()


def sample_frame_indices(total: int, native_fps: float | None, sampling: FrameSampling) -> list[int]:
    """THE frame-index sampler: which of ``total`` frames to keep (every adapter and client).

    ``total <= 0`` -> ``[]``. ``uniform`` mode, in order:

    1. n = ``total`` if ``sampling.fps`` is None or ``native_fps`` is unknown, else
       ``round(total / native_fps * fps)`` (the duration times the target rate);
    2. n = min(n, ``max_frames``) when set;
    3. n = max(n, ``min_frames``, 1);
    4. n = min(n, ``total``);
    5. round n down to a multiple of ``multiple_of`` when n >= ``multiple_of``;
    6. indices = ``linspace(0, total - 1, n)`` rounded to the nearest integer (first and last
       frame included); n == 1 -> ``[total // 2]``; n >= total -> every frame.

    ``stride`` mode (LLaVA-Video's evaluation rule; ``multiple_of``/``min_frames`` unused):

    1. step = max(1, round(native_fps / fps)) when both are known, else 1;
    2. indices = ``range(0, total, step)``;
    3. if ``max_frames`` is set and (there are more than ``max_frames`` indices, or
       ``force_count``): indices = ``linspace(0, total - 1, max_frames)`` TRUNCATED to int (as
       LLaVA-Video's ``dtype=int`` does: floor, not round; with ``force_count`` and fewer frames
       than ``max_frames`` this repeats frames, as the original does).
    """
    if total <= 0:
        return []
    if sampling.mode == "stride":
        step = 1
        if sampling.fps and native_fps:
            step = max(1, int(round(native_fps / sampling.fps)))
        indices = list(range(0, total, step))
        cap = sampling.max_frames
        if cap is not None and (len(indices) > cap or sampling.force_count):
            indices = np.linspace(0, total - 1, cap, dtype=int).tolist()
        return indices
    n = total
    if sampling.fps is not None and native_fps:
        n = int(round(total / native_fps * sampling.fps))
    if sampling.max_frames is not None:
        n = min(n, sampling.max_frames)
    n = max(n, sampling.min_frames, 1)
    n = min(n, total)
    if sampling.multiple_of > 1 and n >= sampling.multiple_of:
        n -= n % sampling.multiple_of
    return _uniform(total, n)


@dataclass
class VideoClip:
    """Sampled frames of one video with where they came from."""

    frames: np.ndarray
    """(T, H, W, 3) uint8 RGB."""
    indices: list[int]
    """Index of each returned frame in the video."""
    timestamps: list[float] | None
    """Seconds of each returned frame: from its presentation time when the reader gives it (counted
    from the first frame), else ``index / native_fps``; None when no rate is known."""
    total_frames: int
    native_fps: float | None
    backend: str
    """``av``, ``decord``, ``torchcodec``, ``opencv``, ``frames`` or ``folder``."""

    @property
    def duration(self) -> float | None:
        """Seconds of video: ``total_frames / native_fps`` (None without a rate)."""
        return self.total_frames / self.native_fps if self.native_fps else None

    @property
    def sampled_fps(self) -> float | None:
        """Frames per second of video time that the returned frames represent."""
        if not self.native_fps or not self.total_frames:
            return None
        return len(self.indices) / self.total_frames * self.native_fps

    def describe(self) -> dict[str, Any]:
        return {
            "n_frames": len(self.indices),
            "total_frames": self.total_frames,
            "native_fps": self.native_fps,
            "indices": list(self.indices),
            "backend": self.backend,
        }


def _stack(frames: list[np.ndarray], name: str, where: str) -> np.ndarray:
    shapes = sorted({tuple(f.shape) for f in frames})
    if len(shapes) != 1:
        raise media_error(where, f"video {name}: frames differ in size {shapes[:4]}; resize them to one size")
    return np.stack(frames)


def _checked(pick: Callable[[int, float | None], list[int]], name: str, where: str) -> Any:
    def checked(total: int, native: float | None) -> list[int]:
        wanted = [int(i) for i in pick(total, native)]
        if not wanted:
            raise media_error(where, f"video {name}: no frames were chosen out of {total}")
        bad = [i for i in wanted if not 0 <= i < total]
        if bad:
            raise media_error(where, f"video {name}: frame indices {bad[:5]} outside 0..{total - 1}")
        return wanted

    return checked


def _import_backend(name: str) -> None:
    if name not in BACKENDS:
        raise UsageError(
            f"unknown video backend {name!r}; use one of {', '.join(BACKENDS)}.{did_you_mean(name, BACKENDS)}"
        )
    if importlib.util.find_spec(MODULES[name]) is None:
        raise UsageError(f"video backend {name!r} is not installed: {INSTALL[name]}")
    try:
        importlib.import_module(MODULES[name])
    except Exception as exc:  # noqa: BLE001 - e.g. torchcodec without FFmpeg libraries
        raise UsageError(f"video backend {name!r} cannot be loaded ({one_line(exc)}); {INSTALL[name]}") from exc


def read_video(
    source: str | bytes,
    pick: Callable[[int, float | None], list[int]],
    backend: str | None = None,
    where: str = "",
) -> VideoClip:
    """Decode the frames ``pick(total_frames, native_fps)`` chooses from a video file or bytes.

    ``backend=None`` tries the installed readers in order (``av``, ``decord``, ``opencv``; not
    ``torchcodec``, which imports torch) and falls back to the next when one cannot handle the
    container. A named backend is the only one used; :class:`UsageError` with the install
    command when it is missing. Only the wanted frames are ever held in memory.

    Raises :class:`SampleError` naming the file for a missing, empty or undecodable video
    (listing each reader's error) and for indices outside the video.
    """
    if isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    name = source_name(source)
    if isinstance(source, bytes):
        if not source:
            raise media_error(where, "video bytes are empty (0 bytes); fix or drop this sample")
    else:
        source = os.fspath(source)
        if not os.path.exists(source):
            raise media_error(where, f"video file not found: {source}; check the path")
        if os.path.isdir(source):
            raise media_error(where, f"video {source} is a folder; give a video file (or use load_video for frames)")
        if os.path.getsize(source) == 0:
            raise media_error(where, f"video file is empty (0 bytes): {source}; fix or drop this sample")
    if backend is not None:
        _import_backend(backend)
        names = [backend]
    else:
        names = [b for b in video_backends() if b not in AUTO_EXCLUDED]
        if not names:
            raise UsageError(f"no video reader is installed to decode {name}: {INSTALL['av']}")
    checked = _checked(pick, name, where)
    errors: list[str] = []
    for reader in names:
        try:
            got = READERS[reader](source, checked)
        except SampleError:
            raise
        except Exception as exc:  # noqa: BLE001 - a reader that cannot handle this container: try the next
            errors.append(f"{reader}: {one_line(exc)}")
            continue
        frames = _stack(got.frames, name, where)
        if got.pts is not None:
            stamps: list[float] | None = [round(float(t), 6) for t in got.pts]
        elif got.native_fps:
            stamps = [i / got.native_fps for i in got.indices]
        else:
            stamps = None
        return VideoClip(frames, list(got.indices), stamps, int(got.total), got.native_fps, reader)
    raise media_error(where, f"cannot decode video {name} ({'; '.join(errors)}); fix or drop this sample")


def _frame(value: Any, n: int, where: str) -> np.ndarray:
    if isinstance(value, (str, os.PathLike, bytes, dict)) or (hasattr(value, "convert") and hasattr(value, "size")):
        return np.asarray(decode_image(value, where))
    try:
        return rgb_array(value, f"video frame {n}")
    except ValueError as exc:
        raise media_error(where, f"frame list: {exc}") from None


def _from_frames(frames: list[Any], native: float | None, pick: Any, label: str, backend: str, where: str) -> VideoClip:
    wanted = pick(len(frames), native)
    arrays = [_frame(frames[i], i, where) for i in wanted]
    stamps = [i / native for i in wanted] if native else None
    return VideoClip(_stack(arrays, label, where), wanted, stamps, len(frames), native, backend)


def _from_segments(segments: Sequence[tuple[str, Sequence[float]]], backend: str | None, where: str) -> VideoClip:
    """The frames at each segment's instants (the frame on screen at each time, by that file's rate),
    joined in segment order; every file must give frames of one size. The joined video is the files
    end to end: a frame's timestamp is its time in its file plus the durations of the files before
    it, and its index its index in its file plus their frame counts (what LLaVA-Video's time
    instruction and Qwen2.5-VL's video metadata then state)."""
    if not segments or not all(times for _, times in segments):
        raise media_error(where, "video segments need at least one (path, times) pair with times")
    clips = []
    for path, times in segments:

        def at_times(total: int, native: float | None, times: Sequence[float] = times, path: str = path) -> list[int]:
            if not native:
                raise media_error(where, f"video {path}: times need a file with a frame rate")
            return [min(total - 1, max(0, int(float(t) * native))) for t in times]

        clips.append(read_video(str(path), at_times, backend, where))
    if len({c.frames.shape[1:] for c in clips}) > 1:
        raise media_error(where, f"video segments differ in frame size: {sorted({c.frames.shape[1:] for c in clips})}")
    first, before, frames_before = clips[0], 0.0, 0
    stamps: list[float] = []
    indices: list[int] = []
    for clip, (_, times) in zip(clips, segments, strict=True):
        stamps.extend(before + float(t) for t in times)
        indices.extend(frames_before + i for i in clip.indices)
        before += clip.duration or 0.0
        frames_before += clip.total_frames
    return VideoClip(
        frames=np.concatenate([c.frames for c in clips]),
        indices=indices,
        timestamps=stamps,
        total_frames=sum(c.total_frames for c in clips),
        native_fps=first.native_fps,
        backend=first.backend,
    )


def load_video(part: Video, sampling: FrameSampling, backend: str | None = None, where: str = "") -> VideoClip:
    """Decode and sample one video part; cached in ``part.cache[("video", sampling, backend)]``.

    Sources, in order: ``part.frames`` (pre-extracted PIL images, HWC/CHW arrays or image
    paths), ``part.path`` naming a folder of frame images (sorted by file name; see
    ``FRAME_EXTENSIONS``), ``part.raw`` bytes or ``part.path`` naming a file (:func:`read_video`).

    Part hints: ``max_frames`` caps together with ``sampling.max_frames`` (the smaller wins; 0 =
    unset);
    ``fps`` is the target rate for a file (overriding ``sampling.fps``) but the frames' own
    rate for frames/folders (``sampling.fps`` then resamples them); ``frame_indices`` picks exact
    frames (an index outside the video: :class:`SampleError`); ``segments`` makes one video of the
    frames on screen at given instants of several files (seconds, by each file's frame rate; past
    the end: the last frame). Frames of different sizes,
    empty lists/folders and unreadable files raise :class:`SampleError`.
    """
    key = ("video", sampling, backend)
    cached = part.cache.get(key)
    if cached is not None:
        return cached
    if (part.max_frames is not None and part.max_frames < 0) or (part.fps is not None and not part.fps > 0):
        raise media_error(where, f"video hints max_frames={part.max_frames}, fps={part.fps}: both must be > 0 or unset")
    caps = [int(m) for m in (sampling.max_frames, part.max_frames) if m]
    rule = dataclasses.replace(sampling, max_frames=min(caps) if caps else None)
    is_folder = part.frames is None and part.path is not None and os.path.isdir(str(part.path))
    if part.frames is None and not is_folder and part.fps is not None:
        rule = dataclasses.replace(rule, fps=float(part.fps))

    def pick(total: int, native: float | None) -> list[int]:
        if part.frame_indices is None:
            return sample_frame_indices(total, native, rule)
        wanted = [int(i) for i in part.frame_indices]
        bad = [i for i in wanted if not 0 <= i < total]
        if bad or not wanted:
            raise media_error(where, f"video {label}: frame_indices {bad[:5]} outside 0..{total - 1}")
        return wanted

    native = float(part.fps) if part.fps else None
    if part.segments is not None:
        clip = _from_segments(part.segments, backend, where)
        part.cache[key] = clip
        return clip
    if part.frames is not None:
        label = "frame list"
        if len(part.frames) == 0:
            raise media_error(where, "video frame list is empty; fix or drop this sample")
        clip = _from_frames(list(part.frames), native, pick, label, "frames", where)
    elif is_folder:
        label = str(part.path)
        files = sorted(f for f in os.listdir(label) if f.lower().endswith(FRAME_EXTENSIONS))
        if not files:
            raise media_error(where, f"video folder {label} holds no frame images ({', '.join(FRAME_EXTENSIONS)})")
        clip = _from_frames([os.path.join(label, f) for f in files], native, pick, label, "folder", where)
    elif part.raw is not None or part.path is not None:
        label = str(part.path) if part.path is not None else source_name(part.raw)
        source = part.raw if part.raw is not None else str(part.path)
        try:
            clip = read_video(source, pick, backend, where)
        except SampleError as exc:
            if part.raw is None or part.path is None:
                raise
            raise SampleError(f"{exc} ({part.path})") from exc
    else:
        raise media_error(where, "video part has neither frames, raw bytes nor a path")
    part.cache[key] = clip
    return clip
