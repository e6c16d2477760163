"""EgoLifeQA: the video before the question (frames or retrieval mode) and the prompt.

``mode: frames`` (default) spreads frames over the week before the question; ``mode: retrieval``
(prompt variant ``rag``) searches the clips' captions day -> hour -> clip
(:mod:`~lmms_eval.tasks.egolifeqa.retrieval`) and shows the chosen clips' frames and captions;
the search is the sample record's ``context`` (``doc_to_context``) and is cached for replay.

Only the clips that hold a chosen instant are fetched (:class:`~lmms_eval.tasks.hub_videos.HubFiles`,
one file each), and only those instants are decoded (``Video.segments``: one video made of the
instants of several clips), in the engine's media workers, never while the prompt is built.
Every instant lies strictly before ``query_time``
(:func:`~lmms_eval.tasks.egolifeqa.timeline.frame_times`). The evidence fields of a row
(``keywords``, ``reason``, ``target_time``, ``trigger``) are never read here.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Video
from lmms_eval.tasks.egolifeqa.retrieval import CaptionIndex, RetrievalCache, SearchSettings, read_captions, search
from lmms_eval.tasks.egolifeqa.timeline import Clip, Moment, frame_times, parse_clips, usable
from lmms_eval.tasks.hub_videos import HubFiles, cache_root

REPO_ID = "lmms-lab/EgoLife"
FILES = HubFiles(REPO_ID)
LETTERS = "ABCD"


@functools.cache
def clips_of(person: str) -> tuple[Clip, ...]:
    """The person's clips (``<person>/DAY*/DAY*_<person>_HHMMSSFF.mp4``), in time order."""
    return tuple(parse_clips(FILES.names(f"{person}/DAY*/*.mp4")))


