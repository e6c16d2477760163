"""ActivityNet-QA: the video of a row by its ``video_name``, and lmms-eval's prompt.

The annotations (``data/test-00000-of-00001.parquet``) and the videos (``videos_chunked_*.zip``)
are separate files of ``lmms-lab/ActivityNetQA``; the archives are fetched and extracted once by
:class:`lmms_eval.tasks.hub_videos.HubVideos`. A video is the file ``v_<video_name>`` with the
first of the extensions ``.mp4``, ``.webm``, ``.mkv`` that the archives hold (ActivityNet ships all
three; lmms-eval tries them in this order). Scoring is the judge's (see the task YAML and
``lmms_eval/metrics/activitynetqa.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.tasks.hub_videos import HubVideos

REPO_ID = "lmms-lab/ActivityNetQA"
PATTERNS = ["videos_chunked_*.zip"]
EXTENSIONS = (".mp4", ".webm", ".mkv")
VIDEOS = HubVideos(REPO_ID, PATTERNS)


def doc_to_video(doc: Mapping[str, Any]) -> list[str]:
    """The row's video: ``v_<video_name>.mp4``, else ``.webm``, else ``.mkv``."""
    stem = f"v_{doc['video_name']}"
    return [VIDEOS.path(*(stem + ext for ext in EXTENSIONS))]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{Question}?{post_prompt}``: the stored question (lower case, no question mark)
    through Python's ``str.capitalize`` (first letter upper, the REST LOWERED: lmms-eval's quirk,
    kept) with ``?`` appended."""
    kwargs = lmms_eval_specific_kwargs or {}
    question = str(doc["question"]).capitalize() + "?"
    return f"{kwargs.get('pre_prompt', '')}{question}{kwargs.get('post_prompt', '')}"
