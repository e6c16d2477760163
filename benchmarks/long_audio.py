"""Long audio through the media layer, and corpus WER at scale.

Audio part: a 44.1 kHz mono recording (a pitch-changing tone plus noise, so codecs do real work)
of 1, 5 and 15 minutes is encoded as WAV and FLAC bytes. Each step runs in a fresh worker
process (so peak RSS is that step's own) that loads only the step's input, then reports the
step's wall time (best of ``--repeats``) and peak RSS above what it held before the step:

* decode: ``lmms_eval.media.decode_audio(bytes)`` vs ``soundfile.read`` called directly (the
  baseline, same bytes): ratio media/direct;
* resample 44.1 kHz -> 16 kHz: ``lmms_eval.media.resample`` (soxr HQ) vs ``soxr.resample``
  called directly: ratio media/direct;
* Whisper features: ``transformers.WhisperFeatureExtractor`` on the 16 kHz audio cut into
  consecutive 30 s chunks (one call, as the aero/qwen2_audio adapters do) vs the un-truncated
  long-form call of the whisper adapter (``truncation=False``): ratio chunked/long-form.

Every figure is also given as x real time (audio seconds / wall seconds).

WER part: ``--utterances`` (default 100,000) synthetic reference/hypothesis pairs (5-30 words,
~10 % of words deleted/substituted/inserted, ~30 % perfect) scored with
``lmms_eval.metrics.asr.wer_open_asr`` per sample, then the corpus aggregation and its bootstrap
stderr (1,000 resamples, vectorised). Baselines in the same run: the Whisper normaliser alone
on the same texts, and ``jiwer.process_words`` alone on pre-normalised texts. The goal for the
whole is under 5 s. Last line: a second metric on the same texts (``cer_whisper``), which the
memoised normaliser makes cheap.

    python benchmarks/long_audio.py                         # ~2-4 minutes on 2 cores
    python benchmarks/long_audio.py --minutes 1 5 --utterances 20000 --repeats 1
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SOURCE_RATE = 44100
TARGET_RATE = 16000


def synth(seconds: float, rate: int = SOURCE_RATE, seed: int = 0) -> np.ndarray:
    """A tone whose pitch changes every second plus a little noise (float32 mono)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    freqs = np.repeat(rng.uniform(120, 3000, int(np.ceil(seconds))), rate)[:n]
    phase = 2 * np.pi * np.cumsum(freqs) / rate
    wave = 0.3 * np.sin(phase) + 0.02 * rng.standard_normal(n)
    return wave.astype(np.float32)


def encode(wave: np.ndarray, fmt: str) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, wave, SOURCE_RATE, format=fmt, subtype="PCM_16")
    return buf.getvalue()


