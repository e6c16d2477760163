"""Video-file readers behind :func:`lmms_eval.media.video.read_video`: PyAV, decord, torchcodec, OpenCV.

Each reader takes a path or encoded bytes and ``pick(total_frames, native_fps) -> indices`` and
returns only the wanted frames (never all frames of a video), as (H, W, 3) uint8 RGB arrays.

* PyAV (``av``, the default): decodes with the codec's own threads, converts only the wanted
  frames to RGB and stops at the last wanted one. Sequentially (frame-accurate) unless the wanted
  frames lie more than ``SEEK_GAP_SECONDS`` apart in a constant-rate stream: then it seeks to the
  keyframe before each such frame (``_av_seek_scan``), and falls back to the sequential read the
  moment the presentation times do not run at the stated rate.
* decord: random access through its frame index (``get_batch``).
* torchcodec: exact-mode random access (``get_frames_at``). It imports torch, so it is used only
  when asked for by name, never as an automatic fallback.
* OpenCV (``opencv``): sequential ``grab``; only wanted frames are ``retrieve``-d.

When the container has no frame count, or one that does not match its duration, the sequential
readers count the frames first (PyAV: demuxed packets; OpenCV: ``grab`` without ``retrieve``),
and when a count turns out too high (wanted frames past the real end), they pick again from the
number of frames actually seen and decode again, rather than return fewer frames.
"""

from __future__ import annotations

import importlib.util
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Pick = Callable[[int, "float | None"], list[int]]
Source = str | bytes

BACKENDS = ("av", "decord", "torchcodec", "opencv")
"""All readers, in order of preference."""
MODULES = {"av": "av", "decord": "decord", "torchcodec": "torchcodec", "opencv": "cv2"}
INSTALL = {
    "av": "pip install av",
    "decord": "pip install decord",
    "torchcodec": "pip install torchcodec (it also needs FFmpeg's shared libraries, e.g. apt-get install ffmpeg)",
    "opencv": "pip install opencv-python-headless",
}
AUTO_EXCLUDED = ("torchcodec",)
"""Readers never tried automatically (torchcodec imports torch)."""

_decoder_threads = 0


def set_decoder_threads(n: int) -> int:
    """Threads each decoder may use (0: the library's own choice, all cores); returns the previous value.

    The engine lowers it while several decode-ahead workers run, so that N workers on C cores use
    C threads in all: many single-threaded decoders in parallel are faster than frame-threaded
    ones fighting for the same cores (measured: 2 workers on 2 cores, 1 thread each, 1.6x the
    frames/s of the same 2 workers at the library's default).
    """
    global _decoder_threads
    previous, _decoder_threads = _decoder_threads, max(0, int(n))
    return previous


def video_backends() -> list[str]:
    """Video readers installed here, in order of preference: av, decord, torchcodec, opencv.

    Checked with ``importlib.util.find_spec`` (nothing is imported, so no torch either).
    """
    return [name for name in BACKENDS if importlib.util.find_spec(MODULES[name]) is not None]


@dataclass
class Decoded:
    """What a reader returns: the wanted frames, in the order of ``indices``."""

    frames: list[np.ndarray]
    indices: list[int]
    pts: list[float] | None
    """Seconds of each frame from the first frame's presentation time; None if the reader has none."""
    total: int
    native_fps: float | None


def _fps(value: Any) -> float | None:
    try:
        fps = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return fps if np.isfinite(fps) and fps > 0 else None


Scan = Callable[[list[int]], tuple[dict[int, tuple[np.ndarray, float | None]], int, bool]]


def sequential_read(pick: Pick, total: int, native: float | None, count: Callable[[], int], scan: Scan) -> Decoded:
    """Pick, scan, and re-pick from the frames actually seen when the count was too high.

    ``total`` is the container's frame count (<= 0 when missing or implausible: ``count()`` is
    used then). ``scan(wanted)`` returns ``({index: (rgb, pts)}, frames_seen, reached_end)``.
    """
    if total <= 0:
        total = count()
    for _ in range(3):
        if total <= 0:
            raise ValueError("the video has no frames")
        wanted = pick(total, native)
        got, seen, ended = scan(wanted)
        if all(i in got for i in wanted):
            frames = [got[i][0] for i in wanted]
            pts = [got[i][1] for i in wanted]
            return Decoded(frames, wanted, None if None in pts else pts, total, native)  # type: ignore[arg-type]
        if not ended:
            missing = sorted(set(wanted) - set(got))
            raise ValueError(f"frames {missing[:5]} could not be decoded")
        total = seen  # the count was too high: this scan ran to the end, so `seen` is exact
    raise ValueError("the frame count keeps changing between passes")


