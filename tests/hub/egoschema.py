"""Fixture: a hub-shaped copy of ``lmms-lab/egoschema`` (configs ``Subset`` and ``GENERATION``, split ``test``).

Columns and types as the card's ``dataset_info`` (every config): ``question_idx``, ``question``,
``video_idx`` (strings), ``option`` (a list of strings, "A. ..." as stored), ``answer`` (a string:
the option index "0"-"4" in ``Subset``; None in the full-set configs, whose answers are withheld).
The videos ship as ``videos_chunked_01.zip`` and ``videos_chunked_02.zip`` holding
``videos/<video_idx>.mp4`` (one as ``.MP4``); each is 8 frames of 32x32 whose grey level encodes
the video. ``SUBSET`` / ``FULL`` give, per ``video_idx``, the answer and what the scripted model says.
One video (``...-missing``) is in no archive.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from hub.common import encode_video, write_hub_dataset

REPO_ID = "lmms-lab/egoschema"
OPTIONS = [
    "A. C is cooking.",
    "B. C is doing laundry.",
    "C. C is cleaning the kitchen.",
    "D. C is cleaning dishes.",
    "E. C is cleaning the bathroom.",
]
# video_idx (= q_uid) -> (answer index as stored, scripted reply)
SUBSET: dict[str, tuple[str, str]] = {
    "00000000-0000-0000-0000-000000000001": ("0", "A"),
    "00000000-0000-0000-0000-000000000002": ("3", "C is cleaning dishes, so the answer is D"),
    "00000000-0000-0000-0000-000000000003": ("1", "i think it is b. c is doing laundry. yes"),
    "00000000-0000-0000-0000-000000000004": ("2", "I cannot tell from the video"),
    "00000000-0000-0000-0000-000000000005": ("4", "E."),
    "00000000-0000-0000-0000-00000missing": ("0", "A"),
}
# the full set (answers withheld): video_idx -> scripted reply
FULL: dict[str, str] = {
    "00000000-0000-0000-0000-000000000001": "A",
    "00000000-0000-0000-0000-000000000006": "(D)",
    "00000000-0000-0000-0000-000000000007": "no idea",
    "00000000-0000-0000-0000-00000missing": "B",
}
ANSWERS: dict[Any, str] = {
    **{("egoschema", vid): reply for vid, (_, reply) in SUBSET.items()},
    **{("egoschema_full", vid): reply for vid, reply in FULL.items()},
}
UPPER_CASE = "00000000-0000-0000-0000-000000000005"
"""The one clip stored as ``.MP4`` (lmms-eval accepts both extensions)."""
ARCHIVES = {
    "videos_chunked_01.zip": [
        "00000000-0000-0000-0000-000000000001",
        "00000000-0000-0000-0000-000000000002",
        "00000000-0000-0000-0000-000000000003",
    ],
    "videos_chunked_02.zip": [
        "00000000-0000-0000-0000-000000000004",
        "00000000-0000-0000-0000-000000000005",
        "00000000-0000-0000-0000-000000000006",
        "00000000-0000-0000-0000-000000000007",
    ],
}
VIDEOS = [vid for names in ARCHIVES.values() for vid in names]


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {"question_idx": text, "question": text, "video_idx": text, "option": datasets.Sequence(text), "answer": text}
    )


def _row(number: int, video: str, answer: str | None) -> dict[str, Any]:
    return {
        "question_idx": f"{number:05d}",
        "question": f"What is c doing in {video[-4:]}?",
        "video_idx": video,
        "option": OPTIONS,
        "answer": answer,
    }


def rows() -> dict[str, list[dict[str, Any]]]:
    """The rows of each config."""
    subset = [_row(i, vid, answer) for i, (vid, (answer, _)) in enumerate(SUBSET.items())]
    full = [_row(i, vid, None) for i, vid in enumerate(FULL)]
    return {"Subset": subset, "GENERATION": full}


def grey_level(video: str) -> int:
    """The grey level of a clip's frames: 30 per position in ``VIDEOS``, from 30."""
    return 30 * (VIDEOS.index(video) + 1)


def video(name: str) -> bytes:
    import numpy as np

    return encode_video([np.full((32, 32, 3), grey_level(name), np.uint8)] * 8)


def build(mirror: Path) -> Path:
    """Write the annotations and the video archives under ``mirror``; return the repository folder."""
    by_config = rows()
    folder = write_hub_dataset(
        mirror,
        REPO_ID,
        {config: {"test": config_rows} for config, config_rows in by_config.items()},
        {config: features() for config in by_config},
    )
    for archive, names in ARCHIVES.items():
        with zipfile.ZipFile(folder / archive, "w") as zf:
            for name in names:
                extension = "MP4" if name == UPPER_CASE else "mp4"
                zf.writestr(f"videos/{name}.{extension}", video(name))
    return folder
