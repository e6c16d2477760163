"""Video benchmarks end to end: decode-ahead on a real video task, and EgoLifeQA's week-long decode cost.

Part 1 (Video-MME through the real task): ``--videos`` synthetic videos (10-30 s, 320x240, H.264
when PyAV has it, else MPEG-4, a moving texture so the codec works) are packed as
``videos_chunked_01.zip`` beside hub-shaped Video-MME annotations (the test fixture's exact
schema) in a ``$LMMS_EVAL_HUB_MIRROR`` folder. The ``videomme`` task then runs through the real
evaluator (archive extraction done once beforehand and left out) with a model that samples
``--frames`` frames through the media layer and sleeps a fixed time per request (a GPU stand-in
that leaves the CPU to the decoders; its total is set equal to the decode time, the case where
overlapping matters most): (a) ``--decode_workers 0`` (decode then generate, one after the other)
vs (b) the engine's decode-ahead pool. Figures: samples/s of each and the speed-up.

Part 2 (EgoLifeQA frames mode over a whole week): a week of ``--hours`` hours of recording per day
as 30-second clips at 20 fps in EgoLife's layout. Only the clips holding one of the 32 chosen
instants are real videos; every other clip is an EMPTY file, so reading any of them would fail the
sample. A question at the end of day 7 is built through the task's own code (clip listing, frame
choice, fetch) and decoded by the media layer. Figures: clips in the span vs clips opened, frames
used vs frames decoded vs frames in the span (counted by wrapping PyAV's decoder: the PyAV reader seeks to the keyframe
before each frame further than 2 s from the last one, else decodes on), and the decode time
against the estimated time to decode the whole span; once more with seeking turned off.

    python benchmarks/video_pipeline.py                 # 16 videos, a 7 x 8 h week (~1-2 minutes on 2 cores)
    python benchmarks/video_pipeline.py --videos 8 --hours 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from benchmarks.media_pipeline import _sleepy_model, make_clip, pick_codec  # noqa: E402

EGO_FPS = 20  # EgoLife clips: 30 s, HHMMSSFF start names with FF at 20 per second


def videomme_mirror(mirror: Path, count: int, seed: int) -> tuple[list[Path], float]:
    """Video-MME annotations (the fixture's schema) + one zip of ``count`` videos; returns the
    videos and how long writing them took."""
    from hub import videomme
    from hub.common import write_hub_dataset

    rng = np.random.default_rng(seed)
    work = mirror / "_videos"
    work.mkdir(parents=True)
    start, paths, rows = time.perf_counter(), [], []
    template = videomme.rows()[0]
    for i in range(count):
        path = work / f"bench_{i:03d}.mp4"
        make_clip(path, float(rng.uniform(10, 30)), int(rng.choice([25, 30])), pick_codec(), rng)
        paths.append(path)
        rows.append({**template, "videoID": path.stem, "question_id": f"{i:03d}-1", "video_id": f"{i:03d}"})
    made = time.perf_counter() - start
    folder = write_hub_dataset(
        mirror, videomme.REPO_ID, {"videomme": {"test": rows}}, {"videomme": videomme.features()}
    )
    with zipfile.ZipFile(folder / "videos_chunked_01.zip", "w", zipfile.ZIP_STORED) as zf:
        for path in paths:
            zf.write(path, f"data/{path.name}")
    return paths, made


def decode_seconds(paths: list[Path], frames: int) -> float:
    """One pass decoding ``frames`` uniform frames of each video, one after the other."""
    from lmms_eval.api.messages import Video
    from lmms_eval.media import FrameSampling, load_video

    start = time.perf_counter()
    for path in paths:
        load_video(Video(path=str(path)), FrameSampling(max_frames=frames))
    return time.perf_counter() - start


def part_videomme(root: Path, count: int, frames: int, workers: int, batch: int, seed: int) -> dict[str, Any]:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks.hub_videos import HubVideos

    paths, made = videomme_mirror(root / "mirror", count, seed)
    os.environ["LMMS_EVAL_HUB_MIRROR"] = str(root / "mirror")
    os.environ["LMMS_EVAL_CACHE"] = str(root / "cache")
    extracted = [Path(HubVideos("lmms-lab/Video-MME", ["videos_chunked_*.zip"]).path(p.name)) for p in paths]
    decode = min(decode_seconds(extracted, frames) for _ in range(2))
    sleep_s = decode / count
    out: dict[str, Any] = {"videos": count, "made_s": made, "decode_s": decode, "sleep_s": sleep_s}
    for label, n_workers in (("sequential", 0), ("decode_ahead", workers)):
        cfg = RunConfig(
            model="sleepy_video",
            tasks=["videomme"],
            batch_size=batch,
            output_path=str(root / f"out_{label}"),
            show_progress=False,
            decode_workers=n_workers,
        )
        outcome = Evaluator(cfg, model=_sleepy_model(frames, sleep_s)).run()  # type: ignore[arg-type]
        result = outcome.results["results"]["videomme"]
        if result["n_errors"]:
            raise SystemExit(f"videomme {label}: {result['n_errors']} samples failed")
        wall = outcome.results["timing"]["generation_seconds"]
        out[label] = {"seconds": wall, "samples_per_s": count / wall}
    out["speedup"] = out["sequential"]["seconds"] / out["decode_ahead"]["seconds"]
    return out


class CountingContainer:
    """A PyAV container whose ``decode`` counts the frames it yields (in ``COUNT``)."""

    COUNT = [0]

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __enter__(self) -> CountingContainer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.inner.close()

    def decode(self, *args: Any, **kwargs: Any) -> Any:
        for frame in self.inner.decode(*args, **kwargs):
            self.COUNT[0] += 1
            yield frame


def decode_counting(video: Any) -> tuple[Any, int, float]:
    """Decode a video part with PyAV, counting every frame PyAV decodes; (clip, frames decoded, seconds)."""
    import av

    from lmms_eval.api.messages import Video
    from lmms_eval.media import FrameSampling, load_video

    real_open = av.open
    av.open = lambda *a, **k: CountingContainer(real_open(*a, **k))  # type: ignore[assignment]
    CountingContainer.COUNT[0] = 0
    try:
        start = time.perf_counter()
        clip = load_video(Video(segments=video.segments), FrameSampling(), backend="av")
        return clip, CountingContainer.COUNT[0], time.perf_counter() - start
    finally:
        av.open = real_open  # type: ignore[assignment]


def clip_name(day: int, seconds: int) -> str:
    hh, mm, ss = seconds // 3600, seconds % 3600 // 60, seconds % 60
    return f"A1_JAKE/DAY{day}/DAY{day}_A1_JAKE_{hh:02d}{mm:02d}{ss:02d}00.mp4"


def part_egolife(root: Path, hours: float, frames: int, seed: int) -> dict[str, Any]:
    """A week of clips (placeholders except those chosen), one question at the end of day 7."""
    from lmms_eval.api.messages import Video
    from lmms_eval.media import FrameSampling, load_video, video_backends, video_readers
    from lmms_eval.tasks.egolifeqa import utils
    from lmms_eval.tasks.egolifeqa.timeline import Moment, frame_times, parse_clips

    repo = root / "ego" / "lmms-lab" / "EgoLife"
    per_day = int(hours * 3600 // 30)
    names = [clip_name(day, 10 * 3600 + 30 * k) for day in range(1, 8) for k in range(per_day)]
    for name in names:  # placeholders: reading one would fail
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).touch()
    query = Moment(7, 10 * 3600 + 30 * (per_day - 1) + 17)  # 17 s into day 7's last clip: instants fall mid-clip
    chosen = frame_times(parse_clips(names), query, frames)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for name in sorted({clip.name for clip, _ in chosen}):  # only these become real 30 s videos
        make_clip(repo / name, 30.0, EGO_FPS, pick_codec(), rng)
    made = time.perf_counter() - start
    os.environ["LMMS_EVAL_HUB_MIRROR"] = str(root / "ego")
    utils.FILES = utils.HubFiles(utils.REPO_ID)
    utils.clips_of.cache_clear()
    doc = {"ID": "bench", "query_time": {"date": "DAY7", "time": f"{clip_name(7, int(query.seconds))[-12:-4]}"}}
    build_start = time.perf_counter()
    [video] = utils.doc_to_video(doc, {"frames": frames, "window": "week"})
    build_s = time.perf_counter() - build_start
    assert video.segments is not None
    clip, decoded, decode_s = decode_counting(video)
    previous = video_readers.SEEK_GAP_SECONDS
    video_readers.SEEK_GAP_SECONDS = float("inf")
    try:
        same, decoded_sequential, sequential_s = decode_counting(video)
    finally:
        video_readers.SEEK_GAP_SECONDS = previous
    assert np.array_equal(clip.frames, same.frames), "seeking and decoding on returned different frames"
    seeking: float | None = None
    if "torchcodec" in video_backends():
        fresh = Video(segments=video.segments)
        start = time.perf_counter()
        load_video(fresh, FrameSampling(), backend="torchcodec")
        seeking = time.perf_counter() - start
    full_clip_s = min(
        _time(lambda: load_video(Video(path=str(repo / chosen[0][0].name)), FrameSampling())) for _ in range(3)
    )
    span_frames = len(names) * 30 * EGO_FPS
    return {
        "hours": hours * 7,
        "clips": len(names),
        "opened": len(video.segments),
        "used": int(clip.frames.shape[0]),
        "decoded": decoded,
        "span_frames": span_frames,
        "made_s": made,
        "build_s": build_s,
        "decode_s": decode_s,
        "decoded_sequential": decoded_sequential,
        "sequential_s": sequential_s,
        "seeking_s": seeking,
        "full_clip_s": full_clip_s,
        "whole_span_s": full_clip_s * len(names),
    }


def _time(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=16, help="Video-MME videos (default 16)")
    parser.add_argument("--frames", type=int, default=32, help="frames per sample (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="decode-ahead workers (default 2)")
    parser.add_argument("--batch", type=int, default=4, help="--batch_size (default 4)")
    parser.add_argument("--hours", type=float, default=8.0, help="recorded hours per day of the week (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lmms_video_bench_") as tmp:
        vm = part_videomme(Path(tmp) / "vm", args.videos, args.frames, args.workers, args.batch, args.seed)
        ego = part_egolife(Path(tmp) / "ego", args.hours, args.frames, args.seed)
    print(
        f"Video-MME through the real task: {vm['videos']} videos of 10-30 s, 320x240, {pick_codec()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"  decode alone {vm['decode_s']:.2f} s ({args.frames} frames each); the model sleeps "
        f"{vm['sleep_s'] * 1000:.0f} ms per request (batch {args.batch}); generation time, start-up left out"
    )
    print(f"  {'way':<44}{'seconds':>9}{'samples/s':>11}")
    for label, text in (
        ("sequential", "(a) decode then generate (--decode_workers 0)"),
        ("decode_ahead", f"(b) decode ahead (--decode_workers {args.workers})"),
    ):
        print(f"  {text:<44}{vm[label]['seconds']:>9.2f}{vm[label]['samples_per_s']:>11.2f}")
    print(f"  decode ahead is {vm['speedup']:.2f}x faster (ideal with equal decode and model time: 2x)")
    print(
        f"\nEgoLifeQA frames mode, one question at the end of a {ego['hours']:.0f}-hour week "
        f"({ego['clips']} clips of 30 s at {EGO_FPS} fps, {pick_codec()} with its default keyframe interval "
        f"({'250' if pick_codec() == 'libx264' else '12'} frames); all but the chosen clips are empty files):"
    )
    print(f"  clips in the span {ego['clips']}, opened {ego['opened']}")
    print(
        f"  frames used {ego['used']}, decoded {ego['decoded']} ({ego['decoded'] / ego['used']:.1f} per frame used), "
        f"in the span {ego['span_frames']} ({ego['span_frames'] / ego['decoded']:.0f}x more than decoded)"
    )
    print(
        f"  without seeking (each opened clip decoded from its start): {ego['decoded_sequential']} frames decoded "
        f"in {ego['sequential_s']:.2f} s, vs {ego['decode_s']:.2f} s with seeking "
        f"({ego['sequential_s'] / ego['decode_s']:.1f}x); the same frames either way"
    )
    print(
        f"  choosing the frames (listing + fetch) {ego['build_s'] * 1000:.0f} ms; "
        f"decoding them {ego['decode_s']:.2f} s; "
        f"decoding the whole span would take ~{ego['whole_span_s']:.0f} s "
        f"({ego['full_clip_s'] * 1000:.0f} ms per full clip, {ego['whole_span_s'] / ego['decode_s']:.0f}x)"
    )
    if ego["seeking_s"] is not None:
        print(
            f"  with the torchcodec backend (seeks to the keyframe before each instant, exact mode): "
            f"{ego['seeking_s']:.2f} s ({ego['seeking_s'] / ego['decode_s']:.1f}x PyAV's time)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
