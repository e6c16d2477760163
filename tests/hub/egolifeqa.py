"""Fixture: a copy of ``lmms-lab/EgoLife`` with a tiny week: ``EgoLifeQA/EgoLifeQA_A1_JAKE.json`` (a JSON
list of records with the README's fields: ``ID``, ``query_time {date, time}``, ``type``, ``need_audio``,
``need_name``, ``last_time``, ``trigger``, ``question``, ``choice_a..d``, ``answer``, ``target_time
{date, time}``, ``keywords``, ``reason``) and clips ``A1_JAKE/DAY{d}/DAY{d}_A1_JAKE_{HHMMSSFF}.mp4``:
30 s each at 2 fps, 16x16, every frame's grey level = 8 * the clip's number (0-based, time order),
so a decoded frame says which clip it came from. ``CAPTIONS`` (one per clip, for the retrieval
mode; not a hub file: users supply or make their own) match some questions on purpose: question 2
("cook") matches clip 2 before it and clip 5 after it; question 3 ("guitar") matches clip 4 only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.common import encode_video

REPO_ID = "lmms-lab/EgoLife"
CLIPS = [  # (day, HHMMSSFF)
    (1, "10000000"),
    (1, "10003000"),
    (1, "14000000"),
    (2, "09000000"),
    (2, "09003000"),
    (2, "20000000"),
    (3, "08000000"),
]
SECRET = "SECRET-EVIDENCE"  # put in every leaking field: must never reach a prompt
# ID -> (query date, query time, type, answer, scripted reply)
QUESTIONS: dict[str, tuple[str, str, str, str, str]] = {
    "1": ("DAY1", "10004010", "EntityLog", "A", "A"),  # after clip 0 and 10.5 s of clip 1
    "2": ("DAY2", "09002000", "EventRecall", "B", "Based on the video, C"),  # inside clip 3
    "3": ("DAY3", "08000500", "HabitInsight", "C", "C"),  # 5 s into clip 6: everything before it
    "4": ("DAY1", "09000000", "TaskMaster", "D", "D"),  # before any recording: that sample's error
}
ANSWERS = {qid: spec[4] for qid, spec in QUESTIONS.items()}
QUESTION_TEXT = {
    "1": "What did I hold this morning?",
    "2": "What did I cook in the kitchen?",
    "3": "Where did I play the guitar?",
    "4": "What did I write with?",
}
CAPTIONS = [  # one per clip of CLIPS, in order
    "I hold a cup of coffee at the table in the morning.",
    "I walk down the stairs and open the front door.",
    "I cook noodles in the kitchen with a pan.",
    "I sit at a desk and type on a laptop.",
    "I play the guitar in the garden with friends.",
    "I cook dinner in the kitchen: fried rice in a pan.",
    "I brush my teeth in the bathroom.",
]


def clip_name(day: int, time: str) -> str:
    return f"A1_JAKE/DAY{day}/DAY{day}_A1_JAKE_{time}.mp4"


def records() -> list[dict[str, Any]]:
    out = []
    for qid, (date, time, qtype, answer, _) in QUESTIONS.items():
        out.append(
            {
                "ID": qid,
                "query_time": {"date": date, "time": time},
                "type": qtype,
                "need_audio": False,
                "need_name": False,
                "last_time": False,
                "trigger": SECRET,
                "question": QUESTION_TEXT[qid],
                "choice_a": "A cup",
                "choice_b": "A phone",
                "choice_c": "A book",
                "choice_d": "A pen",
                "answer": answer,
                # as third-party cleaners report of the real file: some rows pack several times in a list
                "target_time": {"date": date, "time": "08000000"}
                if qid != "2"
                else [{"date": date, "time": "08000000"}, {"date": date, "time": "08100000"}],
                "keywords": SECRET,
                "reason": SECRET,
            }
        )
    return out


def write_captions(path: Path) -> Path:
    """The captions as the retrieval mode reads them: JSONL of ``{"clip": file name, "caption": text}``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"clip": clip_name(d, t).rsplit("/", 1)[1], "caption": c}) for (d, t), c in zip(CLIPS, CAPTIONS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build(mirror: Path) -> Path:
    """Write the QA file and the clips under ``mirror``; return the repository folder."""
    import numpy as np

    folder = mirror / REPO_ID
    (folder / "EgoLifeQA").mkdir(parents=True, exist_ok=True)
    (folder / "EgoLifeQA" / "EgoLifeQA_A1_JAKE.json").write_text(json.dumps(records(), indent=1), encoding="utf-8")
    for k, (day, time) in enumerate(CLIPS):
        path = folder / clip_name(day, time)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_video([np.full((16, 16, 3), 8 * k, np.uint8)] * 60, fps=2))
    return folder
