"""Fixture: a hub-shaped copy of ``lmms-lab/AIR_Bench`` (configs ``Foundation`` and ``Chat``).

Columns and types follow the hub copy the tasks load (``benchmark_schemas.json`` key
``air_bench``): Foundation has ``audio, question, choice_a..choice_d, answer_gt`` (the correct
option's TEXT), ``task_name, uniq_id`` with splits ``speech, sound, music``; 2-way questions
have null or empty ``choice_c``/``choice_d``. Chat has ``audio, question, answer_gt, meta_info``
with splits ``speech, sound, music, mixed``. Speech rows are real flite speech; sound and music
rows are short tones.

``ANSWERS`` is what the scripted test model says for each foundation ``uniq_id``
(``answer_table`` keys it by task and row index, the tasks' doc ids); the expected
scores in ``test_air_bench.py`` are worked out from it by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hub.common import RATE, audio_cell, speak, write_hub_dataset

REPO_ID = "lmms-lab/AIR_Bench"


def tone(freq: float, seconds: float = 0.5) -> np.ndarray:
    """A sine tone at 16 kHz (stands in for sound and music clips)."""
    t = np.arange(int(seconds * RATE), dtype=np.float32) / RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def foundation_features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {
            "audio": datasets.Audio(sampling_rate=RATE),
            "question": text,
            "choice_a": text,
            "choice_b": text,
            "choice_c": text,
            "choice_d": text,
            "answer_gt": text,
            "task_name": text,
            "uniq_id": datasets.Value("int64"),
        }
    )


def chat_features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {"audio": datasets.Audio(sampling_rate=RATE), "question": text, "answer_gt": text, "meta_info": text}
    )


def _mc(uid: int, wave: np.ndarray, question: str, options: list[str | None], gold: int, task: str) -> dict[str, Any]:
    a, b, c, d = options
    return {
        "audio": audio_cell(wave, f"{uid}.wav"),
        "question": question,
        "choice_a": a,
        "choice_b": b,
        "choice_c": c,
        "choice_d": d,
        "answer_gt": options[gold],
        "task_name": task,
        "uniq_id": uid,
    }


# uniq_id -> the scripted model's answer (see test_air_bench.py for the hand-worked scores)
ANSWERS: dict[int, str] = {
    1: "B",  # gold B: official B, extractor B -> right
    2: "The answer is C.",  # gold A: official reads C (second-to-last char), extractor C -> wrong
    3: "A",  # 2-way (C/D null), gold A -> right
    4: "Both sound similar to me",  # 2-way (C/D empty), gold B: official reads the first char "B" -> right;
    # the extractor finds no option -> unparsed
    5: "I cannot tell.",  # gold D: neither rule reads a letter -> unparsed
    11: "A.",  # gold A -> right
    12: "C",  # gold B -> wrong
    21: "(C) piano",  # gold C: official unparsed ("(" first, "n" second-to-last); extractor C -> right
    22: "A",  # gold A -> right
}
# the uniq_ids of each split, in row order (the tasks' doc ids are the row indices)
SPLIT_IDS: dict[str, list[int]] = {"speech": [1, 2, 3, 4, 5], "sound": [11, 12], "music": [21, 22]}


def answer_table() -> dict[tuple[str, str], str]:
    """(task name, doc id) -> the scripted answer, for the foundation tasks."""
    return {
        (f"air_bench_foundation_{split}", str(index)): ANSWERS[uid]
        for split, uids in SPLIT_IDS.items()
        for index, uid in enumerate(uids)
    }


def foundation_rows() -> dict[str, list[dict[str, Any]]]:
    gender = ["male", "female", "child", "robot"]
    speech = [
        _mc(
            1, speak("good morning everyone"), "What is the speaker's gender?", gender, 1, "Speaker_Gender_Recognition"
        ),
        _mc(
            2,
            speak("see you tomorrow", "rms"),
            "What is the speaker's gender?",
            gender,
            0,
            "Speaker_Gender_Recognition",
        ),
        _mc(
            3,
            speak("it is raining"),
            "Is this speech synthesized?",
            ["yes", "no", None, None],
            0,
            "Synthesized_Voice_Detection",
        ),
        _mc(
            4,
            speak("hello there", "awb"),
            "Is there more than one speaker?",
            ["no", "yes", "", ""],
            1,
            "Speaker_Number_Verification",
        ),
        _mc(
            5,
            speak("thank you"),
            "Which emotion is expressed?",
            ["happy", "sad", "angry", "neutral"],
            3,
            "Emotion_Recognition",
        ),
    ]
    sound = [
        _mc(11, tone(440), "What is the sound source?", ["a tuning fork", "a dog", "rain", "a car"], 0, "Sound_AQA"),
        _mc(
            12,
            tone(880),
            "Where was this recorded?",
            ["street", "studio", "forest", "beach"],
            1,
            "Acoustic_Scene_Classification",
        ),
    ]
    music = [
        _mc(
            21,
            tone(262),
            "Which instrument plays?",
            ["drums", "guitar", "piano", "violin"],
            2,
            "Music_Instruments_Classfication",
        ),
        _mc(22, tone(330), "What is the genre?", ["classical", "rock", "jazz", "pop"], 0, "Music_Genre_Recognition"),
    ]
    return {"speech": speech, "sound": sound, "music": music}


def _chat(wave: np.ndarray, name: str, question: str, answer: str, meta: str) -> dict[str, Any]:
    return {"audio": audio_cell(wave, name), "question": question, "answer_gt": answer, "meta_info": meta}


def chat_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "speech": [
            _chat(
                speak("please close the window"),
                "c1.wav",
                "What does the speaker ask for?",
                "The speaker asks someone to close the window.",
                "A woman says: please close the window.",
            ),
            _chat(
                speak("the train leaves at nine", "rms"),
                "c2.wav",
                "When does the train leave?",
                "At nine o'clock.",
                "A man says: the train leaves at nine.",
            ),
        ],
        "sound": [_chat(tone(440), "c3.wav", "What do you hear?", "A steady beep.", "A 440 Hz sine tone.")],
        "music": [_chat(tone(262), "c4.wav", "Describe the music.", "A single sustained note.", "Middle C held.")],
        "mixed": [
            _chat(
                np.concatenate([speak("listen to this"), tone(330)]),
                "c5.wav",
                "What happens in the clip?",
                "Someone speaks, then a tone sounds.",
                "A woman says 'listen to this', then a 330 Hz tone.",
            )
        ],
    }


def _check_order(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    assert {split: [r["uniq_id"] for r in split_rows] for split, split_rows in rows.items()} == SPLIT_IDS
    return rows


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(
        mirror,
        REPO_ID,
        {"Foundation": _check_order(foundation_rows()), "Chat": chat_rows()},
        {"Foundation": foundation_features(), "Chat": chat_features()},
    )


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
