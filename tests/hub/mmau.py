"""Fixture: a hub-shaped copy of ``lmms-lab/mmau`` (default config, split ``test_mini``).

Columns and types as the hub card declares them (``benchmark_schemas.json`` key ``mmau``):
``id, audio`` (``Audio(sampling_rate=192000)``), ``question``, ``choices`` (a JSON-encoded
STRING list), ``answer`` (the option text), ``dataset, task`` (domain: sound / music /
speech), ``split, category, sub-category, difficulty``. Speech rows are flite speech, the
others tones. ``ANSWERS`` is what the scripted test model says per ``id``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.air_bench import tone
from hub.common import audio_cell, speak, write_hub_dataset

REPO_ID = "lmms-lab/mmau"


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    columns: dict[str, Any] = {"id": text, "audio": datasets.Audio(sampling_rate=192000)}
    for name in ("question", "choices", "answer", "dataset", "task", "split", "category", "sub-category", "difficulty"):
        columns[name] = text
    return datasets.Features(columns)


# id -> the scripted model's answer (hand-worked scores in test_mmau.py)
ANSWERS: dict[str, str] = {
    "s1": "A",  # -> "Man": right; raw "A" fails string_match
    "s2": "It is a car horn.",  # names option C's text: right, raw also right
    "s3": "Outdoors",  # equals option B: right, raw right
    "m1": "B",  # -> "Guitar", answer "Violin": wrong
    "m2": "I don't know",  # no option: unparsed, wrong
    "p1": "Sad, not happy",  # two options named: unparsed; raw has a wrong option's token: wrong
    "p2": "(B)",  # -> "Two speakers": right; raw wrong
}


def _row(uid: str, wave: Any, domain: str, question: str, choices: list[str], answer: str, sub: str) -> dict[str, Any]:
    return {
        "id": uid,
        "audio": audio_cell(wave, f"{uid}.wav"),
        "question": question,
        "choices": json.dumps(choices),
        "answer": answer,
        "dataset": "fixture",
        "task": domain,
        "split": "test-mini",
        "category": "Reasoning" if domain != "music" else "Information Extraction",
        "sub-category": sub,
        "difficulty": "easy",
    }


def rows() -> list[dict[str, Any]]:
    """Seven rows, deliberately interleaving domains (3 sound, 2 music, 2 speech)."""
    return [
        _row(
            "s1",
            tone(200),
            "sound",
            "Identify the source of the voice.",
            ["Man", "Woman", "Child", "Robot"],
            "Man",
            "Acoustic Source Inference",
        ),
        _row(
            "m1",
            tone(262),
            "music",
            "Which instrument is playing?",
            ["Piano", "Guitar", "Violin", "Drums"],
            "Violin",
            "Instrumentation",
        ),
        _row(
            "p1",
            speak("i lost my keys again"),
            "speech",
            "What is the speaker's emotion?",
            ["Happy", "Sad", "Angry", "Neutral"],
            "Sad",
            "Emotion Tone Reasoning",
        ),
        _row(
            "s2",
            tone(440),
            "sound",
            "What makes this sound?",
            ["Dog barking", "Cat meowing", "Car horn", "Rain"],
            "Car horn",
            "Sound Identification",
        ),
        _row("m2", tone(330), "music", "Is the tempo fast or slow?", ["Fast", "Slow"], "Slow", "Temporal Reasoning"),
        _row(
            "p2",
            speak("are you coming with us", "rms"),
            "speech",
            "How many speakers are there?",
            ["One speaker", "Two speakers", "Three speakers"],
            "Two speakers",
            "Speaker Counting",
        ),
        _row(
            "s3", tone(880), "sound", "Where was this recorded?", ["Indoors", "Outdoors"], "Outdoors", "Scene Reasoning"
        ),
    ]


def build(mirror: Path) -> Path:
    """Write the fixture mirror under ``mirror`` and return the dataset folder."""
    return write_hub_dataset(mirror, REPO_ID, {"default": {"test_mini": rows()}}, {"default": features()})


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
