"""Fixture: a hub-shaped copy of ``lmms-lab/Video-MME`` (config ``videomme``, split ``test``).

Columns and types as the card's ``dataset_info`` (``benchmark_schemas.json`` key ``videomme``): all
strings except ``options`` (a list of strings, "A. ..." as stored). The videos ship as
``videos_chunked_01.zip`` and ``videos_chunked_02.zip`` holding ``data/<videoID>.mp4`` (the layout
lmms-eval reads); each is 32 frames of 32x32 at 1 frame per second (frame k shown from k s to
k + 1 s) whose grey level encodes the video. ``ANSWERS`` is what the scripted model says per
``question_id``. One video (``vid_missing``) is in no archive.

Subtitles: ``subtitle.zip`` holding ``subtitle/<videoID>.srt`` (the layout lmms-eval reads), each
line wrapped in ``<font color="white" size=".72c">`` as Video-MME's files are; ``vid_c`` has none.
With 32 frames of a 32-frame video the official indices are 0..16, 16..30 (16 twice, 31 never), so
the instants are 0, 1, .., 16, 16, .., 30 s; ``SUBTITLE_LINES`` is what the prompt must show.
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
FRAMES, FPS = 32, 1


def _font(text: str) -> str:
    return f'<font color="white" size=".72c">{text}</font>'


SUBTITLES: dict[str, str] = {
    "vid_a": "\n".join(
        [
            "1",
            "00:00:00,000 --> 00:00:02,000",  # instant 0 is not strictly inside; 1 s is
            _font("Hi guys, welcome back."),
            "",
            "2",
            "00:00:02,000 --> 00:00:02,500",  # 2 s is its start: not strictly inside
            _font("Never at a frame instant."),
            "",
            "3",
            "00:00:05,500 --> 00:00:06,500",  # 6 s: the first cue in file order wins
            _font("First of two overlapping cues."),
            "",
            "4",
            "00:00:05,800 --> 00:00:07,000",  # 7 s is its end: not strictly inside
            _font("Second, never chosen."),
            "",
            "5",
            "00:00:09,500 --> 00:00:10,500",  # blank text at 10 s: no line
            " ",
            "",
            "6",
            "00:00:15,500 --> 00:00:16,500",  # 16 s is sampled twice: the line twice
            _font("Two lines"),
            _font("on screen."),
            "",
            "7",
            "00:00:29,900 --> 00:00:31,000",  # 30 s
            _font("See you."),
            "",
        ]
    ),
    "vid_b": "\r\n".join(["1", "00:00:03,500 --> 00:00:04,500", _font("Time to cook."), "", ""]),
    "vid_missing": "\n".join(["1", "00:00:00,000 --> 00:00:09,000", _font("Its video is missing."), ""]),
}
SUBTITLE_LINES: dict[str, list[str]] = {
    "vid_a": [
        "Hi guys, welcome back.",
        "First of two overlapping cues.",
        "Two lines on screen.",
        "Two lines on screen.",
        "See you.",
    ],
    "vid_b": ["Time to cook."],
    "vid_c": [],
}
FRAME_INDICES = list(range(17)) + list(range(16, 31))


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
    return encode_video([np.full((32, 32, 3), level, np.uint8)] * FRAMES, fps=FPS)


def build(mirror: Path) -> Path:
    """Write the annotations, the video archives and ``subtitle.zip`` under ``mirror``; return the
    repository folder."""
    folder = write_hub_dataset(mirror, REPO_ID, {"videomme": {"test": rows()}}, {"videomme": features()})
    for archive, names in ARCHIVES.items():
        with zipfile.ZipFile(folder / archive, "w") as zf:
            for name in names:
                zf.writestr(f"data/{name}.mp4", video(name))
    with zipfile.ZipFile(folder / "subtitle.zip", "w") as zf:
        for name, text in SUBTITLES.items():
            zf.writestr(f"subtitle/{name}.srt", text.encode("utf-8"))
    return folder