# --------------------------------------------------------------------------- PyAV

SEEK_GAP_SECONDS = 2.0
"""Wanted frames further apart than this are reached by seeking (PyAV); nearer ones by decoding on."""


def _av_header_frames(stream: Any) -> int:
    """The frame count the container states (0 when it has none)."""
    return int(stream.frames or 0)


def _av_plausible(frames: int, stream: Any, native: float | None) -> bool:
    """A stated count is trusted unless the stream's duration says otherwise (by > 10%)."""
    if frames <= 0:
        return False
    if not (stream.duration and stream.time_base and native):
        return True
    expected = float(stream.duration * stream.time_base) * native
    return abs(frames - expected) <= max(2.0, 0.1 * expected)


def read_av(source: Source, pick: Pick) -> Decoded:
    """PyAV: wanted frames only, stop after the last wanted one; far-apart frames in a constant-rate
    stream are reached by seeking (``_av_seek_scan``), the rest by decoding on."""
    import av

    def open_() -> Any:
        container = av.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        if not container.streams.video:
            container.close()
            raise ValueError("no video stream in the container")
        return container

    spare = [open_()]  # the first scan reuses the container opened for the header
    try:
        stream = spare[0].streams.video[0]
        native = _fps(stream.average_rate) or _fps(stream.guessed_rate)
        total = _av_header_frames(stream)
        if not _av_plausible(total, stream, native):
            total = 0
    except BaseException:
        spare[0].close()
        raise

    def container() -> Any:
        return spare.pop() if spare else open_()

    def count() -> int:
        with container() as c:
            return sum(1 for packet in c.demux(c.streams.video[0]) if packet.size)

    def scan(wanted: list[int]) -> tuple[dict[int, tuple[np.ndarray, float | None]], int, bool]:
        if total > 0 and native and _sparse(wanted, native):
            with container() as c:
                found = _av_seek_scan(c, wanted, native)
            if found is not None:
                return found
        want, last = set(wanted), max(wanted)
        got: dict[int, tuple[np.ndarray, float | None]] = {}
        seen, t0 = 0, None
        with container() as c:
            video = c.streams.video[0]
            video.thread_type = "AUTO"
            if _decoder_threads:
                video.thread_count = _decoder_threads
            for i, frame in enumerate(c.decode(video)):
                seen = i + 1
                if i == 0:
                    t0 = frame.time
                if i in want:
                    t = frame.time
                    got[i] = (frame.to_ndarray(format="rgb24"), None if t is None or t0 is None else t - t0)
                if i >= last:
                    return got, seen, False
        return got, seen, True

    try:
        return sequential_read(pick, total, native, count, scan)
    finally:
        for c in spare:
            c.close()


def _sparse(wanted: list[int], native: float) -> bool:
    """Whether some wanted frame lies more than ``SEEK_GAP_SECONDS`` after the one before it (or the start)."""
    gap = SEEK_GAP_SECONDS * native
    previous = 0
    for index in sorted(set(wanted)):
        if index - previous > gap:
            return True
        previous = index
    return False


def _av_seek_scan(
    c: Any, wanted: list[int], native: float
) -> tuple[dict[int, tuple[np.ndarray, float | None]], int, bool] | None:
    """The wanted frames, seeking to the keyframe before each one that lies more than
    ``SEEK_GAP_SECONDS`` past the last frame decoded. A frame's index is its presentation time from
    the first frame's, times the rate; None (read sequentially instead) as soon as a decoded frame's
    time is not a whole frame, or frames after one another are not consecutive: a variable-rate or
    irregular stream, where only counting frames is exact."""
    video = c.streams.video[0]
    video.thread_type = "AUTO"
    if _decoder_threads:
        video.thread_count = _decoder_threads
    base = video.time_base
    frames = c.decode(video)
    first = next(frames, None)
    if first is None or first.pts is None or not base:
        return None
    origin = float(first.pts * base)
    targets = sorted(set(wanted))
    got: dict[int, tuple[np.ndarray, float | None]] = {}
    gap = SEEK_GAP_SECONDS * native
    frame, last, k, expect, sought = first, -1, 0, None, -1
    while k < len(targets):
        target = targets[k]
        if target - last > gap and sought != target:  # far ahead: jump to the keyframe before it
            sought = target
            c.seek(int((origin + target / native) / base), stream=video, backward=True, any_frame=False)
            frames, expect = c.decode(video), None
            frame = next(frames, None)
        elif frame is None or last >= 0:
            frame = next(frames, None)
        if frame is None:
            return got, last + 1, True
        if frame.pts is None:
            return None
        seconds = float(frame.pts * base) - origin
        position = seconds * native
        index = int(round(position))
        if abs(position - index) > 0.25 or (expect is not None and index != expect) or index > target:
            return None
        expect, last = index + 1, index
        if index == target:
            got[index] = (frame.to_ndarray(format="rgb24"), seconds)
            k += 1
    return got, last + 1, False


