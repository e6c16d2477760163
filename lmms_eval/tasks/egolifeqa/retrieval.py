"""EgoRAG-style retrieval over EgoLife's week: captions of the clips, searched day -> hour -> clip,
never past the question.

The index holds one caption per 30-second clip (supplied by the user, or made once by a
captioning model with ``python -m lmms_eval.tasks.egolifeqa.captions``), embedded with
all-MiniLM-L6-v2 (:mod:`lmms_eval.tools.embedding`, offline). :func:`search`, in order:

1. candidates: the clips with video strictly before ``query_time`` (:func:`timeline.usable`);
   a clip without a caption cannot be found and is counted in ``uncaptioned``;
2. each candidate's score: cosine similarity of its caption to the query (the question and its
   four choices: EgoRAG queries with the row's ``keywords``, an evidence field never read here);
3. days: a day scores its best clip; the ``days`` best days are kept;
4. hours (clock hours of those days): an hour scores its best clip; the ``hours`` best are kept;
5. clips: the ``k`` best clips of those hours, shown in time order.

Ties break towards the later moment (nearer the question). Every level's candidates and choice
are returned for the sample record. :class:`RetrievalCache` stores each search under a key of
the query, its time, the parameters and the index's fingerprint, in ``retrievals.jsonl`` beside
the index: a run is replayed from it exactly, without the embedding model.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmms_eval.api.errors import DatasetError
from lmms_eval.tasks.egolifeqa.timeline import Clip, Moment, usable

CACHE_FILE = "retrievals.jsonl"


def clock(moment: Moment) -> str:
    """``DAYn HH:MM:SS`` of a moment."""
    whole = int(moment.seconds)
    return f"DAY{moment.day} {whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def read_captions(path: str | os.PathLike[str]) -> dict[str, str]:
    """Captions by clip file name from a JSONL file of ``{"clip": name, "caption": text}`` lines or
    a JSON object ``{name: text}`` (a name may carry its folders: only the file name is kept)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(
            f"cannot read captions {source} ({exc.strerror}): pass captions=<file> that exists"
        ) from None
    pairs: Iterable[tuple[Any, Any]]
    if source.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"captions {source} is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise DatasetError(f"captions {source}: expected an object {{clip file name: caption}}")
        pairs = data.items()
    else:
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append((row["clip"], row["caption"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DatasetError(
                    f'captions {source} line {number}: expected {{"clip": <file name>, "caption": <text>}}'
                ) from None
        pairs = rows
    return {os.path.basename(str(name)): str(caption) for name, caption in pairs}


class CaptionIndex:
    """The captioned clips (time order) and their caption embeddings, computed on first use (a
    replay from the cache never needs them)."""

    def __init__(self, clips: Sequence[Clip], captions: Mapping[str, str], model_tag: str, encode: Any) -> None:
        """``captions`` by clip file name; ``encode(texts) -> (n, d)`` unit rows."""
        self.clips = tuple(clip for clip in clips if os.path.basename(clip.name) in captions)
        self.captions = tuple(captions[os.path.basename(clip.name)] for clip in self.clips)
        self.encode = encode
        digest = hashlib.sha256(model_tag.encode())
        for clip, caption in zip(self.clips, self.captions, strict=True):
            digest.update(f"\0{os.path.basename(clip.name)}\0{caption}".encode())
        self.fingerprint = digest.hexdigest()[:16]
        """sha256 of the captions and the embedding model: part of every cache key."""
        self._lock = threading.Lock()
        self._vectors: Any = None

    @property
    def vectors(self) -> Any:
        with self._lock:
            if self._vectors is None:
                self._vectors = self.encode(list(self.captions))
            return self._vectors


@dataclass(frozen=True)
class SearchSettings:
    """How many days, hours and clips each level keeps."""

    days: int = 1
    hours: int = 2
    k: int = 3

    def __post_init__(self) -> None:
        if min(self.days, self.hours, self.k) < 1:
            raise ValueError(f"retrieval days, hours and k must be >= 1, got {self.days}, {self.hours}, {self.k}")


def _best(scores: Mapping[Any, float], n: int) -> list[Any]:
    """The ``n`` best keys by score, ties towards the larger (later) key."""
    return sorted(scores, key=lambda key: (scores[key], key), reverse=True)[:n]


def _hour(clip: Clip) -> tuple[int, int]:
    return clip.start.day, int(clip.start.seconds // 3600)


def search(
    index: CaptionIndex,
    query: str,
    query_vector: Any,
    when: Moment,
    settings: SearchSettings,
    all_clips: Sequence[Clip],
) -> dict[str, Any]:
    """Day -> hour -> clip search among the clips before ``when`` (see the module docstring).

    Returns the JSON record of the search: ``query``, ``query_time``, ``settings``, per level the
    candidates with scores and the chosen ones, ``uncaptioned`` (clips before the question with no
    caption) and ``chosen`` (clip file, start, caption, score; in time order)."""
    before = {clip.name for clip, _, _ in usable(all_clips, when)}
    rows = [i for i, clip in enumerate(index.clips) if clip.name in before]
    scores = {i: float(index.vectors[i] @ query_vector) for i in rows}
    day_scores: dict[int, float] = {}
    for i in rows:
        day = index.clips[i].start.day
        day_scores[day] = max(day_scores.get(day, -2.0), scores[i])
    days = _best(day_scores, settings.days)
    hour_scores: dict[tuple[int, int], float] = {}
    for i in rows:
        if index.clips[i].start.day in days:
            key = _hour(index.clips[i])
            hour_scores[key] = max(hour_scores.get(key, -2.0), scores[i])
    hours = _best(hour_scores, settings.hours)
    in_hours = {i: scores[i] for i in rows if _hour(index.clips[i]) in hours}
    picked = _best(in_hours, settings.k)  # rows are in time order: a larger row is a later clip
    return {
        "query": query,
        "query_time": clock(when),
        "index": index.fingerprint,
        "settings": {"days": settings.days, "hours": settings.hours, "k": settings.k},
        "days": {"candidates": {f"DAY{d}": round(s, 4) for d, s in sorted(day_scores.items())}, "chosen": days},
        "hours": {
            "candidates": {f"DAY{d} {h:02d}h": round(s, 4) for (d, h), s in sorted(hour_scores.items())},
            "chosen": [f"DAY{d} {h:02d}h" for d, h in hours],
        },
        "clips": {"candidates": len(in_hours)},
        "uncaptioned": len(before) - len(rows),
        "chosen": [
            {
                "clip": index.clips[i].name,
                "start": clock(index.clips[i].start),
                "caption": index.captions[i],
                "score": round(scores[i], 4),
            }
            for i in sorted(picked, key=lambda i: index.clips[i].start)
        ],
    }


class RetrievalCache:
    """Searches by key, in ``<folder>/retrievals.jsonl`` (one JSON line each, appended and flushed)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / CACHE_FILE
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] | None = None

    @staticmethod
    def key(query: str, when: Moment, settings: SearchSettings, fingerprint: str) -> str:
        text = json.dumps([query, clock(when), when.seconds, settings.days, settings.hours, settings.k, fingerprint])
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            entries: dict[str, dict[str, Any]] = {}
            if self.path.exists():
                for line in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        row = json.loads(line)
                        entries[row["key"]] = row["search"]
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a line cut by a crash: that search is made again
            self._entries = entries
        return self._entries

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._load().get(key)

    def put(self, key: str, found: dict[str, Any]) -> None:
        with self._lock:
            entries = self._load()
            if key in entries:
                return
            entries[key] = found
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "search": found}, ensure_ascii=False) + "\n")
                fh.flush()