def query_moment(doc: Mapping[str, Any]) -> Moment:
    query = doc.get("query_time") or {}
    try:
        return Moment.of(query["date"], query["time"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SampleError(
            f"EgoLifeQA {doc.get('ID')!r}: query_time {query!r} is not {{date: DAYn, time: HHMMSSFF}} ({exc})"
        ) from None


def person_clips(kwargs: Mapping[str, Any]) -> tuple[str, tuple[Clip, ...]]:
    person = str(kwargs.get("person", "A1_JAKE"))
    clips = clips_of(person)
    if not clips:
        raise SampleError(f"no clips of {person} in {REPO_ID} (expected {person}/DAYn/DAYn_{person}_HHMMSSFF.mp4)")
    return person, clips


def default_captions(person: str) -> Path:
    """Where ``python -m lmms_eval.tasks.egolifeqa.captions`` writes a person's captions by default."""
    return cache_root().parent / "egolifeqa" / f"captions_{person}.jsonl"


@functools.cache
def caption_index(person: str, captions: str) -> CaptionIndex:
    """The person's captioned clips, embedded on first search (all-MiniLM-L6-v2, offline)."""
    from lmms_eval.tools import embedding

    return CaptionIndex(clips_of(person), read_captions(captions), embedding.model_tag(), embedding.encode)


@functools.cache
def retrieval_cache(folder: str) -> RetrievalCache:
    return RetrievalCache(folder)


_SEARCHES: dict[tuple[Any, ...], dict[str, Any]] = {}
_SEARCH_LOCK = threading.Lock()


def query_text(doc: Mapping[str, Any]) -> str:
    """The retrieval query: the question and its four choices (never the evidence fields)."""
    return " ".join([str(doc["question"]), *(str(doc[f"choice_{letter.lower()}"]) for letter in LETTERS)])


def retrieve(doc: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The day -> hour -> clip search of one question (from the cache when it holds it)."""
    person, clips = person_clips(kwargs)
    captions = str(kwargs.get("captions") or default_captions(person))
    settings = SearchSettings(int(kwargs.get("days", 1)), int(kwargs.get("hours", 2)), int(kwargs.get("k", 3)))
    when, text = query_moment(doc), query_text(doc)
    memo = (person, captions, settings, when, text)
    with _SEARCH_LOCK:
        if memo in _SEARCHES:
            return _SEARCHES[memo]
    if not os.path.exists(captions):
        raise SampleError(
            f"EgoLifeQA retrieval needs captions of {person}'s clips at {captions}: make them with "
            "`python -m lmms_eval.tasks.egolifeqa.captions --model ... --out <file>` or set captions: <file>"
        )
    index = caption_index(person, captions)
    cache = retrieval_cache(str(kwargs.get("cache_dir") or Path(captions).with_suffix(".retrievals")))
    key = RetrievalCache.key(text, when, settings, index.fingerprint)
    found = cache.get(key)
    if found is None:
        from lmms_eval.tools import embedding

        found = search(index, text, embedding.encode([text])[0], when, settings, clips)
        cache.put(key, found)
    with _SEARCH_LOCK:
        _SEARCHES[memo] = found
    return found


def retrieval_segments(
    found: Mapping[str, Any], clips: tuple[Clip, ...], when: Moment, per_clip: int
) -> list[tuple[str, list[float]]]:
    """``per_clip`` instants at the centres of equal parts of each chosen clip's time before the question."""
    chosen = {row["clip"] for row in found["chosen"]}
    out = []
    for clip, begin, end in usable([c for c in clips if c.name in chosen], when):
        step = (end - begin) / per_clip
        out.append((clip.name, [begin + step * (i + 0.5) for i in range(per_clip)]))
    return out


def doc_to_context(
    doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """Retrieval mode: the search (query, candidates per level, chosen clips) for the sample record."""
    kwargs = lmms_eval_specific_kwargs or {}
    return {"retrieval": retrieve(doc, kwargs)} if kwargs.get("mode") == "retrieval" else None


def doc_to_video(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> list[Video]:
    """One video: the chosen instants of each clip that holds one (``Video.segments``), in time order."""
    kwargs = lmms_eval_specific_kwargs or {}
    person, clips = person_clips(kwargs)
    query = query_moment(doc)
    if kwargs.get("mode") == "retrieval":
        found = retrieve(doc, kwargs)
        if not found["chosen"]:
            raise SampleError(f"EgoLifeQA {doc.get('ID')!r}: no captioned clip of {person} before its query_time")
        pieces = retrieval_segments(found, clips, query, int(kwargs.get("frames_per_clip", 8)))
        return [Video(segments=[(FILES.fetch(name), times) for name, times in pieces])]
    fps = kwargs.get("fps")
    chosen = frame_times(
        clips, query, int(kwargs.get("frames", 32)), kwargs.get("window"), None if fps is None else float(fps)
    )
    if not chosen:
        raise SampleError(f"EgoLifeQA {doc.get('ID')!r}: no video of {person} before its query_time")
    segments: list[tuple[str, list[float]]] = []
    for clip, offset in chosen:
        if segments and segments[-1][0] == clip.name:
            segments[-1][1].append(offset)
        else:
            segments.append((clip.name, [offset]))
    # fetched after choosing: only the clips that are shown
    return [Video(segments=[(FILES.fetch(name), times) for name, times in segments])]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + ``\\nA. ...`` .. ``\\nD. ...`` + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "".join(f"\n{letter}. {doc[f'choice_{letter.lower()}']}" for letter in LETTERS)
    context = ""
    if kwargs.get("mode") == "retrieval" and kwargs.get("show_captions", True):
        lines = [f"{row['start']}: {row['caption']}" for row in retrieve(doc, kwargs)["chosen"]]
        context = "Captions of the moments shown, retrieved from the video before the question:\n"
        context += "\n".join(lines) + "\n"
    return f"{kwargs.get('pre_prompt', '')}{context}{doc['question']}{options}{kwargs.get('post_prompt', '')}"
