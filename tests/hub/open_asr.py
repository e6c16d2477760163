"""Fixture of ``hf-audio/esb-datasets-test-only-sorted``: the four ESB configs of the open_asr tasks.

Same configs (``ami``, ``earnings22``, ``spgispeech``, ``tedlium``), split (``test``), columns and
feature types as the hub copy (dataset card at revision d4563d5): ``audio`` Audio(16 kHz),
``dataset`` string, ``text`` string, ``id`` string, ``audio_length_s`` float64. The speech is
flite reading each reference; as in the real sets, AMI has a filler-only reference (normalises
to empty) and TED-LIUM an ``ignore_time_segment_in_scoring`` reference (left out of scoring).

Run ``python tests/hub/open_asr.py MIRROR`` to write it, then ``LMMS_EVAL_HUB_MIRROR=MIRROR``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as a script: make ``hub.common`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.common import RATE, audio_cell, silence, speak, write_hub_dataset

if TYPE_CHECKING:
    import datasets

REPO_ID = "hf-audio/esb-datasets-test-only-sorted"

# config -> [(id, reference text, what flite says, voice)]; the text styles follow each set
# (AMI upper case with fillers, Earnings22/SPGISpeech cased with punctuation, TED-LIUM lower case).
ROWS: dict[str, list[tuple[str, str, str, str]]] = {
    "ami": [
        ("AMI_ES2004a_H00_MEE014_0000557_0000594", "THE REPORT IS READY", "the report is ready", "slt"),
        ("AMI_ES2004a_H01_FEE013_0001012_0001030", "UM", "um", "rms"),
        ("AMI_ES2004a_H02_MEE016_0002101_0002154", "THE PROJECT IS DONE TODAY", "the project is done today", "awb"),
    ],
    "earnings22": [
        ("4468679_0", "The report is ready.", "the report is ready", "kal16"),
        ("4468679_1", "Thank you.", "thank you", "slt"),
    ],
    "spgispeech": [
        ("1b3f2c9e7a_12", "The report is ready, thanks.", "the report is ready thanks", "rms"),
    ],
    "tedlium": [
        ("AlGore_2009-0000000-0000325", "ignore_time_segment_in_scoring", "", "slt"),
        ("AlGore_2009-0000325-0000870", "the report is ready", "the report is ready", "awb"),
        ("AlGore_2009-0000870-0001402", "the report was not ready", "the report was not ready", "kal16"),
    ],
}

# References that the leaderboard leaves out (normalised reference empty / the TED-LIUM marker).
LEFT_OUT = {"AMI_ES2004a_H01_FEE013_0001012_0001030", "AlGore_2009-0000000-0000325"}


def features() -> datasets.Features:
    """The hub copy's ``datasets.Features`` (the same for every config)."""
    import datasets

    return datasets.Features(
        {
            "audio": datasets.Audio(sampling_rate=RATE),
            "dataset": datasets.Value("string"),
            "text": datasets.Value("string"),
            "id": datasets.Value("string"),
            "audio_length_s": datasets.Value("float64"),
        }
    )


def build(mirror: Path) -> Path:
    """Write the fixture repository under ``mirror``; returns its folder."""
    splits = {}
    for config, rows in ROWS.items():
        out = []
        for sample_id, text, said, voice in rows:
            # the ignored TED-LIUM segment is music/applause in the real set: here 1.5 s of silence
            wave = speak(said, voice) if said else silence(1.5)
            out.append(
                {
                    "audio": audio_cell(wave, f"{sample_id}.wav"),
                    "dataset": config,
                    "text": text,
                    "id": sample_id,
                    "audio_length_s": len(wave) / RATE,
                }
            )
        splits[config] = {"test": out}
    feats = features()
    return write_hub_dataset(mirror, REPO_ID, splits, {config: feats for config in ROWS})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/hub/open_asr.py MIRROR_FOLDER")
    print(build(Path(sys.argv[1])))
