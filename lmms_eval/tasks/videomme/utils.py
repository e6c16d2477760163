"""Video-MME: the video of a row by its ``videoID``, and the official prompt.

The annotations (``videomme/test-00000-of-00001.parquet``) and the videos (``videos_chunked_*.zip``,
``<videoID>.mp4`` inside) are separate files of ``lmms-lab/Video-MME``; the videos are fetched and
extracted once by :class:`lmms_eval.tasks.hub_videos.HubVideos`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.tasks.hub_videos import HubVideos

REPO_ID = "lmms-lab/Video-MME"
VIDEOS = HubVideos(REPO_ID, ["videos_chunked_*.zip"])


def doc_to_video(doc: Mapping[str, Any]) -> list[str]:
    """The row's video file (``<videoID>.mp4`` from the repository's video archives)."""
    return [VIDEOS.path(f"{doc['videoID']}.mp4")]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + one line per option as stored (``A. ...``) + ``{post_prompt}``."""
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(str(option) for option in doc["options"])
    return f"{kwargs.get('pre_prompt', '')}{doc['question']}\n{options}{kwargs.get('post_prompt', '')}"
