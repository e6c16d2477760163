"""Fixture: a hub-shaped copy of ``lmms-lab/NExTQA`` (config ``MC``, split ``test``).

Columns and types as the card's ``dataset_info`` for config ``MC`` (the official ``test.csv``
columns): ``video`` int64, ``frame_count`` int64, ``width`` int64, ``height`` int64,
``question`` string, ``answer`` int64 (index into ``a0``-``a4``), ``qid`` int64 (counts within a
video), ``type`` string, ``a0``-``a4`` strings. The videos ship as ``videos.zip`` holding
``NExTVideo/<video>.mp4`` (the layout lmms-eval reads); each is 8 frames of 32x32 whose grey level
encodes the video. ``ANSWERS`` is what the scripted model says per question id ``<video>_<qid>``.
Video ``9999`` is in no archive.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hub.common import encode_video, write_hub_dataset

REPO_ID = "lmms-lab/NExTQA"
OPTIONS: dict[int, list[str]] = {
    1001: ["clap proudly", "the lady sitting down", "lay on floor", "just picked it up", "crawl"],
    1002: ["sing", "dance", "clap", "cry", "sleep"],
    1003: ["mall", "river", "swimming pool", "living room", "mountain"],
    9999: ["by his hands", "turning", "talk", "caress baby", "move baby"],
}
# (video, qid) -> (type, answer index, question, scripted reply)
ITEMS: dict[tuple[int, int], tuple[str, int, str, str]] = {
    (1001, 0): ("CW", 3, "why did the baby pick up the cup", "D"),
    (1001, 1): ("TP", 0, "what did the baby do before crawling", "(A) clap proudly."),
    (1001, 2): ("DC", 1, "how many people are there", "I am not sure"),
    (1002, 0): ("TN", 2, "what did the man do after throwing the cup", "A man throws the cup and then he will clap"),
    (1002, 1): (
        "TC",
        4,
        "what did the lady do while turning back",
        "<think>The lady is not walking away (A), she is resting.</think>\n<answer>E</answer>",
    ),
    (1003, 0): ("DL", 1, "where is this place", "The lady is in the river near the mall, so the place is a river"),
    (1003, 1): ("DO", 0, "what is the weather like", "B. thumbs up"),
    (9999, 0): ("CH", 3, "how does the man show care to the baby", "D"),
}
ANSWERS = {f"{video}_{qid}": item[3] for (video, qid), item in ITEMS.items()}
ARCHIVED = [1001, 1002, 1003]
LEVELS = {1001: 40, 1002: 80, 1003: 120}


def features() -> Any:
    import datasets

    integer, text = datasets.Value("int64"), datasets.Value("string")
    columns: dict[str, Any] = {"video": integer, "frame_count": integer, "width": integer, "height": integer}
    columns |= {"question": text, "answer": integer, "qid": integer, "type": text}
    columns |= {f"a{i}": text for i in range(5)}
    return datasets.Features(columns)


def rows() -> list[dict[str, Any]]:
    out = []
    for (video, qid), (qtype, answer, question, _) in ITEMS.items():
        row: dict[str, Any] = {"video": video, "frame_count": 8, "width": 32, "height": 32, "question": question}
        row |= {"answer": answer, "qid": qid, "type": qtype}
        row |= {f"a{i}": option for i, option in enumerate(OPTIONS[video])}
        out.append(row)
    return out


def video(video_id: int) -> bytes:
    import numpy as np

    return encode_video([np.full((32, 32, 3), LEVELS[video_id], np.uint8)] * 8)


def build(mirror: Path) -> Path:
    """Write the annotations and ``videos.zip`` under ``mirror``; return the repository folder."""
    folder = write_hub_dataset(mirror, REPO_ID, {"MC": {"test": rows()}}, {"MC": features()})
    with zipfile.ZipFile(folder / "videos.zip", "w") as zf:
        for video_id in ARCHIVED:
            zf.writestr(f"NExTVideo/{video_id}.mp4", video(video_id))
    return folder
