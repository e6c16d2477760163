"""Fixture: a hub-shaped copy of ``lmms-lab/Video-MME`` (config ``videomme``, split ``test``).

Columns and types as the card's ``dataset_info`` (``benchmark_schemas.json`` key ``videomme``): all
strings except ``options`` (a list of strings, "A. ..." as stored). The videos ship as
``videos_chunked_01.zip`` and ``videos_chunked_02.zip`` holding ``data/<videoID>.mp4`` (the layout
lmms-eval reads); each is 8 frames of 32x32 whose grey level encodes the video. ``ANSWERS`` is
what the scripted model says per ``question_id``. One video (``vid_missing``) is in no archive.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hub.common import encode_video, write_hub_dataset

REPO_ID = "lmms-lab/Video-MME"
OPTIONS = ["A. Black.", "B. Gray.", "C. Green.", "D. Brown."]
# question_id -> (videoID, duration, domain, sub_category, task_type, answer, scripted reply)
ITEMS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "001-1": ("vid_a", "short", "Knowledge", "Humanity & History", "Counting Problem", "A", "A"),
    "001-2": ("vid_a", "short", "Knowledge", "Humanity & History", "OCR Problems", "B", "The best answer is B."),
    "002-1": ("vid_b", "medium", "Life Record", "Daily Life", "Counting Problem", "C", "Based on the video, C"),
    "002-2": ("vid_b", "medium", "Life Record", "Daily Life", "Temporal Reasoning", "D", "I cannot tell which one"),
    "003-1": ("vid_c", "long", "Sports Competition", "Football", "Action Recognition", "A", "(D) Brown."),
    "004-1": ("vid_missing", "long", "Sports Competition", "Football", "Action Recognition", "A", "A"),
}
ANSWERS = {qid: item[6] for qid, item in ITEMS.items()}
ARCHIVES = {"videos_chunked_01.zip": ["vid_a", "vid_b"], "videos_chunked_02.zip": ["vid_c"]}


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    columns = ["video_id", "duration", "domain", "sub_category", "url", "videoID", "question_id", "task_type"]
    return datasets.Features(
        {**{c: text for c in columns}, "question": text, "options": datasets.Sequence(text), "answer": text}
    )


def rows() -> list[dict[str, Any]]:
    out = []
    for qid, (video, duration, domain, sub, task_type, answer, _) in ITEMS.items():
        out.append(
            {
                "video_id": qid.split("-")[0],
                "duration": duration,
                "domain": domain,
                "sub_category": sub,
                "url": f"https://www.youtube.com/watch?v={video}",
                "videoID": video,
                "question_id": qid,
                "task_type": task_type,
                "question": f"What is the colour in {video}?",
                "options": OPTIONS,
                "answer": answer,
            }
        )
    return out


def video(name: str) -> bytes:
    import numpy as np

    level = 40 * (sorted({v for v in (i[0] for i in ITEMS.values())}).index(name) + 1)
    return encode_video([np.full((32, 32, 3), level, np.uint8)] * 8)


def build(mirror: Path) -> Path:
    """Write the annotations and the video archives under ``mirror``; return the repository folder."""
    folder = write_hub_dataset(mirror, REPO_ID, {"videomme": {"test": rows()}}, {"videomme": features()})
    for archive, names in ARCHIVES.items():
        with zipfile.ZipFile(folder / archive, "w") as zf:
            for name in names:
                zf.writestr(f"data/{name}.mp4", video(name))
    return folder