# --------------------------------------------------------------------------- decord


def read_decord(source: Source, pick: Pick) -> Decoded:
    """decord: random access to the wanted frames through its frame index."""
    import decord

    reader = decord.VideoReader(
        io.BytesIO(source) if isinstance(source, bytes) else source, ctx=decord.cpu(0), num_threads=_decoder_threads
    )
    total = len(reader)
    if total <= 0:
        raise ValueError("the video has no frames")
    native = _fps(reader.get_avg_fps())
    wanted = pick(total, native)
    frames = reader.get_batch(wanted).asnumpy()
    stamps = reader.get_frame_timestamp(wanted)[:, 0] - reader.get_frame_timestamp([0])[0, 0]
    return Decoded(list(frames), wanted, [float(t) for t in stamps], total, native)


# --------------------------------------------------------------------------- torchcodec


def read_torchcodec(source: Source, pick: Pick) -> Decoded:
    """torchcodec (imports torch): exact-mode random access to the wanted frames."""
    from torchcodec.decoders import VideoDecoder

    decoder = VideoDecoder(source, seek_mode="exact", dimension_order="NHWC", num_ffmpeg_threads=_decoder_threads)
    meta = decoder.metadata
    total = int(meta.num_frames or 0)
    if total <= 0:
        raise ValueError("the video has no frames")
    native = _fps(meta.average_fps)
    wanted = pick(total, native)
    batch = decoder.get_frames_at(indices=wanted)
    frames = batch.data.numpy()
    start = float(meta.begin_stream_seconds or 0.0)
    return Decoded(list(frames), wanted, [float(t) - start for t in batch.pts_seconds.tolist()], total, native)


# --------------------------------------------------------------------------- OpenCV


def _read_opencv_path(path: str, pick: Pick) -> Decoded:
    import cv2

    def capture() -> Any:
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            cap.release()
            raise ValueError("OpenCV cannot open the file")
        return cap

    cap = capture()
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    native = _fps(cap.get(cv2.CAP_PROP_FPS))
    cap.release()

    def count() -> int:
        cap, n = capture(), 0
        try:
            while cap.grab():
                n += 1
        finally:
            cap.release()
        return n

    def scan(wanted: list[int]) -> tuple[dict[int, tuple[np.ndarray, float | None]], int, bool]:
        want, last = set(wanted), max(wanted)
        got: dict[int, tuple[np.ndarray, float | None]] = {}
        cap, i, t0 = capture(), 0, None
        try:
            while cap.grab():
                msec = cap.get(cv2.CAP_PROP_POS_MSEC)
                if i == 0:
                    t0 = msec
                if i in want:
                    ok, bgr = cap.retrieve()
                    if ok:
                        got[i] = (
                            cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
                            (msec - t0) / 1000.0 if t0 is not None else None,
                        )
                i += 1
                if i > last:
                    return got, i, False
        finally:
            cap.release()
        return got, i, True

    return sequential_read(pick, total, native, count, scan)


def read_opencv(source: Source, pick: Pick) -> Decoded:
    """OpenCV: sequential ``grab``, ``retrieve`` only the wanted frames (bytes go through a temp file)."""
    if not isinstance(source, bytes):
        return _read_opencv_path(source, pick)
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="lmms_eval_video_")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(source)
        return _read_opencv_path(path, pick)
    finally:
        os.unlink(path)


READERS: dict[str, Callable[[Source, Pick], Decoded]] = {
    "av": read_av,
    "decord": read_decord,
    "torchcodec": read_torchcodec,
    "opencv": read_opencv,
}
