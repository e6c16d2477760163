"""Video-MME's subtitle setting: which frames, which subtitle lines, and where the ``.srt`` files are.

The rule is the one of the frame/subtitle slicer that BradyFU/Video-MME's README links for this
setting (``look4u-ok/video-slicer`` @ aff7000 ``slice_and_extract.py``, which reads the ``.srt``
with ``pysubs2``), reimplemented here without that package:

1. frames: ``n`` frames of a video of ``total`` frames, the middle of each of ``n`` equal segments:
   ``seg = (total - 1) / n``; frame ``i`` is ``(round(seg * i) + round(seg * (i + 1))) // 2``
   (round half to even, as ``np.round``; :func:`official_frame_indices`);
2. the instant of frame ``k``: ``round(k * 1000 / fps)`` milliseconds (``pysubs2.make_time``);
3. per frame, in frame order: the FIRST cue of the file (file order, no sorting) with
   ``start < instant < end`` (both strict); its text with pysubs2's line breaks (``\\N``) made
   spaces; kept only when not blank. Nothing is de-duplicated: two frames inside one cue give its
   line twice (:func:`subtitle_lines`);
4. the kept lines joined with ``\\n``; a video without a subtitle file has no lines (empty text).

:func:`parse_srt` reads a SubRip file as ``pysubs2`` does (its ``SubripFormat.from_file``): a cue
starts at a line holding exactly two ``H:M:S,mmm`` timestamps, the following lines are its text,
stripped, with the next cue's number dropped; ``<i> <s> <u> <b>`` become SubStation tags
(``{\\i1}`` ...), every other HTML-like tag (Video-MME's ``<font ...>``) is removed, and line
breaks become ``\\N``.
"""

from __future__ import annotations

import fnmatch
import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lmms_eval.api.errors import DatasetError, SampleError
from lmms_eval.tasks.hub_videos import HubVideos, cache_root, extract

_TIMESTAMP = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2})[.,](\d{1,3})")
_STYLE_TAGS = (
    (r"< *i *>", r"{\\i1}"),
    (r"< */ *i *>", r"{\\i0}"),
    (r"< *s *>", r"{\\s1}"),
    (r"< */ *s *>", r"{\\s0}"),
    (r"< *u *>", r"{\\u1}"),
    (r"< */ *u *>", r"{\\u0}"),
    (r"< *b *>", r"{\\b1}"),
    (r"< */ *b *>", r"{\\b0}"),
)


@dataclass(frozen=True)
class Cue:
    """One subtitle: milliseconds from the video's start, and its text (line breaks as ``\\N``)."""

    start: int
    end: int
    text: str


def _ms(groups: Sequence[str]) -> int:
    h, m, s, frac = (int(g) for g in groups)
    return ((h * 60 + m) * 60 + s) * 1000 + frac * 10 ** (3 - len(groups[3]))


def _cue_text(lines: list[str]) -> str:
    # a timestamp line followed by blank lines, then the next cue's number: an empty cue
    if len(lines) >= 2 and all(not line.strip() for line in lines[:-1]) and re.match(r"\s*\d+\s*$", lines[-1]):
        return ""
    text = "".join(lines).strip()
    text = re.sub(r"\n+ *\d+ *$", "", text)  # the next cue's number
    for pattern, replacement in _STYLE_TAGS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"< */? *[a-zA-Z][^>]*>", "", text)  # any other tag (<font ...>)
    return re.sub(r"\n", r"\\N", text)


def parse_srt(text: str) -> list[Cue]:
    """The cues of a SubRip file's text, in file order (see the module docstring)."""
    stamps: list[tuple[int, int]] = []
    following: list[list[str]] = []
    for line in io.StringIO(text):  # split at "\n" only, line ends kept (as iterating a file)
        found = _TIMESTAMP.findall(line)
        if len(found) == 2:
            stamps.append((_ms(found[0]), _ms(found[1])))
            following.append([])
        elif stamps:
            following[-1].append(line)
    return [Cue(start, end, _cue_text(lines)) for (start, end), lines in zip(stamps, following, strict=True)]


def read_srt(path: str | Path) -> list[Cue]:
    """The cues of a ``.srt`` file (UTF-8, universal newlines)."""
    return parse_srt(Path(path).read_text(encoding="utf-8"))


def official_frame_indices(total: int, n: int) -> list[int]:
    """``n`` frame indices of a ``total``-frame video: the middle of each of ``n`` equal segments."""
    if total < 1 or n < 1:
        raise ValueError(f"need a video with frames and at least one frame to pick (total={total}, n={n})")
    seg = (total - 1) / n
    return [(round(seg * i) + round(seg * (i + 1))) // 2 for i in range(n)]


def frame_instant_ms(index: int, fps: float) -> int:
    """The official instant of frame ``index``: milliseconds, rounded (``pysubs2.make_time``)."""
    return int(round(index * (1000 / fps)))


def subtitle_lines(cues: Sequence[Cue], instants_ms: Sequence[int]) -> list[str]:
    """Per instant, the first cue with ``start < t < end`` (its text, ``\\N`` as a space), if not blank."""
    lines = []
    for t in instants_ms:
        text = next((cue.text.replace("\\N", " ") for cue in cues if cue.start < t < cue.end), "")
        if text.strip():
            lines.append(text)
    return lines


class HubSubtitles(HubVideos):
    """The ``.srt`` files of hub dataset ``repo_id`` inside the archives matching ``patterns``,
    extracted once beside the videos (``$LMMS_EVAL_CACHE/videos/<repo>/<archive>/``) and found by
    file name. A name no archive holds is no subtitle (:meth:`find` returns None): not every
    video has one."""

    def __init__(self, repo_id: str, patterns: Sequence[str], revision: str | None = None) -> None:
        super().__init__(repo_id, patterns, revision)
        self._cues: dict[str, list[Cue]] = {}
        self._cue_lock = threading.Lock()

    def _build(self) -> dict[str, str]:
        root = self._repo_folder()
        archives = [
            p
            for p in sorted(root.rglob("*"))
            if p.is_file() and any(fnmatch.fnmatch(p.relative_to(root).as_posix(), pat) for pat in self.patterns)
        ]
        if not archives:
            raise DatasetError(
                f"no file matching {', '.join(self.patterns)} under {root} (the subtitles of {self.repo_id}); "
                "the download is incomplete or the folder is not a copy of the repository"
            )
        index: dict[str, str] = {}
        for archive in archives:
            self._archives.append(archive.name)
            folder = extract(archive, cache_root() / self.repo_id)
            for found in sorted(folder.rglob("*.srt")):
                if found.is_file() and not found.name.startswith("._"):
                    index.setdefault(found.name, str(found))
        return index

    def find(self, name: str) -> str | None:
        """The local path of subtitle file ``name``, or None when the archives hold none."""
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index.get(name)

    def cues(self, name: str) -> list[Cue] | None:
        """The parsed cues of subtitle file ``name`` (read once), or None when there is none."""
        path = self.find(name)
        if path is None:
            return None
        with self._cue_lock:
            if path not in self._cues:
                try:
                    self._cues[path] = read_srt(path)
                except (OSError, UnicodeDecodeError) as exc:
                    raise SampleError(f"cannot read subtitle file {path} ({exc}); extract it again") from None
            return self._cues[path]
