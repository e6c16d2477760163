"""EgoLife's week as a timeline of 30-second clips, and frame times that never pass the question.

Clips are named ``DAY{d}_{A#_NAME}_{HHMMSSFF}.mp4`` (``lmms-lab/EgoLife``: ``A1_JAKE/DAY2/
DAY2_A1_JAKE_11000000.mp4``); ``HHMMSSFF`` is the start, ``FF`` a frame number at 20 frames per
second (0-19). A question is asked at ``query_time`` ``{date: "DAY1", time: "HHMMSSFF"}``: only video
recorded strictly before it may be used.

:func:`frame_times` spreads ``n`` frames evenly over the RECORDED time before the question (the
clips' durations joined end to end, gaps between recordings skipped), optionally only within a
window (the question's day, or the last ``hours``), and maps each to ``(clip, offset in the
clip)``; the part of a clip after the question is cut off first, so no offset reaches it. The
selection needs the clip names only: decoding then reads just those clips at those offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FPS_FF = 20  # the FF field counts frames at 20 per second
CLIP_SECONDS = 30.0
_CLIP = re.compile(r"DAY(\d+)_(A\d+_[A-Z]+)_(\d{8})\.mp4$")
_DAY = re.compile(r"DAY(\d+)$")


def seconds_of(hhmmssff: str) -> float:
    """``HHMMSSFF`` as seconds of the day (FF = frames at 20 per second)."""
    text = str(hhmmssff).strip()
    if not re.fullmatch(r"\d{8}", text):
        raise ValueError(f"time {hhmmssff!r} is not HHMMSSFF")
    hh, mm, ss, ff = int(text[:2]), int(text[2:4]), int(text[4:6]), int(text[6:])
    if mm > 59 or ss > 59 or ff >= FPS_FF:
        raise ValueError(f"time {hhmmssff!r} is out of range")
    return hh * 3600 + mm * 60 + ss + ff / FPS_FF


@dataclass(frozen=True, order=True)
class Moment:
    """A point of the week: day number and seconds into that day (ordered)."""

    day: int
    seconds: float

    @classmethod
    def of(cls, date: str, time: str) -> Moment:
        found = _DAY.fullmatch(str(date).strip())
        if not found:
            raise ValueError(f"date {date!r} is not DAYn")
        return cls(int(found.group(1)), seconds_of(time))


@dataclass(frozen=True, order=True)
class Clip:
    """One clip: its start and length, and its file name (relative path in the repository)."""

    start: Moment
    length: float
    name: str


def parse_clips(names: Iterable[str], length: float = CLIP_SECONDS) -> list[Clip]:
    """The clips among ``names`` (other files are ignored), in time order."""
    clips = []
    for name in names:
        found = _CLIP.search(str(name))
        if found:
            clips.append(Clip(Moment(int(found.group(1)), seconds_of(found.group(3))), length, str(name)))
    return sorted(clips)


def usable(clips: Sequence[Clip], query: Moment, since: Moment | None = None) -> list[tuple[Clip, float, float]]:
    """``(clip, first usable offset, end offset)`` of every clip with video strictly before ``query``
    (and after ``since``): a clip running past the question is cut at it."""
    out = []
    for clip in clips:
        if clip.start >= query:
            continue
        end = clip.length
        if clip.start.day == query.day:
            end = min(end, query.seconds - clip.start.seconds)
        begin = 0.0
        if since is not None:
            if clip.start.day < since.day or (
                clip.start.day == since.day and clip.start.seconds + clip.length <= since.seconds
            ):
                continue
            if clip.start.day == since.day:
                begin = max(0.0, since.seconds - clip.start.seconds)
        if end > begin:
            out.append((clip, begin, end))
    return out


def window_start(query: Moment, window: str | None) -> Moment | None:
    """Where a window starts: ``None``/``"week"`` (everything before), ``"day"`` (the question's
    day), or ``"<h>h"`` (the last h hours of the question's day)."""
    if window in (None, "week"):
        return None
    if window == "day":
        return Moment(query.day, 0.0)
    found = re.fullmatch(r"(\d+(?:\.\d+)?)h", str(window))
    if not found:
        raise ValueError(f"window {window!r}: use week, day or <hours>h (e.g. 1h)")
    return Moment(query.day, max(0.0, query.seconds - 3600 * float(found.group(1))))


def frame_times(
    clips: Sequence[Clip], query: Moment, n: int, window: str | None = None, fps: float | None = None
) -> list[tuple[Clip, float]]:
    """``n`` frames spread evenly over the recorded time before ``query`` within ``window``: the
    centre of each of ``n`` equal parts of that time, as ``(clip, offset in seconds)``, in time
    order. With ``fps``, one frame per ``1 / fps`` seconds of recorded time, at most ``n`` (more
    time than that: ``n`` spread evenly, as LLaVA-Video caps its 1 fps sampling)."""
    if n < 1:
        raise ValueError(f"frames must be >= 1, got {n}")
    if fps is not None and fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    parts = usable(clips, query, window_start(query, window))
    total = sum(end - begin for _, begin, end in parts)
    if total <= 0:
        return []
    if fps is not None:
        n = min(n, max(1, int(total * fps)))
    out: list[tuple[Clip, float]] = []
    step = total / n
    targets = [step * (i + 0.5) for i in range(n)]
    passed, k = 0.0, 0
    for clip, begin, end in parts:
        span = end - begin
        while k < len(targets) and targets[k] < passed + span:
            out.append((clip, begin + targets[k] - passed))
            k += 1
        passed += span
    return out
