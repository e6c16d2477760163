"""NExT-QA multiple choice: the video of a row by its ``video`` id, lmms-eval's prompt, the
official question types.

The annotations (``MC/test-00000-of-00001.parquet`` of ``lmms-lab/NExTQA``, the official
``test.csv``) and the videos (``videos.zip``, ``NExTVideo/<video>.mp4`` inside) are separate files
of the repository; the videos are fetched and extracted once by
:class:`lmms_eval.tasks.hub_videos.HubVideos`, which finds a video by file name wherever it lies
in the archive (so the original ``NExTVideo/<folder>/<video>.mp4`` layout works too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lmms_eval.metrics.nextqa import LETTERS, OPTION_COLUMNS, gold_letter, official_type
from lmms_eval.tasks.hub_videos import HubVideos

REPO_ID = "lmms-lab/NExTQA"
VIDEO_ARCHIVES = ["videos.zip"]
VIDEOS = HubVideos(REPO_ID, VIDEO_ARCHIVES)


def question_id(doc: Mapping[str, Any]) -> str:
    """``<video>_<qid>``: the key ``eval_mc.py`` gives a question (``qid`` counts within a video)."""
    return f"{doc['video']}_{doc['qid']}"


def process_docs(dataset: Any) -> Any:
    """The split with a ``question_id`` column (:func:`question_id`) used as the doc id."""
    if hasattr(dataset, "add_column"):  # a datasets.Dataset
        ids = [f"{v}_{q}" for v, q in zip(dataset["video"], dataset["qid"])]
        return dataset.add_column("question_id", ids)
    rows: Iterable[Mapping[str, Any]] = dataset
    return [{**row, "question_id": question_id(row)} for row in rows]


def doc_to_video(doc: Mapping[str, Any]) -> list[str]:
    """The row's video file, ``<video>.mp4`` (lmms-eval also accepts ``<video>.MP4``)."""
    name = str(doc["video"])
    return [VIDEOS.path(f"{name}.mp4", f"{name}.MP4")]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping[str, Any] | None = None) -> str:
    """``{pre_prompt}{question}`` + ``\\nA. {a0}`` ... ``\\nE. {a4}`` + ``{post_prompt}``, texts stripped."""
    kwargs = lmms_eval_specific_kwargs or {}
    lines = [str(doc["question"]).strip()]
    lines += [f"{letter}. {str(doc[column]).strip()}" for letter, column in zip(LETTERS, OPTION_COLUMNS)]
    body = "\n".join(lines)
    return f"{kwargs.get('pre_prompt') or ''}{body}{kwargs.get('post_prompt') or ''}"


def doc_to_target(doc: Mapping[str, Any]) -> str:
    """The answer letter: ``answer`` is an index 0-4 into ``a0``-``a4``."""
    return gold_letter(doc["answer"])


def question_type(doc: Mapping[str, Any]) -> str:
    """The official type (``TP`` counted as ``TN``): CW, CH, TN, TC, DC, DL, DO."""
    return official_type(doc["type"])


def question_group(doc: Mapping[str, Any]) -> str:
    """C (causal), T (temporal) or D (descriptive): the first letter of the type."""
    return official_type(doc["type"])[:1]
