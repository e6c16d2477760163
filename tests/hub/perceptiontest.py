"""Fixture: a hub-shaped copy of ``lmms-lab/PerceptionTest_Val`` (config ``mc_question_val``, split
``validation``).

Columns and types as the card's ``dataset_info`` (README.md @ 3480e6a): ``video_name``,
``question``, ``question_id`` strings, ``options`` a list of strings, ``answer_id`` a STRING ("0",
"1", "2"), ``area`` and ``reasoning`` strings, ``tag`` a list of strings. The videos ship as
``videos_chunked_01.zip`` and ``videos_chunked_02.zip`` holding ``videos/<video_name>.mp4`` (the
folder lmms-eval reads after extraction); ``video_c`` is stored as ``.MP4`` (the spelling lmms-eval
also tries). Each video is 8 frames of 32x32 whose grey level encodes it. ``ANSWERS`` is what the
scripted model says per row (doc id = row index). ``video_missing`` is in no archive.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hub.common import encode_video, write_hub_dataset

REPO_ID = "lmms-lab/PerceptionTest_Val"
OPTIONS = ["the red cup", "the blue cup", "the green cup"]
# row (doc id) -> (video_name, question_id, answer_id, area, reasoning, tags, scripted reply)
ITEMS: list[tuple[str, str, str, str, str, list[str], str]] = [
    ("video_a", "0", "0", "memory", "descriptive", ["change detection"], "A"),
    ("video_a", "1", "1", "memory", "explanatory", ["event recall", "sequencing"], "B. the blue cup"),
    ("video_b", "0", "2", "physics", "descriptive", ["containment", "object permanence"], "A person moves cup C"),
    ("video_b", "1", "0", "physics", "explanatory", ["object permanence"], "I cannot tell"),
    (
        "video_c",
        "0",
        "2",
        "abstraction",
        "descriptive",
        ["object counting"],
        "<think>Cup B moved first, then the green one.</think>\n<answer>C</answer>",
    ),
    ("video_missing", "0", "0", "semantics", "predictive", ["general knowledge"], "A"),
    ("video_c", "1", "1", "abstraction", "predictive", ["pattern discovery"], "D"),
]
ANSWERS = {str(i): item[6] for i, item in enumerate(ITEMS)}
ARCHIVES = {"videos_chunked_01.zip": ["video_a.mp4", "video_b.mp4"], "videos_chunked_02.zip": ["video_c.MP4"]}
VIDEO_NAMES = ["video_a", "video_b", "video_c"]


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "video_name": text,
            "question": text,
            "question_id": text,
            "options": datasets.Sequence(text),
            "answer_id": text,
            "area": text,
            "reasoning": text,
            "tag": datasets.Sequence(text),
        }
    )


def rows() -> list[dict[str, Any]]:
    return [
        {
            "video_name": video,
            "question": f"Which cup is in {video} ({qid})?",
            "question_id": qid,
            "options": OPTIONS,
            "answer_id": answer,
            "area": area,
            "reasoning": reasoning,
            "tag": tags,
        }
        for video, qid, answer, area, reasoning, tags, _ in ITEMS
    ]


def grey_level(video: str) -> int:
    """The grey level of a fixture video: 40, 80, 120 for video_a, video_b, video_c."""
    return 40 * (VIDEO_NAMES.index(video) + 1)


def video(name: str) -> bytes:
    import numpy as np

    return encode_video([np.full((32, 32, 3), grey_level(name), np.uint8)] * 8)


def build(mirror: Path) -> Path:
    """Write the annotations and the video archives under ``mirror``; return the repository folder."""
    folder = write_hub_dataset(
        mirror, REPO_ID, {"mc_question_val": {"validation": rows()}}, {"mc_question_val": features()}
    )
    for archive, files in ARCHIVES.items():
        with zipfile.ZipFile(folder / archive, "w") as zf:
            for file in files:
                zf.writestr(f"videos/{file}", video(file.rsplit(".", 1)[0]))
    return folder