# ---- worker side: one step, one process --------------------------------------------------------


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) via /proc/self/clear_refs (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_bytes() -> int:
    """Peak RSS since the last reset (VmHWM), else since the process started (ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024  # Linux: KiB


def _step(name: str, source: bytes | np.ndarray) -> Any:
    """A callable running step ``name`` once on ``source`` (encoded bytes or a waveform)."""
    if name == "decode_media":
        from lmms_eval.media import decode_audio

        return lambda: decode_audio(source, "bench")
    if name == "decode_direct":
        import soundfile as sf

        return lambda: sf.read(io.BytesIO(source), dtype="float32", always_2d=True)  # type: ignore[arg-type]
    wave = np.asarray(source)
    if name == "resample_media":
        from lmms_eval.media import resample

        return lambda: resample(wave, SOURCE_RATE, TARGET_RATE)
    if name == "resample_direct":
        import soxr

        return lambda: soxr.resample(wave, SOURCE_RATE, TARGET_RATE, quality="HQ")
    from transformers import WhisperFeatureExtractor

    fe = WhisperFeatureExtractor()
    if name == "features_chunked":
        size = 30 * TARGET_RATE
        chunks = [wave[i : i + size] for i in range(0, len(wave), size)]
        return lambda: fe(chunks, sampling_rate=TARGET_RATE, return_tensors="np")["input_features"]
    if name == "features_longform":
        return lambda: fe(wave, sampling_rate=TARGET_RATE, truncation=False, padding="longest", return_tensors="np")[
            "input_features"
        ]
    raise ValueError(f"unknown step {name!r}")


def worker(name: str, path: str, repeats: int) -> None:
    """Run one step ``repeats`` times; print JSON {best_s, peak_mb} on stdout.

    The step first runs once on 0.5 s of audio so lazy imports and one-off buffers do not count
    as the step's memory; the peak-RSS mark is then reset, and the figure is the new peak above
    the RSS held with the input loaded.
    """
    decode = name.startswith("decode")
    tiny = synth(0.5)
    _step(name, encode(tiny, "WAV") if decode else tiny)()
    source: bytes | np.ndarray = Path(path).read_bytes() if decode else np.load(path)
    run = _step(name, source)
    _reset_peak()
    before = _rss_bytes()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
        del result
    peak = max(0, _peak_bytes() - before)
    print(json.dumps({"best_s": best, "peak_mb": peak / 2**20}))


def measure(name: str, path: Path, repeats: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, str(path), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# ---- audio figures -------------------------------------------------------------------------------


def audio_figures(minutes: list[float], repeats: int) -> None:
    print(f"{'input':>8} {'step':<22} {'wall s':>8} {'x realtime':>11} {'peak MB':>8}  ratio")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for m in minutes:
            seconds = 60.0 * m
            wave = synth(seconds)
            np.save(root / "src.npy", wave)
            from lmms_eval.media import resample

            np.save(root / "16k.npy", resample(wave, SOURCE_RATE, TARGET_RATE))
            pairs: list[tuple[str, str, Path, str]] = []
            for fmt in ("WAV", "FLAC"):
                blob = root / f"src.{fmt.lower()}"
                blob.write_bytes(encode(wave, fmt))
                pairs.append((f"decode {fmt} ({blob.stat().st_size / 2**20:.0f} MB)", "decode", blob, "media/direct"))
            pairs.append(("resample 44.1k->16k", "resample", root / "src.npy", "media/direct"))
            del wave
            for label, kind, path, ratio_name in pairs:
                media = measure(f"{kind}_media", path, repeats)
                direct = measure(f"{kind}_direct", path, repeats)
                _row(m, label, media, seconds, f"{ratio_name} {media['best_s'] / direct['best_s']:.2f}")
                _row(m, "  (direct)", direct, seconds, "")
            chunked = measure("features_chunked", root / "16k.npy", repeats)
            longform = measure("features_longform", root / "16k.npy", repeats)
            _row(
                m,
                "whisper features 30s",
                chunked,
                seconds,
                f"chunked/long-form {chunked['best_s'] / longform['best_s']:.2f}",
            )
            _row(m, "  (long-form)", longform, seconds, "")


def _row(minutes: float, label: str, fig: dict[str, float], seconds: float, ratio: str) -> None:
    print(
        f"{minutes:>6g}min {label:<22} {fig['best_s']:>8.3f} {seconds / fig['best_s']:>10.0f}x "
        f"{fig['peak_mb']:>8.0f}  {ratio}"
    )


# ---- WER figures ---------------------------------------------------------------------------------

WORDS = (
    "the a of and to in he she it was that his her with for as on had at by mister missus doctor "
    "colour color twenty five hundred thousand first second one two three dollars percent o'clock "
    "gonna wanna okay uh um street saint avenue quick brown fox jumps over lazy dog"
).split()


def utterances(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    refs, hyps = [], []
    for _ in range(n):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(5, 30))]
        if rng.random() < 0.3:
            hyp = list(ref)
        else:
            hyp = []
            for w in ref:
                r = rng.random()
                if r < 0.04:
                    continue
                hyp.append(rng.choice(WORDS) if r < 0.08 else w)
                if r > 0.98:
                    hyp.append(rng.choice(WORDS))
        text = " ".join(ref)
        refs.append(text[0].upper() + text[1:] + ".")
        hyps.append(" ".join(hyp))
    return refs, hyps


def wer_figures(n: int) -> None:
    import jiwer

    from lmms_eval.engine.stats import bootstrap_stderr
    from lmms_eval.metrics import asr

    refs, hyps = utterances(n)
    asr.normalize_whisper_english("warm up")  # load the normaliser outside the timings
    asr._normalize_whisper_cached.cache_clear()
    started = time.perf_counter()
    values = [asr.wer_open_asr(h, r) for h, r in zip(hyps, refs)]
    per_sample = time.perf_counter() - started
    started = time.perf_counter()
    score = asr.corpus_rate(values)
    stderr = bootstrap_stderr(values, asr.corpus_rate, 1000, "bench wer")
    aggregate = time.perf_counter() - started
    total = per_sample + aggregate

    normaliser = asr._whisper_english()
    started = time.perf_counter()
    norm_r = [" ".join(normaliser(r).split()) for r in refs]
    norm_h = [" ".join(normaliser(h).split()) for h in hyps]
    normalise_only = time.perf_counter() - started
    started = time.perf_counter()
    for r, h in zip(norm_r, norm_h):
        if r and h:
            jiwer.process_words(r, h)
    jiwer_only = time.perf_counter() - started
    # A task scoring two metrics on the same texts (wer_open_asr + cer_whisper, per sample, as
    # the engine does): with the memoised normaliser the second metric skips normalising.
    m = min(n, 20_000)
    asr._normalize_whisper_cached.cache_clear()
    started = time.perf_counter()
    for h, r in zip(hyps[:m], refs[:m]):
        asr.wer_open_asr(h, r)
    one_metric = time.perf_counter() - started
    asr._normalize_whisper_cached.cache_clear()
    started = time.perf_counter()
    for h, r in zip(hyps[:m], refs[:m]):
        asr.wer_open_asr(h, r)
        asr.cer_whisper(h, r)
    two_metrics = time.perf_counter() - started
    clear = asr._normalize_whisper_cached.cache_clear
    started = time.perf_counter()
    for h, r in zip(hyps[:m], refs[:m]):
        clear()
        asr.wer_open_asr(h, r)
        clear()
        asr.cer_whisper(h, r)
    no_memo = time.perf_counter() - started
    print(f"\ncorpus WER over {n:,} utterances: {score:.3f} % (bootstrap stderr {stderr:.3f})")
    print(f"  wer_open_asr per sample      {per_sample:8.2f} s  ({1e6 * per_sample / n:.0f} us/utterance)")
    print(f"  corpus + bootstrap (1000)    {aggregate:8.2f} s")
    print(f"  total                        {total:8.2f} s  (goal < 5 s: {'met' if total < 5 else 'NOT met'})")
    print(f"  baseline: normaliser alone   {normalise_only:8.2f} s  ({normalise_only / total:.0%} of total)")
    print(f"  baseline: jiwer alone        {jiwer_only:8.2f} s  ({jiwer_only / total:.0%} of total)")
    print(
        f"  {m:,} utterances, wer_open_asr + cer_whisper: {two_metrics:.2f} s memoised, {no_memo:.2f} s "
        f"without the memo (ratio {two_metrics / no_memo:.2f}); wer_open_asr alone {one_metric:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 5, 15])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--utterances", type=int, default=100_000)
    parser.add_argument("--worker", nargs=2, metavar=("STEP", "INPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.repeats)
        return
    audio_figures(args.minutes, args.repeats)
    wer_figures(args.utterances)


if __name__ == "__main__":
    main()
