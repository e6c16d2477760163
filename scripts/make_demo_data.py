#!/usr/bin/env python
"""Generate the offline demo data shipped in ``lmms_eval/tasks/demo/data/``.

What it makes (all paths relative to the data folder):

* ``asr/demo-NNNN.flac`` + ``asr_short.jsonl`` -- short-form ASR: one English
  sentence per clip, synthesised with flite (voices alternate), 16 kHz mono
  16-bit FLAC.  Index rows use the LibriSpeech column names:
  ``{"id", "audio", "text", "speaker_id"}`` with an upper-case transcript
  without punctuation (apostrophes kept), as LibriSpeech does.
* ``asr/long-NNNN.flac`` + ``asr_long.jsonl`` -- long-form ASR: about ten
  sentences read by one voice, joined with 0.4 s of silence (~45 s each).
* ``ocr/ocr-NNNN.png`` + ``ocr.jsonl`` -- OCR: one short line of text drawn
  black (or dark gray) on a white / light-gray background.  Index rows use
  DocVQA-like column names: ``{"question_id", "image", "question", "answers"}``.

Requirements: the ``flite`` text-to-speech program on PATH (Debian/Ubuntu:
``apt-get install -y flite``), plus numpy, soundfile and Pillow.  Text is drawn
with DejaVu Sans when /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf exists,
otherwise with Pillow's built-in default font.

The script is idempotent and deterministic: it rewrites the data folder's
``asr/`` and ``ocr/`` sub-folders and the three index files from scratch, and
flite, libsndfile and Pillow produce the same bytes on every run (given the
same tool versions and font).  Usage::

    python scripts/make_demo_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "lmms_eval" / "tasks" / "demo" / "data"

SAMPLE_RATE = 16000
GAP_SECONDS = 0.4
SIZE_LIMIT_BYTES = 3 * 1024 * 1024

# flite voices; the index in this list is used as ``speaker_id``.
VOICES = ["slt", "kal", "rms", "awb"]

# Plain everyday reading sentences (8-16 words, no digits, only . , ').
SENTENCES = [
    "The old man walked slowly down the road toward the quiet village.",
    "She opened the window and let the cool morning air into the room.",
    "We had a long talk about the weather and the coming harvest.",
    "The children played in the garden until their mother called them home for supper.",
    "He could not remember where he had left his keys the night before.",
    "A small boat drifted across the lake while the sun went down.",
    "My brother works in a large office near the center of the city.",
    "They waited at the station for nearly an hour before the train arrived.",
    "The teacher asked the class to read the first chapter of the book.",
    "It was a cold and dark evening, and the wind blew through the trees.",
    "I think we should leave early tomorrow if we want to find a good seat.",
    "The doctor told her to rest for a few days and drink plenty of water.",
    "Every summer the family traveled to the coast to visit their grandparents.",
    "He put the letter on the table and walked out without saying a word.",
    "The little dog barked loudly when the stranger knocked at the door.",
    "She always wanted to learn how to paint, but she never found the time.",
    "The market was full of people buying fresh bread and vegetables.",
    "After dinner we sat by the fire and listened to the rain outside.",
    "The young woman smiled and thanked him for his kind help.",
    "Nobody knew why the old house on the hill had been empty for so long.",
]

# Long-form recordings: (voice, sentence indices).  One voice per recording so
# that ``speaker_id`` is meaningful.
LONG_FORM = [
    ("slt", list(range(0, 10))),
    ("kal", list(range(10, 20))),
]

# OCR lines: (text, font size, background gray level, ink gray level).
OCR_ITEMS = [
    ("Hello World", 40, 255, 0),
    ("OPEN DAILY", 48, 255, 0),
    ("TOTAL 42.50", 36, 255, 0),
    ("Thank You", 44, 235, 0),
    ("INVOICE 1047", 32, 255, 0),
    ("Fresh Coffee", 40, 255, 0),
    ("NO PARKING", 56, 225, 20),
    ("Good Morning", 30, 255, 0),
    ("Room 214", 44, 255, 0),
    ("EXIT", 64, 255, 0),
    ("Welcome Home", 36, 240, 0),
    ("Order 5531", 40, 255, 0),
    ("Main Street", 28, 255, 0),
    ("CLOSED", 52, 230, 0),
    ("Best Price", 40, 255, 40),
    ("Page 12", 32, 255, 0),
    ("Fire Exit Only", 36, 255, 0),
    ("PAY HERE", 44, 245, 0),
    ("Green Tea 3.75", 34, 255, 0),
    ("Keep This Door Closed", 30, 255, 0),
]
OCR_QUESTION = "What text is written in the image?"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


# ---------------------------------------------------------------- audio ---
def librispeech_text(text: str) -> str:
    """Upper-case and drop punctuation except apostrophes (LibriSpeech style)."""
    text = re.sub(r"[^A-Za-z' ]+", " ", text)
    return " ".join(text.upper().split())


def resample_linear(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Deterministic linear-interpolation resampling of a 1-D int16 signal."""
    if sr_in == sr_out:
        return x.astype(np.int16, copy=False)
    n_out = int(round(len(x) * sr_out / sr_in))
    t_out = np.arange(n_out, dtype=np.float64) * (sr_in / sr_out)
    y = np.interp(t_out, np.arange(len(x), dtype=np.float64), x.astype(np.float64))
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def synthesize(text: str, voice: str, workdir: Path) -> np.ndarray:
    """Run flite and return 16 kHz mono int16 samples."""
    wav = workdir / "tts.wav"
    subprocess.run(
        ["flite", "-voice", voice, "-t", text, "-o", str(wav)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    data, sr = sf.read(str(wav), dtype="int16", always_2d=True)
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1).round().astype(np.int16)
    return resample_linear(mono, sr, SAMPLE_RATE)


def write_flac(path: Path, samples: np.ndarray) -> None:
    try:  # strongest FLAC compression (soundfile >= 0.12.1), a few % smaller
        sf.write(str(path), samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)
    except TypeError:
        sf.write(str(path), samples, SAMPLE_RATE, format="FLAC", subtype="PCM_16")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def make_asr(out: Path, workdir: Path) -> tuple[list[dict], list[dict]]:
    asr_dir = out / "asr"
    asr_dir.mkdir(parents=True, exist_ok=True)
    short_rows = []
    for i, sentence in enumerate(SENTENCES):
        voice_idx = i % len(VOICES)
        samples = synthesize(sentence, VOICES[voice_idx], workdir)
        uid = f"demo-{i:04d}"
        write_flac(asr_dir / f"{uid}.flac", samples)
        short_rows.append(
            {"id": uid, "audio": f"asr/{uid}.flac", "text": librispeech_text(sentence), "speaker_id": voice_idx}
        )
    long_rows = []
    gap = np.zeros(int(round(GAP_SECONDS * SAMPLE_RATE)), dtype=np.int16)
    for j, (voice, idxs) in enumerate(LONG_FORM):
        pieces = []
        for k, idx in enumerate(idxs):
            if k:
                pieces.append(gap)
            pieces.append(synthesize(SENTENCES[idx], voice, workdir))
        uid = f"long-{j:04d}"
        write_flac(asr_dir / f"{uid}.flac", np.concatenate(pieces))
        text = " ".join(librispeech_text(SENTENCES[idx]) for idx in idxs)
        long_rows.append({"id": uid, "audio": f"asr/{uid}.flac", "text": text, "speaker_id": VOICES.index(voice)})
    write_jsonl(out / "asr_short.jsonl", short_rows)
    write_jsonl(out / "asr_long.jsonl", long_rows)
    return short_rows, long_rows


# ------------------------------------------------------------------ ocr ---
def load_font(size: int):
    if DEJAVU.exists():
        return ImageFont.truetype(str(DEJAVU), size)
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1
    except TypeError:  # very old Pillow: fixed-size bitmap font
        return ImageFont.load_default()


def render_line(text: str, size: int, bg: int, ink: int) -> Image.Image:
    font = load_font(size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    pad_x, pad_y = max(16, size // 2), max(12, size // 3)
    img = Image.new("L", (right - left + 2 * pad_x, bottom - top + 2 * pad_y), bg)
    ImageDraw.Draw(img).text((pad_x - left, pad_y - top), text, font=font, fill=ink)
    return img


def make_ocr(out: Path) -> list[dict]:
    ocr_dir = out / "ocr"
    ocr_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (text, size, bg, ink) in enumerate(OCR_ITEMS):
        qid = f"ocr-{i:04d}"
        render_line(text, size, bg, ink).save(ocr_dir / f"{qid}.png", format="PNG", optimize=True)
        rows.append({"question_id": qid, "image": f"ocr/{qid}.png", "question": OCR_QUESTION, "answers": [text]})
    write_jsonl(out / "ocr.jsonl", rows)
    return rows


# ----------------------------------------------------------------- main ---
def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="data folder (default: %(default)s)")
    args = parser.parse_args(argv)
    out: Path = args.out

    if shutil.which("flite") is None:
        print("error: 'flite' not found on PATH (apt-get install -y flite)", file=sys.stderr)
        return 1

    out.mkdir(parents=True, exist_ok=True)
    for sub in ("asr", "ocr"):
        shutil.rmtree(out / sub, ignore_errors=True)

    with tempfile.TemporaryDirectory(prefix="demo_tts_") as tmp:
        short_rows, long_rows = make_asr(out, Path(tmp))
    ocr_rows = make_ocr(out)

    def dur(rel: str) -> float:
        return sf.info(str(out / rel)).duration

    short_s = sum(dur(r["audio"]) for r in short_rows)
    long_s = [dur(r["audio"]) for r in long_rows]
    total = folder_size(out)
    print(f"data folder: {out}")
    print(f"  asr short: {len(short_rows)} clips, {short_s:.1f} s audio")
    print(f"  asr long : {len(long_rows)} recordings, " + ", ".join(f"{s:.1f} s" for s in long_s))
    print(f"  ocr      : {len(ocr_rows)} images (font: {'DejaVuSans' if DEJAVU.exists() else 'PIL default'})")
    print(f"  total size: {total / 1024:.1f} KiB ({total} bytes)")
    if total > SIZE_LIMIT_BYTES:
        print(f"warning: data folder exceeds {SIZE_LIMIT_BYTES // (1024 * 1024)} MiB", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
