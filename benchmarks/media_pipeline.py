"""Throughput of the media layer (``lmms_eval.media``).

Decode part (this script's figures today): ``--clips`` synthetic clips (default 64; 10-30 s each,
320x240 at 25 or 30 fps, H.264 via libx264 when the installed PyAV has it, else MPEG-4 Part 2;
a moving pattern so the codec does real work) are written with PyAV to a temporary folder. Then
the same fixed sampling (``--frames`` uniform frames per clip, default 32) is decoded two ways:

* ``lmms_eval.media.load_video`` on fresh ``Video`` parts (no cache reuse), default backend (PyAV);
* PyAV called directly in a plain loop: open, ``thread_type = "AUTO"``, decode sequentially,
  ``to_ndarray(format="rgb24")`` for the wanted frames only, stop after the last wanted one,
  stack the frames (what ``load_video`` returns).

Both pick the same indices (uniform over the container's frame count). Each is timed over all
clips, best of ``--repeats`` (the two alternate, so neither always runs on a warmer cache). It
prints returned frames/s, decoded video frames/s and the ratio media/direct (the goal: >= 0.9).

Pipeline part (:func:`pipeline_figures`): the same clips as a video task through the real
evaluator, with a model that sleeps a fixed time per request (a GPU stand-in), run (a) with
``--decode_workers 0`` (decode then generate, one after the other) and (b) with the engine's
decode-ahead worker pool; (b) is compared with the ideal max(decode / workers, model time)
(the goal: within 1.15x).

    python benchmarks/media_pipeline.py                     # 64 clips, 3 repeats (~1-3 minutes on 2 cores)
    python benchmarks/media_pipeline.py --clips 16 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 320, 240


def pick_codec() -> str:
    """libx264 when this PyAV build has it (the usual codec of real datasets), else mpeg4."""
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def _pattern(rng: np.random.Generator) -> np.ndarray:
    """A smooth colourful (2H, 2W, 3) texture; frames are moving windows of it."""
    y, x = np.mgrid[0 : 2 * HEIGHT, 0 : 2 * WIDTH].astype(np.float32)
    channels = []
    for _ in range(3):
        fx, fy, phase = rng.uniform(0.01, 0.06), rng.uniform(0.01, 0.06), rng.uniform(0, 6.28)
        channels.append(127.5 + 100 * np.sin(fx * x + phase) * np.cos(fy * y))
    noise = rng.integers(-12, 12, (2 * HEIGHT, 2 * WIDTH, 1))
    return np.clip(np.stack(channels, axis=-1) + noise, 0, 255).astype(np.uint8)


def make_clip(path: Path, seconds: float, fps: int, codec: str, rng: np.random.Generator) -> int:
    """Write one clip; returns its frame count."""
    import av

    pattern = _pattern(rng)
    n = int(round(seconds * fps))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "crf": "26"}
        else:
            stream.bit_rate = 800_000
        vx, vy = rng.integers(1, 4), rng.integers(1, 3)
        for k in range(n):
            ox, oy = (vx * k) % WIDTH, (vy * k) % HEIGHT
            window = np.ascontiguousarray(pattern[oy : oy + HEIGHT, ox : ox + WIDTH])
            for packet in stream.encode(av.VideoFrame.from_ndarray(window, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return n


def make_clips(folder: Path, count: int, seed: int = 0) -> tuple[list[Path], int]:
    """``count`` clips of 10-30 s at 25 or 30 fps; returns the paths and the total frame count."""
    rng = np.random.default_rng(seed)
    codec = pick_codec()
    paths, frames = [], 0
    for i in range(count):
        path = folder / f"clip_{i:03d}.mp4"
        frames += make_clip(path, float(rng.uniform(10, 30)), int(rng.choice([25, 30])), codec, rng)
        paths.append(path)
    return paths, frames


def uniform(total: int, n: int) -> list[int]:
    """The same rule as ``FrameSampling(max_frames=n)`` (for n < total): linspace, rounded."""
    return np.rint(np.linspace(0, total - 1, n)).astype(int).tolist()


def direct_pyav(path: Path, n: int) -> tuple[np.ndarray, int]:
    """The baseline: PyAV in a plain loop. Returns the frames and how many frames were decoded."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        wanted = uniform(int(stream.frames), n)
        want, last, out = set(wanted), wanted[-1], []
        decoded = 0
        for i, frame in enumerate(container.decode(stream)):
            decoded = i + 1
            if i in want:
                out.append(frame.to_ndarray(format="rgb24"))
            if i >= last:
                break
    return np.stack(out), decoded


