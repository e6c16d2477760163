"""EgoSchema: the video of a row by its ``video_idx``, lmms-eval's prompt, and the submission file.

The annotations (``<config>/test-00000-of-00001.parquet`` of ``lmms-lab/egoschema``) and the videos
(``videos_chunked_01.zip`` ... ``videos_chunked_05.zip``, ``videos/<video_idx>.mp4`` inside) are
separate files of the repository; the videos are fetched and extracted once by
:class:`lmms_eval.tasks.hub_videos.HubVideos`. ``video_idx`` is the official question uid
(``q_uid``): each question has its own three-minute clip named after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmms_eval.metrics.egoschema import egoschema_index, options_of
from lmms_eval.tasks.hub_videos import HubVideos

REPO_ID = "lmms-lab/egoschema"
PATTERNS = ["videos_chunked_*.zip"]
VIDEOS = HubVideos(REPO_ID, PATTERNS)
SUBMISSION_FILE = "egoschema_submission.json"


def doc_to_video(doc: Mapping[str, Any]) -> list[str]:
    """The row's clip: ``<video_idx>.mp4`` from the archives (``.MP4`` too, as lmms-eval accepts)."""
    name = str(doc["video_idx"])
    return [VIDEOS.path(f"{name}.mp4", f"{name}.MP4")]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + one line per option as stored (``A. ...``) + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "".join(f"\n{option}" for option in options_of(doc))
    return f"{kwargs.get('pre_prompt') or ''}{doc['question']}{options}{kwargs.get('post_prompt') or ''}"


def _response(record: Any) -> str:
    filtered = record.filtered or {}
    value = filtered.get("none", record.raw_output)
    return "" if value is None else str(value)


def prediction_file(records: Sequence[Any]) -> dict[str, int]:
    """``{q_uid: index 0-4}``, the JSON the EgoSchema validation server takes (README Option B/C).

    A failed sample or a response the rule cannot read is left out: the server counts it
    "missing" (wrong), where lmms-eval would send a random index.
    """
    out: dict[str, int] = {}
    for record in records:
        doc = record.doc
        if not record.generated or not doc:
            continue
        index = egoschema_index(_response(record), options_of(doc))
        if index is not None:
            out[str(doc["video_idx"])] = index
    return out


def full_submission(records: Sequence[Any]) -> tuple[str, dict[str, int]]:
    """``submission:`` of ``egoschema_full``: POST it to the validation server (see README.md)."""
    return SUBMISSION_FILE, prediction_file(records)
