"""PerceptionTest (validation, multiple-choice video QA): the video of a row by its ``video_name``,
the prompt lmms-eval uses, and the answer letter.

The annotations (``mc_question_val/validation-*.parquet``) and the videos (``videos_chunked_*.zip``)
are separate files of ``lmms-lab/PerceptionTest_Val``; the videos are fetched and extracted once by
:class:`lmms_eval.tasks.hub_videos.HubVideos` and found by file name (``<video_name>.mp4``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.tasks.hub_videos import HubVideos

REPO_ID = "lmms-lab/PerceptionTest_Val"
PATTERNS = ["videos_chunked_*.zip"]
VIDEOS = HubVideos(REPO_ID, PATTERNS)
LETTERS = "ABCD"


def doc_to_video(doc: Mapping[str, Any]) -> list[str]:
    """The row's video, ``<video_name>.mp4`` (``.MP4`` also tried, as lmms-eval does)."""
    name = str(doc["video_name"])
    return [VIDEOS.path(f"{name}.mp4", f"{name}.MP4")]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + ``\\nA. {option}`` per option + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "".join(f"\n{LETTERS[i]}. {option}" for i, option in enumerate(doc["options"]))
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}{options}{kwargs.get('post_prompt', '')}"


def doc_to_target(doc: Mapping[str, Any]) -> str:
    """The answer letter: ``answer_id`` (a string on the hub, "0".."2") as A, B, C."""
    raw = doc.get("answer_id")
    try:
        index = int(str(raw).strip())
    except ValueError:
        index = -1
    if not 0 <= index < len(doc["options"]):
        raise SampleError(
            f"PerceptionTest row {doc.get('video_name')}/{doc.get('question_id')}: answer_id {raw!r} is not "
            f"an index into its {len(doc['options'])} options"
        )
    return LETTERS[index]
