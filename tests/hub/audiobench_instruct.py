"""Fixture: hub-shaped copies of AudioBench's speech-instruction sets.

``AudioLLMs/openhermes_instruction_test`` and ``AudioLLMs/alpaca_audio_test`` (default config,
split ``test``) with the columns AudioBench reads (``benchmark_schemas.json`` keys
``audiollms_openhermes`` / ``audiollms_alpaca``): ``context`` (``Audio``: the spoken
instruction, 16 kHz), ``speech_instruction`` (its text) and ``answer`` (the reference). The
``context`` audio is flite reading ``speech_instruction``.

``ANSWERS`` is what the scripted test model says per (task, row index) and ``JUDGE_REPLIES``
what the fake judge replies for that answer; ``test_audiobench_instruct.py`` works the scores
out from them by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.common import RATE, audio_cell, speak, write_hub_dataset

OPENHERMES = "AudioLLMs/openhermes_instruction_test"
ALPACA = "AudioLLMs/alpaca_audio_test"

# (speech_instruction, answer, flite voice)
OPENHERMES_ITEMS: list[tuple[str, str, str]] = [
    ("What is the capital of France?", "The capital of France is Paris.", "slt"),
    ("Name three primary colors.", "Red, blue and yellow are the three primary colors.", "rms"),
    ("How many legs does a spider have?", "A spider has eight legs.", "awb"),
    ("Give a synonym for happy.", "A synonym for happy is joyful.", "slt"),
]
ALPACA_ITEMS: list[tuple[str, str, str]] = [
    ("Describe the color of the sky on a clear day.", "On a clear day the sky is blue.", "rms"),
    ("Translate hello into Spanish.", "Hello in Spanish is hola.", "slt"),
    ("Suggest a name for a pet cat.", "A good name for a pet cat is Whiskers.", "awb"),
]

# doc id (row index) -> the scripted model's answer
ANSWERS: dict[str, dict[str, str]] = {
    "openhermes_audio_test": {
        "0": "Paris is the capital of France.",
        "1": "Red, green and blue.",
        "2": "Spiders have many legs.",
        "3": "Glad is a word that means happy.",
    },
    "alpaca_audio_test": {
        "0": "The sky is blue, sometimes light blue.",
        "1": "It is adios.",
        "2": "I cannot decide.",
    },
}

# the model's answer -> the fake judge's reply (AudioBench reads the last token as a float)
JUDGE_REPLIES: dict[str, str] = {
    "Paris is the capital of France.": (
        "Explanation: The reference answer is [Paris], while the model's answer is [Paris]. "
        "I think they match.\nRating: 5"
    ),
    "Red, green and blue.": "Explanation: Two of three colours differ from the reference.\nRating: 3.",
    "Spiders have many legs.": "Explanation: Vague, no number.\nRating: **1**",  # last token not a number
    "Glad is a word that means happy.": "Explanation: A different synonym.\nRating: 6",  # outside 0..5
    "The sky is blue, sometimes light blue.": "Explanation: Correct with detail.\nRating: 4.5",
    "It is adios.": "Explanation: Wrong word.\nRating: 1",
    "I cannot decide.": "Explanation: The model refuses.\nRating: 0",
}


def features() -> Any:
    import datasets

    text = datasets.Value("string")
    return datasets.Features(
        {"context": datasets.Audio(sampling_rate=RATE), "speech_instruction": text, "answer": text}
    )


def rows(items: list[tuple[str, str, str]], prefix: str) -> list[dict[str, Any]]:
    """One row per item: flite reads the instruction into ``context``."""
    return [
        {
            "context": audio_cell(speak(instruction, voice), f"{prefix}_{i}.wav"),
            "speech_instruction": instruction,
            "answer": answer,
        }
        for i, (instruction, answer, voice) in enumerate(items)
    ]


def build(mirror: Path) -> Path:
    """Write both fixture datasets under ``mirror`` and return ``mirror``."""
    write_hub_dataset(mirror, OPENHERMES, {"default": {"test": rows(OPENHERMES_ITEMS, "oh")}}, {"default": features()})
    write_hub_dataset(mirror, ALPACA, {"default": {"test": rows(ALPACA_ITEMS, "al")}}, {"default": features()})
    return mirror


if __name__ == "__main__":
    import sys

    print(build(Path(sys.argv[1] if len(sys.argv) > 1 else "hub_mirror")))
