"""Fixtures of ``openslr/librispeech_asr`` and ``lmms-lab-audio/Librispeech-concat`` (exact hub schemas).

The utterance set has two speaker-chapters per config, with its rows shuffled (the builder must
restore utterance-id order); the concat set holds those chapters joined, as the hub copy does:
the utterances' audio end to end and their transcripts sentence-cased, joined by spaces.
Speech is flite's (deterministic), so both sets hold the very same samples.

``python tests/hub/librispeech.py OUT`` writes both under ``OUT``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from hub.common import RATE, audio_cell, silence, speak, write_hub_dataset

UTTERANCE_ID = "openslr/librispeech_asr"
LONG_ID = "lmms-lab-audio/Librispeech-concat"

# config -> chapter "speaker-chapter" -> utterance texts in id order (LibriSpeech: upper case, no punctuation)
CHAPTERS: dict[str, dict[str, list[str]]] = {
    "clean": {
        "1089-134686": ["THE END IS NEAR", "WE SAW THE END", "GOOD NIGHT"],
        "121-121726": ["THE END", "IT WAS COLD"],
    },
    "other": {
        "1688-142285": ["THE END OF THE DAY", "AT THE END"],
        "2033-164914": ["NO MORE"],
        "3005-163389": ["THE END CAME"] * 5,
    },
}
VOICES = {"1089": "slt", "121": "rms", "1688": "awb", "2033": "kal16", "3005": "slt"}
# chapter -> every utterance padded with trailing silence to exactly this many seconds, so window
# packing is computable by hand: 5 x 7 s = 35 s, i.e. 4 + 1 utterances in 30 s windows
PADDED = {"3005-163389": 7.0}
# the order rows are stored in (not id order): the builder has to sort
SHUFFLE = {"clean": [4, 0, 2, 3, 1], "other": [5, 1, 7, 2, 0, 4, 6, 3]}


def utterance_features() -> Any:
    """``openslr/librispeech_asr`` features (configs clean/other; README dataset_info)."""
    import datasets

    return datasets.Features(
        {
            "file": datasets.Value("string"),
            "audio": datasets.Audio(sampling_rate=16000),
            "text": datasets.Value("string"),
            "speaker_id": datasets.Value("int64"),
            "chapter_id": datasets.Value("int64"),
            "id": datasets.Value("string"),
        }
    )


def long_features() -> Any:
    """``lmms-lab-audio/Librispeech-concat`` features (default config)."""
    import datasets

    return datasets.Features(
        {
            "audio": datasets.Audio(),
            "transcript": datasets.Value("string"),
            "audio_id": datasets.Value("string"),
            "audio_duration": datasets.Value("float64"),
        }
    )


def utterances(config: str) -> list[tuple[str, str, np.ndarray]]:
    """``(id, text, wave)`` of a config's utterances, in id order."""
    out = []
    for chapter, texts in CHAPTERS[config].items():
        speaker = chapter.split("-")[0]
        for k, text in enumerate(texts):
            wave = quantize(speak(text.lower(), VOICES[speaker]))
            if chapter in PADDED:
                assert len(wave) < PADDED[chapter] * RATE, (chapter, len(wave))
                wave = np.concatenate([wave, silence(PADDED[chapter] - len(wave) / RATE)])
            out.append((f"{chapter}-{k:04d}", text, wave))
    return out


def quantize(wave: np.ndarray) -> np.ndarray:
    """``wave`` as 16-bit PCM stores it (so FLAC and WAV copies decode to the same samples)."""
    return (np.round(np.clip(wave, -1.0, 32767 / 32768) * 32768) / 32768).astype(np.float32)


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:].lower()


def utterance_rows(config: str) -> list[dict[str, Any]]:
    rows = []
    for utt_id, text, wave in utterances(config):
        speaker, chapter, _ = utt_id.split("-")
        rows.append(
            {
                "file": f"{utt_id}.flac",
                "audio": audio_cell(wave, f"{utt_id}.flac", RATE, "FLAC"),
                "text": text,
                "speaker_id": int(speaker),
                "chapter_id": int(chapter),
                "id": utt_id,
            }
        )
    return [rows[i] for i in SHUFFLE[config]]


def long_rows(config: str) -> list[dict[str, Any]]:
    rows = []
    by_chapter: dict[str, list[tuple[str, np.ndarray]]] = {}
    for utt_id, text, wave in utterances(config):
        by_chapter.setdefault(utt_id.rsplit("-", 1)[0], []).append((text, wave))
    for chapter, items in by_chapter.items():
        wave = np.concatenate([w for _, w in items])
        rows.append(
            {
                "audio": audio_cell(wave, f"{chapter}.wav", RATE, "WAV"),
                "transcript": sentence_case(" ".join(t for t, _ in items)),
                "audio_id": chapter,
                "audio_duration": len(wave) / RATE,
            }
        )
    return rows


def build_utterances(mirror: Path) -> Path:
    """``<mirror>/openslr/librispeech_asr`` with configs clean/other, splits ``test`` and
    ``validation`` (the same rows: the dev tasks only need a split of that name to load)."""
    splits = {config: {"validation": utterance_rows(config), "test": utterance_rows(config)} for config in CHAPTERS}
    return write_hub_dataset(mirror, UTTERANCE_ID, splits, {config: utterance_features() for config in CHAPTERS})


def build_long(mirror: Path) -> Path:
    """``<mirror>/lmms-lab-audio/Librispeech-concat``, splits ``test_clean`` / ``test_other``."""
    splits = {"default": {f"test_{config}": long_rows(config) for config in CHAPTERS}}
    return write_hub_dataset(mirror, LONG_ID, splits, {"default": long_features()})


def build(mirror: Path) -> Path:
    """Both fixtures under ``mirror``."""
    build_utterances(mirror)
    build_long(mirror)
    return mirror


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
