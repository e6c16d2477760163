"""EgoLifeQA in frames mode: frames spread over the week before the question, and the prompt.

Only the clips that hold a chosen instant are fetched (:class:`~lmms_eval.tasks.hub_videos.HubFiles`,
one file each), and only those instants are decoded (``Video.segments``: one video made of the
instants of several clips), in the engine's media workers, never while the prompt is built.
Every instant lies strictly before ``query_time``
(:func:`~lmms_eval.tasks.egolifeqa.timeline.frame_times`). The evidence fields of a row
(``keywords``, ``reason``, ``target_time``, ``trigger``) are never read here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Video
from lmms_eval.tasks.egolifeqa.timeline import Clip, Moment, frame_times, parse_clips
from lmms_eval.tasks.hub_videos import HubFiles

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


def doc_to_video(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> list[Video]:
    """One video: the chosen instants of each clip that holds one (``Video.segments``), in time order."""
    kwargs = lmms_eval_specific_kwargs or {}
    person = str(kwargs.get("person", "A1_JAKE"))
    query = query_moment(doc)
    clips = clips_of(person)
    if not clips:
        raise SampleError(f"no clips of {person} in {REPO_ID} (expected {person}/DAYn/DAYn_{person}_HHMMSSFF.mp4)")
    chosen = frame_times(clips, query, int(kwargs.get("frames", 32)), kwargs.get("window"))
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
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{options}{kwargs.get('post_prompt', '')}"
