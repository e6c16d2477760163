"""Video-MME: the video of a row by its ``videoID``, the official prompt, and the subtitle setting.

The annotations (``videomme/test-00000-of-00001.parquet``) and the videos (``videos_chunked_*.zip``,
``<videoID>.mp4`` inside) are separate files of ``lmms-lab/Video-MME``; the videos are fetched and
extracted once by :class:`lmms_eval.tasks.hub_videos.HubVideos`, the subtitles (``subtitle.zip``,
``<videoID>.srt`` inside; not every video has one) by
:class:`lmms_eval.tasks.videomme.subtitles.HubSubtitles`.

With subtitles (``videomme_w_subtitle``) the task fixes the frames itself, so that the subtitle
lines in the prompt are those of the frames the model gets, whatever the adapter's own sampling:
``frames`` official frame indices (:func:`~lmms_eval.tasks.videomme.subtitles.official_frame_indices`)
of the video's frame count, given to the model as the instants ``(k + 0.5) / fps`` (the middle of
frame ``k``'s display time, so every reader decodes exactly frame ``k``) in ``Video.segments``, and
the subtitle lines at the official instants ``round(k * 1000 / fps)`` ms of the same frames.
The frame count and rate are read once per video from its header (one frame decoded).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lmms_eval.api.errors import ConfigError, SampleError
from lmms_eval.api.messages import Video
from lmms_eval.tasks.hub_videos import HubVideos
from lmms_eval.tasks.videomme.subtitles import HubSubtitles, frame_instant_ms, official_frame_indices, subtitle_lines

REPO_ID = "lmms-lab/Video-MME"
VIDEOS = HubVideos(REPO_ID, ["videos_chunked_*.zip"])
SUBTITLES = HubSubtitles(REPO_ID, ["subtitle.zip"])
DEFAULT_FRAMES = 32


def doc_to_video(doc: Mapping[str, Any]) -> list[str]:
    """The row's video file (``<videoID>.mp4`` from the repository's video archives)."""
    return [VIDEOS.path(f"{doc['videoID']}.mp4")]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + one line per option as stored (``A. ...``) + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(str(option) for option in doc["options"])
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}{kwargs.get('post_prompt', '')}"


@functools.lru_cache(maxsize=8192)
def video_timing(path: str) -> tuple[int, float]:
    """``(frame count, frames per second)`` of a video file, as the harness's reader sees them."""
    from lmms_eval.media.video import read_video

    clip = read_video(path, lambda total, native: [0], where=f"Video-MME video {Path(path).name}")
    if not clip.native_fps:
        raise SampleError(f"Video-MME video {path} has no frame rate: its frames cannot be matched to subtitles")
    return clip.total_frames, float(clip.native_fps)


def frame_count(kwargs: Mapping[str, Any]) -> int:
    """The ``frames`` prompt kwarg (default 32), checked."""
    value = kwargs.get("frames", DEFAULT_FRAMES)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"videomme_w_subtitle: lmms_eval_specific_kwargs frames must be a whole number >= 1, got {value!r}"
        )
    return value


def chosen_frames(doc: Mapping[str, Any], kwargs: Mapping[str, Any]) -> tuple[str, list[int], float]:
    """The row's video path, its official frame indices and its frame rate."""
    path = VIDEOS.path(f"{doc['videoID']}.mp4")
    total, fps = video_timing(path)
    return path, official_frame_indices(total, frame_count(kwargs)), fps


def doc_to_video_frames(
    doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None
) -> list[Video]:
    """The row's video, only its official frames: each at the middle of its display time."""
    path, indices, fps = chosen_frames(doc, lmms_eval_specific_kwargs or {})
    return [Video(segments=[(path, [(k + 0.5) / fps for k in indices])])]


def subtitles_of(doc: Mapping[str, Any], kwargs: Mapping[str, Any]) -> list[str]:
    """The subtitle lines at the chosen frames' instants (none when the video has no ``.srt``)."""
    cues = SUBTITLES.cues(f"{doc['videoID']}.srt")
    if cues is None:
        return []
    _, indices, fps = chosen_frames(doc, kwargs)
    return subtitle_lines(cues, [frame_instant_ms(k, fps) for k in indices])


def doc_to_text_subtitles(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{subtitle_prompt}`` + the subtitle lines (one per line) + ``\\n`` + the prompt of :func:`doc_to_text`."""
    kwargs = lmms_eval_specific_kwargs or {}
    lines = "\n".join(subtitles_of(doc, kwargs))
    return f"{kwargs.get('subtitle_prompt', '')}{lines}\n{doc_to_text(doc, kwargs)}"


def doc_to_context(
    doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Logged as the sample record's ``context``: the frames shown, their subtitle instants, the
    subtitle file used (None: the video has none) and how many lines the prompt holds."""
    kwargs = lmms_eval_specific_kwargs or {}
    _, indices, fps = chosen_frames(doc, kwargs)
    name = f"{doc['videoID']}.srt"
    return {
        "frame_indices": indices,
        "fps": fps,
        "subtitle_instants_ms": [frame_instant_ms(k, fps) for k in indices],
        "subtitle_file": name if SUBTITLES.find(name) is not None else None,
        "subtitle_lines": len(subtitles_of(doc, kwargs)),
    }
