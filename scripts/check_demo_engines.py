#!/usr/bin/env python
"""Check the offline demo engines against the demo data (standalone; not part of the package).

Runs pocketsphinx on every ASR clip and rapidocr on every OCR image in
``lmms_eval/tasks/demo/data`` (see ``scripts/make_demo_data.py``) and prints

* corpus WER (jiwer; upper-cased, punctuation stripped except apostrophes) for
  the short-form and long-form sets, plus a comparison of long-audio strategies,
* OCR exact-match accuracy (case-insensitive, whitespace-normalised),
* decoding speed, engine init times and peak RSS.

By default all socket connections are blocked, to prove that both engines work
fully offline (``--allow-network`` disables that).

``transcribe`` and ``read_text`` below are meant to be reused by the package.

Usage::

    python scripts/check_demo_engines.py [--data DIR] [--allow-network]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / "lmms_eval" / "tasks" / "demo" / "data"

# ------------------------------------------------------------ ASR engine ---
SAMPLE_RATE = 16000
MAX_CHUNK_S = 20.0  # audio longer than this is split before decoding
MIN_CHUNK_S = 3.0  # pieces shorter than this are merged with the next one
MIN_PAUSE_S = 0.3  # a pause must be at least this long to be a split point
_FRAME_S = 0.02

_decoder = None


def _get_decoder():
    global _decoder
    if _decoder is None:
        from pocketsphinx import Decoder

        # Bundled US-English acoustic model, language model and dictionary.
        _decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
    return _decoder


def _decode_utterance(samples: np.ndarray) -> str:
    decoder = _get_decoder()
    # Reset the noise-removal statistics, otherwise the result of one call
    # depends (slightly) on the audio decoded before it.
    start_stream = getattr(decoder, "start_stream", None)
    if start_stream is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            start_stream()
    decoder.start_utt()
    decoder.process_raw(np.ascontiguousarray(samples, dtype="<i2").tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


def _pause_centres(x: np.ndarray) -> list[int]:
    """Sample indices at the centre of each pause >= MIN_PAUSE_S (energy based)."""
    frame = int(_FRAME_S * SAMPLE_RATE)
    n = len(x) // frame
    if n < 3:
        return []
    frames = x[: n * frame].astype(np.float64).reshape(n, frame)
    db = 10.0 * np.log10((frames * frames).mean(axis=1) + 1e-9)
    threshold = max(np.percentile(db, 10) + 6.0, db.max() - 40.0)
    silent = db < threshold
    centres, i = [], 0
    while i < n:
        if not silent[i]:
            i += 1
            continue
        j = i
        while j < n and silent[j]:
            j += 1
        if i > 0 and j < n and (j - i) * _FRAME_S >= MIN_PAUSE_S:
            centres.append(((i + j) // 2) * frame)
        i = j
    return centres


def split_on_pauses(x: np.ndarray) -> list[np.ndarray]:
    """Cut at pauses, merge pieces < MIN_CHUNK_S, hard-split pieces > MAX_CHUNK_S."""
    bounds = [0] + _pause_centres(x) + [len(x)]
    min_len, max_len = int(MIN_CHUNK_S * SAMPLE_RATE), int(MAX_CHUNK_S * SAMPLE_RATE)
    merged = [0]
    for b in bounds[1:-1]:
        if b - merged[-1] >= min_len:
            merged.append(b)
    if len(merged) > 1 and len(x) - merged[-1] < min_len:
        merged.pop()  # fold a short tail into the previous piece
    merged.append(len(x))
    pieces = []
    for s, e in zip(merged, merged[1:]):
        k = max(1, int(np.ceil((e - s) / max_len)))
        edges = np.linspace(s, e, k + 1).round().astype(int)
        pieces.extend(x[a:b] for a, b in zip(edges, edges[1:]) if b > a)
    return pieces


def transcribe(audio_int16_16k: np.ndarray) -> str:
    """Transcribe 16 kHz mono int16 audio with pocketsphinx (lower-case words).

    Clips up to MAX_CHUNK_S are decoded as one utterance; longer audio is split
    at pauses (see ``split_on_pauses``) and the pieces' hypotheses are joined.
    """
    x = np.asarray(audio_int16_16k)
    if x.ndim > 1:
        x = x.mean(axis=1)
    if x.dtype != np.int16:
        if np.issubdtype(x.dtype, np.floating):
            x = np.clip(np.round(x * 32767.0), -32768, 32767)
        x = x.astype(np.int16)
    if len(x) == 0:
        return ""
    pieces = [x] if len(x) <= MAX_CHUNK_S * SAMPLE_RATE else split_on_pauses(x)
    return " ".join(h for h in (_decode_utterance(p) for p in pieces) if h)


# ------------------------------------------------------------ OCR engine ---
_ocr = None

OCR_PARAMS = {
    "Global.log_level": "error",
    # Upright text only: skip the 0/180 degree classifier (halves the time).
    "Global.use_cls": False,
    # Default is limit_type=min / 736, which scales small images *up* so the
    # short side is 736 px: ~30x slower and it splits words ("OPEN N DAILY").
    "Det.limit_type": "max",
    "Det.limit_side_len": 960,
}


def _get_ocr():
    global _ocr
    if _ocr is None:
        import rapidocr
        from rapidocr import RapidOCR

        params = dict(OCR_PARAMS)
        # Point at the ONNX files bundled in the wheel explicitly: with an
        # explicit model_path rapidocr never takes its download code path.
        models = Path(rapidocr.__file__).resolve().parent / "models"
        for key, name in (
            ("Det.model_path", "PP-OCRv6_det_small.onnx"),
            ("Rec.model_path", "PP-OCRv6_rec_small.onnx"),
            ("Cls.model_path", "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        ):
            if (models / name).is_file():
                params[key] = str(models / name)
        _ocr = RapidOCR(params=params)
    return _ocr


def read_text(image) -> str:
    """OCR a PIL image; text lines joined top-to-bottom, left-to-right with spaces."""
    result = _get_ocr()(image.convert("RGB"))
    txts = getattr(result, "txts", None)
    if not txts:
        return ""
    boxes = getattr(result, "boxes", None)
    if boxes is None or len(boxes) != len(txts):
        return " ".join(t.strip() for t in txts if t.strip())
    items = []  # (y centre, height, x left, text)
    for text, box in zip(txts, boxes):
        box = np.asarray(box, dtype=np.float64)
        y0, y1 = box[:, 1].min(), box[:, 1].max()
        items.append(((y0 + y1) / 2.0, y1 - y0, box[:, 0].min(), text.strip()))
    items.sort(key=lambda it: (it[0], it[2]))
    lines: list[list[tuple]] = []
    for it in items:  # same line if the vertical centres are close
        if lines and abs(it[0] - lines[-1][-1][0]) < 0.5 * max(it[1], lines[-1][-1][1], 1.0):
            lines[-1].append(it)
        else:
            lines.append([it])
    return " ".join(it[3] for line in lines for it in sorted(line, key=lambda it: it[2]) if it[3])


# ----------------------------------------------------------------- check ---
def _norm_asr(text: str) -> str:
    return " ".join(re.sub(r"[^A-Z' ]+", " ", text.upper()).split())


def _norm_ocr(text: str) -> str:
    return " ".join(text.lower().split())


def _rss_mib() -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB (Linux)."""
    cur = 0.0
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return cur, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _block_network() -> None:
    def refuse(*args, **kwargs):
        raise RuntimeError(f"network access attempted: {args!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    socket.getaddrinfo = refuse  # type: ignore[assignment]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _wer(refs: list[str], hyps: list[str]) -> float:
    import jiwer

    return jiwer.wer([_norm_asr(r) for r in refs], [_norm_asr(h) or "<empty>" for h in hyps])


def check_asr(data: Path) -> None:
    import soundfile as sf

    t = time.perf_counter()
    _get_decoder()
    print(f"pocketsphinx init: {time.perf_counter() - t:.2f} s, RSS now/peak: %.0f/%.0f MiB" % _rss_mib())

    for name in ("asr_short", "asr_long"):
        rows = _read_jsonl(data / f"{name}.jsonl")
        refs, hyps, audio_s, busy_s, cpu_s = [], [], 0.0, 0.0, 0.0
        for row in rows:
            x, sr = sf.read(str(data / row["audio"]), dtype="int16")
            assert sr == SAMPLE_RATE, (row["audio"], sr)
            t, c = time.perf_counter(), time.process_time()
            hyp = transcribe(x)
            busy_s += time.perf_counter() - t
            cpu_s += time.process_time() - c
            audio_s += len(x) / sr
            refs.append(row["text"])
            hyps.append(hyp)
            if name == "asr_short" and _norm_asr(hyp) != _norm_asr(row["text"]):
                print(f"  {row['id']} (spk {row['speaker_id']}): REF {row['text']}\n{'':22}HYP {_norm_asr(hyp)}")
        print(
            f"{name}: {len(rows)} files, {audio_s:.1f} s audio, WER {100 * _wer(refs, hyps):.1f} %, "
            f"speed {audio_s / busy_s:.1f} s audio per wall s ({audio_s / cpu_s:.1f} per CPU s)"
        )

    # Long-form strategy comparison.
    rows = _read_jsonl(data / "asr_long.jsonl")
    audio = [sf.read(str(data / r["audio"]), dtype="int16")[0] for r in rows]
    refs = [r["text"] for r in rows]

    def windows(x: np.ndarray, seconds: float) -> list[np.ndarray]:
        n = int(seconds * SAMPLE_RATE)
        return [x[i : i + n] for i in range(0, len(x), n)]

    strategies = {
        "whole file": lambda x: [x],
        "fixed 20 s windows": lambda x: windows(x, 20.0),
        "fixed 10 s windows": lambda x: windows(x, 10.0),
        "split on pauses (transcribe)": split_on_pauses,
    }
    for label, split in strategies.items():
        t = time.process_time()
        hyps = [" ".join(_decode_utterance(p) for p in split(x)) for x in audio]
        el = time.process_time() - t
        per_file = ", ".join(f"{100 * _wer([r], [h]):.1f}" for r, h in zip(refs, hyps))
        n_audio = sum(len(x) for x in audio) / SAMPLE_RATE
        print(
            f"  long-form {label:30s} WER {100 * _wer(refs, hyps):5.1f} % ({per_file}), "
            f"{n_audio / el:.1f} s audio per CPU s"
        )
    print("after ASR, RSS now/peak: {:.0f}/{:.0f} MiB".format(*_rss_mib()))


def check_ocr(data: Path) -> None:
    from PIL import Image

    rows = _read_jsonl(data / "ocr.jsonl")
    t = time.perf_counter()
    engine = _get_ocr()
    t_ctor = time.perf_counter() - t
    # rapidocr loads its ONNX sessions lazily on the first call.
    t = time.perf_counter()
    read_text(Image.open(data / rows[0]["image"]))
    t_first = time.perf_counter() - t
    print(f"rapidocr init: constructor {t_ctor:.2f} s + first call (loads models) {t_first:.2f} s")
    del engine

    correct, times, cpu = 0, [], []
    for row in rows:
        img = Image.open(data / row["image"])
        t, c = time.perf_counter(), time.process_time()
        hyp = read_text(img)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        ok = any(_norm_ocr(hyp) == _norm_ocr(a) for a in row["answers"])
        correct += ok
        if not ok:
            print(f"  {row['question_id']}: REF {row['answers'][0]!r} HYP {hyp!r}")
    print(
        f"ocr: {len(rows)} images, exact match {correct}/{len(rows)} = {100 * correct / len(rows):.1f} %, "
        f"per image mean {np.mean(times):.3f} s wall (max {max(times):.3f} s), {np.mean(cpu):.3f} CPU s"
    )
    print("after OCR, RSS now/peak: {:.0f}/{:.0f} MiB".format(*_rss_mib()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check pocketsphinx / rapidocr on the demo data.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--allow-network", action="store_true", help="do not block socket connections")
    parser.add_argument("--only", choices=("asr", "ocr"), help="run only one of the two checks")
    args = parser.parse_args(argv)
    if not args.allow_network:
        _block_network()
    print(
        f"CPUs: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}, "
        f"load average: {os.getloadavg()[0]:.1f}"
    )
    print("baseline RSS now/peak: {:.0f}/{:.0f} MiB".format(*_rss_mib()))
    if args.only in (None, "asr"):
        check_asr(args.data)
    if args.only in (None, "ocr"):
        check_ocr(args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