def via_media(path: Path, n: int) -> tuple[np.ndarray, int]:
    """``lmms_eval.media.load_video`` on a fresh part."""
    from lmms_eval.api.messages import Video
    from lmms_eval.media import FrameSampling, load_video

    clip = load_video(Video(path=str(path)), FrameSampling(max_frames=n))
    return clip.frames, clip.indices[-1] + 1


def decode_figures(paths: list[Path], frames: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` seconds for both ways over all clips, and the derived rates."""
    ways = {"media": via_media, "direct": direct_pyav}
    best = {name: float("inf") for name in ways}
    decoded = {name: 0 for name in ways}
    returned = {name: 0 for name in ways}
    checks: dict[str, list[int]] = {name: [] for name in ways}
    cpu = {name: float("inf") for name in ways}
    for r in range(repeats):
        order = list(ways) if r % 2 == 0 else list(reversed(ways))
        for name in order:
            start, start_cpu = time.perf_counter(), time.process_time()
            n_dec = n_ret = 0
            sums = []
            for path in paths:
                out, d = ways[name](path, frames)
                n_dec, n_ret = n_dec + d, n_ret + len(out)
                sums.append(int(out[:, ::16, ::16].sum()))
            best[name] = min(best[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
            decoded[name], returned[name], checks[name] = n_dec, n_ret, sums
    if checks["media"] != checks["direct"]:
        raise SystemExit("load_video and direct PyAV returned different frames")
    out = {}
    for name in ways:
        out[f"{name}_seconds"] = best[name]
        out[f"{name}_cpu_seconds"] = cpu[name]
        out[f"{name}_frames_per_s"] = returned[name] / best[name]
        out[f"{name}_decoded_per_s"] = decoded[name] / best[name]
    out["ratio"] = out["media_frames_per_s"] / out["direct_frames_per_s"]
    return out


def _sleepy_model(frames: int, sleep_s: float) -> object:
    """A model that takes its frames from the media layer (as an adapter does) and sleeps a fixed time
    per request: a stand-in for GPU time that, like a GPU kernel, leaves the CPU to the decoders."""
    from lmms_eval.api.model import Model, ModelConfig
    from lmms_eval.api.request import Response
    from lmms_eval.media import FrameSampling, MediaSpec, load_video

    sampling = FrameSampling(max_frames=frames)

    class SleepyVideoModel(Model[ModelConfig]):
        name = "sleepy_video"
        modalities = frozenset({"text", "video"})

        @property
        def media_spec(self) -> MediaSpec:
            return MediaSpec(video=sampling)

        def generate(self, requests):  # type: ignore[no-untyped-def]
            out = []
            for request in requests:
                n = sum(len(load_video(v, sampling).indices) for v in request.videos())
                time.sleep(sleep_s)
                out.append(Response(text="A", completion_tokens=n))
            return out

    return SleepyVideoModel()


def one_worker_decode_seconds(paths: list[Path], frames: int, threads: int, repeats: int) -> float:
    """Best wall time of decoding every clip one after the other, each decoder using ``threads``
    threads: what one decode-ahead worker does (the engine gives each of N workers C // N threads)."""
    from lmms_eval.media import set_decoder_threads

    previous = set_decoder_threads(threads)
    try:
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for path in paths:
                via_media(path, frames)
            best = min(best, time.perf_counter() - start)
        return best
    finally:
        set_decoder_threads(previous)


def pipeline_figures(
    paths: list[Path], frames: int, workers: int, batch: int, repeats: int, root: Path
) -> dict[str, float]:
    """Decode-ahead in the real evaluator vs decoding inline, on a video task.

    Decode time = decoding all clips with one worker's decoder (``cores // workers`` threads, as
    the engine sets it), so ``workers`` workers need at best decode / workers. The model's time per
    request is set so that its total equals that: the case where overlapping matters most. Reports
    the generation time of (a) ``--decode_workers 0`` (decode, then generate, one after the other)
    and (b) ``--decode_workers workers``, against the ideal max(decode / workers, model time).
    """
    import json

    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    tasks = root / "tasks"
    tasks.mkdir(exist_ok=True)
    with open(tasks / "clips.jsonl", "w") as fh:
        for i, path in enumerate(paths):
            fh.write(json.dumps({"id": i, "video": str(path), "question": "What happens?", "answer": "A"}) + "\n")
    (tasks / "clips.yaml").write_text(
        "task: pipeline_clips\ndataset_path: json\ndataset_kwargs: {data_files: clips.jsonl}\ntest_split: train\n"
        "doc_to_video: video\ndoc_to_text: question\ndoc_to_target: answer\nmetric_list: [{metric: exact_match}]\n"
    )
    threads = max(1, (os.cpu_count() or 1) // workers)
    decode_one_worker = one_worker_decode_seconds(paths, frames, threads, repeats)
    decode_seconds = decode_one_worker / workers
    sleep_s = decode_seconds / len(paths)
    model_seconds = sleep_s * len(paths)
    walls = {}
    for label, n_workers in (("sequential", 0), ("decode_ahead", workers)):
        cfg = RunConfig(
            model="sleepy_video",
            tasks=["pipeline_clips"],
            include_path=[str(tasks)],
            batch_size=batch,
            output_path=str(root / f"out_{label}"),
            show_progress=False,
            decode_workers=n_workers,
            decode_ahead=2,
        )
        outcome = Evaluator(cfg, model=_sleepy_model(frames, sleep_s)).run()  # type: ignore[arg-type]
        walls[label] = outcome.results["timing"]["generation_seconds"]  # start-up (imports, task load) left out
        if outcome.results["results"]["pipeline_clips"]["n_errors"]:
            raise SystemExit(f"{label}: samples failed: {outcome.results['errors']}")
    ideal = max(decode_seconds, model_seconds)
    return {
        "decode_seconds": decode_seconds,
        "decode_one_worker": decode_one_worker,
        "threads": threads,
        "model_seconds": model_seconds,
        "ideal": ideal,
        **walls,
        "ratio_to_ideal": walls["decode_ahead"] / ideal,
        "speedup": walls["sequential"] / walls["decode_ahead"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=64, help="number of synthetic clips (default 64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per way; the best counts (default 3)")
    parser.add_argument("--frames", type=int, default=32, help="uniform frames sampled per clip (default 32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", default="1,2", help="decode-ahead thread counts to run the pipeline with")
    parser.add_argument("--batch", type=int, default=4, help="--batch_size of the pipeline run (default 4)")
    args = parser.parse_args(argv)

    import av

    with tempfile.TemporaryDirectory(prefix="lmms_media_bench_") as tmp:
        start = time.perf_counter()
        paths, total = make_clips(Path(tmp), args.clips, args.seed)
        made = time.perf_counter() - start
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"clips: {len(paths)} x 10-30 s, {WIDTH}x{HEIGHT}, {pick_codec()}, {total} frames, "
            f"{size_mb:.1f} MB, written in {made:.1f} s (PyAV {av.__version__}, {os.cpu_count()} CPUs)"
        )
        figures = decode_figures(paths, args.frames, args.repeats)
        pipes = {}
        for workers in (int(w) for w in args.workers.split(",")):
            folder = Path(tmp) / f"w{workers}"
            folder.mkdir()
            pipes[workers] = pipeline_figures(paths, args.frames, workers, args.batch, args.repeats, folder)
    print(f"sampling: {args.frames} uniform frames per clip, best of {args.repeats}")
    print(f"{'way':<28}{'seconds':>9}{'frames/s':>11}{'decoded frames/s':>18}")
    for name, label in (("media", "lmms_eval.media.load_video"), ("direct", "PyAV direct loop")):
        print(
            f"{label:<28}{figures[f'{name}_seconds']:>9.2f}{figures[f'{name}_frames_per_s']:>11.1f}"
            f"{figures[f'{name}_decoded_per_s']:>18.0f}"
        )
    verdict = "ok" if figures["ratio"] >= 0.9 else "BELOW the 0.9 goal"
    print(f"ratio media/direct: {figures['ratio']:.3f}x ({verdict})")
    for workers, pipe in pipes.items():
        print(
            f"\npipeline through the evaluator (batch {args.batch}, {workers} decode workers, a model sleeping "
            f"{pipe['model_seconds'] / len(paths) * 1000:.0f} ms per request; generation time, start-up left out):"
        )
        print(
            f"  decode alone: {pipe['decode_one_worker']:.2f} s with one worker ({pipe['threads']} decoder "
            f"thread(s)), {pipe['decode_seconds']:.2f} s spread over {workers}; "
            f"model alone {pipe['model_seconds']:.2f} s"
        )
        print(f"  (a) decode then generate, one after the other (--decode_workers 0): {pipe['sequential']:.2f} s")
        print(f"  (b) ideal: max(decode / workers, model) = {pipe['ideal']:.2f} s")
        print(
            f"  decode ahead (--decode_workers {workers}): {pipe['decode_ahead']:.2f} s = "
            f"{pipe['ratio_to_ideal']:.3f}x the ideal (goal <= 1.15), {pipe['speedup']:.2f}x faster than (a)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
