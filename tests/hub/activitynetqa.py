"""Fixture: a hub-shaped copy of ``lmms-lab/ActivityNetQA`` (config ``default``, split ``test``).

Columns and types as the card's ``dataset_info`` (README @ 024d071, ``af2983b``): ``video_name``,
``question_id``, ``question``, ``answer``, ``type``, all strings. The videos ship as
``videos_chunked_01.zip`` and ``videos_chunked_02.zip`` holding ``all_test/v_<video_name>.<ext>``
(lmms-eval's file name; the ``all_test/`` folder is its cache layout) in the three ActivityNet
containers: mp4, webm (VP8) and mkv. Each video is 8 frames of 32x32 whose grey level encodes it.

``ANSWERS``: what the scripted model says per ``question_id``; ``JUDGE``: what the judge stand-in
replies for each model answer (keyed by the "Predicted Answer:" line of the official prompt).
One video (``missing``) is in no archive.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from hub.common import write_hub_dataset

REPO_ID = "lmms-lab/ActivityNetQA"
# question_id -> (video_name, type, question, answer, scripted model answer)
ITEMS: dict[str, tuple[str, str, str, str, str]] = {
    "v_vidmp4_0": ("vidmp4", "5", "what is in front of the person", "dog", "a dog"),
    "v_vidmp4_1": ("vidmp4", "7", "how many people are in the video", "2", "three"),
    "v_vidwebm_0": ("vidwebm", "4", "what color is the ball", "red", "<think>The ball looks red.</think>red"),
    "v_vidwebm_1": ("vidwebm", "3", "is the person indoors", "yes", "I cannot tell"),
    "v_vidmkv_0": ("vidmkv", "4", "what color is the car of NASA", "white", "maybe"),
    "v_vidmkv_1": ("vidmkv", "8", "what is the weather like", "sunny", ""),
    "v_vidmkv_2": ("vidmkv", "0", "what does the person do", "run", "running"),
    "v_missing_0": ("missing", "5", "what is on the table", "cup", "a cup"),
}
ANSWERS = {qid: item[4] for qid, item in ITEMS.items()}
# model answer -> the judge's reply (worked out by hand in test_activitynetqa.py)
JUDGE: dict[str, str] = {
    "a dog": "{'pred': 'yes', 'score': 5}",
    "three": "{'pred': 'no', 'score': 1}",
    "<think>The ball looks red.</think>red": "{'pred': 'yes', 'score': 4.8}",  # int() -> 4
    "I cannot tell": "The predicted answer does not match.",  # not a dict: judge error
    "maybe": '{"pred": "not sure", "score": 2}',  # a Python literal too; "not sure" holds "no"
    "": "{'pred': 'unclear', 'score': 0}",  # neither yes nor no: out of the accuracy
    "running": "```python\n{'pred': 'yes', 'score': 4}\n```",  # fenced: literal_eval fails
}
# video -> (container, codec, extension, archive)
VIDEOS = {
    "vidmp4": ("mp4", "mpeg4", ".mp4", "videos_chunked_01.zip"),
    "vidwebm": ("webm", "libvpx", ".webm", "videos_chunked_01.zip"),
    "vidmkv": ("matroska", "mpeg4", ".mkv", "videos_chunked_02.zip"),
}
LEVELS = {"vidmp4": 40, "vidwebm": 80, "vidmkv": 120}


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features({c: text for c in ("video_name", "question_id", "question", "answer", "type")})


def rows() -> list[dict[str, Any]]:
    return [
        {"video_name": video, "question_id": qid, "question": question, "answer": answer, "type": qtype}
        for qid, (video, qtype, question, answer, _) in ITEMS.items()
    ]


def video(name: str) -> bytes:
    """8 frames of 32x32 at grey level ``LEVELS[name]`` in the video's own container."""
    import av
    import numpy as np

    container, codec, _, _ = VIDEOS[name]
    frame = np.full((32, 32, 3), LEVELS[name], np.uint8)
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=4)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for _ in range(8):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def build(mirror: Path) -> Path:
    """Write the annotations and the video archives under ``mirror``; return the repository folder."""
    folder = write_hub_dataset(mirror, REPO_ID, {"default": {"test": rows()}}, {"default": features()})
    for name, (_, _, ext, archive) in VIDEOS.items():
        with zipfile.ZipFile(folder / archive, "a") as zf:
            zf.writestr(f"all_test/v_{name}{ext}", video(name))
    return folder
