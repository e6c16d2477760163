"""lmms_eval.media video: the frame sampler, the readers, load_video's sources and hints, errors."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image as PILImage

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.messages import Video
from lmms_eval.media import FrameSampling, load_video, read_video, sample_frame_indices, video_backends, video_readers

ROOT = Path(__file__).resolve().parents[2]
SIZE = 64  # frames are SIZE x SIZE; the top half's gray level is 8 * (k % 32), the bottom half's 8 * (k // 32)


def frame_image(k: int) -> np.ndarray:
    arr = np.empty((SIZE, SIZE, 3), np.uint8)
    arr[: SIZE // 2] = 8 * (k % 32)
    arr[SIZE // 2 :] = 8 * (k // 32)
    return arr


def frame_number(frame: np.ndarray) -> int:
    """Which frame this is, read back from its gray levels (codec noise is a few levels)."""
    top = frame[8 : SIZE // 2 - 8, 8:-8].mean()
    bottom = frame[SIZE // 2 + 8 : -8, 8:-8].mean()
    return int(round(top / 8)) + 32 * int(round(bottom / 8))


def make_video(path: Path, n: int = 30, fps: int = 25, codec: str = "mpeg4") -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 4_000_000
        for k in range(n):
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame_image(k), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {
        "mp4": make_video(root / "clip.mp4", n=30, fps=25),
        "long": make_video(root / "long.mp4", n=90, fps=30),
        "mkv": make_video(root / "clip.mkv", n=30, fps=25),  # no frame count in the container
        "avi": make_video(root / "clip.avi", n=30, fps=25),
    }


def numbers(frames: np.ndarray) -> list[int]:
    return [frame_number(f) for f in frames]


# --------------------------------------------------------------------------- the sampler

S = "stride"
SAMPLER_TABLE = [
    # total, native_fps, sampling, expected
    (10, None, FrameSampling(max_frames=4), [0, 3, 6, 9]),
    (10, 25.0, FrameSampling(), list(range(10))),
    (10, 25.0, FrameSampling(max_frames=1), [5]),
    (10, 25.0, FrameSampling(max_frames=20), list(range(10))),
    (100, 25.0, FrameSampling(fps=2), [0, 14, 28, 42, 57, 71, 85, 99]),  # 4 s * 2 fps = 8 frames
    (100, 25.0, FrameSampling(fps=2, max_frames=4), [0, 33, 66, 99]),
    (100, None, FrameSampling(fps=2, max_frames=4), [0, 33, 66, 99]),  # unknown rate: the count rule
    (10, None, FrameSampling(fps=2), list(range(10))),
    (100, 25.0, FrameSampling(fps=0.1, min_frames=4), [0, 33, 66, 99]),  # round(0.4) = 0 -> min_frames
    (10, None, FrameSampling(max_frames=5, multiple_of=2), [0, 3, 6, 9]),
    (10, None, FrameSampling(max_frames=1, multiple_of=2), [5]),  # 1 < 2: not rounded down to 0
    (3, None, FrameSampling(multiple_of=4), [0, 1, 2]),
    (7, None, FrameSampling(multiple_of=2), [0, 1, 2, 4, 5, 6]),  # 7 -> 6 frames
    (0, 25.0, FrameSampling(max_frames=4), []),
    (-3, 25.0, FrameSampling(max_frames=4, mode=S), []),
    (100, 30.0, FrameSampling(fps=1, mode=S), [0, 30, 60, 90]),
    (100, 30.0, FrameSampling(fps=1, max_frames=3, mode=S), [0, 49, 99]),  # floor(49.5) = 49, not 50
    (100, 30.0, FrameSampling(fps=1, max_frames=8, mode=S, force_count=True), [0, 14, 28, 42, 56, 70, 84, 99]),
    (100, 30.0, FrameSampling(fps=1, max_frames=8, mode=S), [0, 30, 60, 90]),
    (30, 25.0, FrameSampling(fps=2, mode=S), [0, 12, 24]),  # round(12.5) = 12
    (10, None, FrameSampling(fps=1, max_frames=4, mode=S), [0, 3, 6, 9]),  # no rate: step 1, then capped
    (5, 30.0, FrameSampling(mode=S), [0, 1, 2, 3, 4]),
    (3, 30.0, FrameSampling(max_frames=5, mode=S, force_count=True), [0, 0, 1, 1, 2]),
]


@pytest.mark.parametrize(("total", "native", "sampling", "expected"), SAMPLER_TABLE)
def test_sampler_table(total: int, native: float | None, sampling: FrameSampling, expected: list[int]) -> None:
    assert sample_frame_indices(total, native, sampling) == expected


def test_uniform_indices_are_distinct_and_in_range() -> None:
    for total in (1, 2, 7, 31, 100, 1001):
        for n in (1, 2, 3, 8, 32, 64):
            got = sample_frame_indices(total, None, FrameSampling(max_frames=n))
            assert got == sorted(set(got)) and 0 <= got[0] and got[-1] < total
            assert len(got) == min(n, total)


def test_frame_sampling_is_hashable_and_validated() -> None:
    assert len({FrameSampling(max_frames=8), FrameSampling(max_frames=8), FrameSampling(fps=1)}) == 2
    for bad in ({"max_frames": 0}, {"fps": 0}, {"fps": -1.0}, {"multiple_of": 0}, {"mode": "random"}):
        with pytest.raises(UsageError):
            FrameSampling(**bad)


# --------------------------------------------------------------------------- reading files


def _backend_or_skip(name: str) -> str:
    module = video_readers.MODULES[name]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install {module})")
    try:
        importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - e.g. torchcodec without FFmpeg libraries
        pytest.skip(f"{module} is installed but cannot be imported: {exc}")
    return name


@pytest.mark.parametrize("backend", ["av", "opencv", "decord", "torchcodec"])
@pytest.mark.parametrize("kind", ["mp4", "mkv", "avi"])
def test_readers_return_the_wanted_frames(clips: dict[str, Path], backend: str, kind: str) -> None:
    _backend_or_skip(backend)
    clip = load_video(Video(path=str(clips[kind])), FrameSampling(max_frames=4), backend=backend)
    assert clip.backend == backend
    assert clip.indices == [0, 10, 19, 29] and clip.total_frames == 30
    assert numbers(clip.frames) == clip.indices
    assert clip.frames.shape == (4, SIZE, SIZE, 3) and clip.frames.dtype == np.uint8
    assert clip.native_fps == pytest.approx(25.0)
    assert clip.timestamps == pytest.approx([i / 25 for i in clip.indices], abs=1e-3)
    assert clip.duration == pytest.approx(1.2) and clip.sampled_fps == pytest.approx(4 / 1.2)
    assert clip.describe()["indices"] == clip.indices


@pytest.mark.parametrize("backend", ["av", "opencv", "decord", "torchcodec"])
def test_readers_agree_on_rate_sampling_and_bytes(clips: dict[str, Path], backend: str) -> None:
    _backend_or_skip(backend)
    raw = clips["long"].read_bytes()
    sampling = FrameSampling(fps=2, multiple_of=2)  # 3 s at 30 fps -> 6 frames
    from_path = load_video(Video(path=str(clips["long"])), sampling, backend=backend)
    from_bytes = load_video(Video(raw=raw), sampling, backend=backend)
    expected = sample_frame_indices(90, 30.0, sampling)
    assert len(expected) == 6
    for clip in (from_path, from_bytes):
        assert clip.indices == expected and numbers(clip.frames) == expected
        assert clip.timestamps == pytest.approx([i / 30 for i in expected], abs=1e-3)


def test_av_and_opencv_agree(clips: dict[str, Path]) -> None:
    sampling = FrameSampling(max_frames=7)
    a = load_video(Video(path=str(clips["long"])), sampling, backend="av")
    b = load_video(Video(path=str(clips["long"])), sampling, backend="opencv")
    assert a.indices == b.indices and numbers(a.frames) == numbers(b.frames) == a.indices
    assert np.abs(a.frames.astype(int) - b.frames.astype(int)).mean() < 3


def test_default_backend_is_pyav(clips: dict[str, Path]) -> None:
    assert video_backends()[0] == "av" and "opencv" in video_backends()
    clip = load_video(Video(path=str(clips["mp4"])), FrameSampling(max_frames=3))
    assert clip.backend == "av" and numbers(clip.frames) == [0, 14, 29]


def test_read_video_with_a_custom_pick(clips: dict[str, Path]) -> None:
    seen = []

    def pick(total: int, native: float | None) -> list[int]:
        seen.append((total, native))
        return [29, 3, 3]

    clip = read_video(str(clips["mp4"]), pick)
    assert seen == [(30, 25.0)] and clip.indices == [29, 3, 3] and numbers(clip.frames) == [29, 3, 3]


def test_opencv_bytes_use_a_temp_file_that_is_removed(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    clip = read_video(clips["mp4"].read_bytes(), lambda total, fps: [1, 2], backend="opencv")
    assert numbers(clip.frames) == [1, 2] and list(scratch.iterdir()) == []


# --------------------------------------------------------------------------- wrong frame counts


@pytest.mark.parametrize("lie", [+10, -15])
def test_av_survives_a_wrong_frame_count(clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch, lie: int) -> None:
    """Too high: wanted frames past the end -> re-pick from the frames seen. Too low: the count
    disagrees with the duration -> frames are counted first."""
    monkeypatch.setattr(video_readers, "_av_header_frames", lambda stream: int(stream.frames) + lie)
    if lie > 0:
        monkeypatch.setattr(video_readers, "_av_plausible", lambda frames, stream, native: True)
    clip = load_video(Video(path=str(clips["mp4"])), FrameSampling(max_frames=4), backend="av")
    assert clip.total_frames == 30 and clip.indices == [0, 10, 19, 29] and numbers(clip.frames) == clip.indices


def test_opencv_survives_a_frame_count_too_high(clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    real = cv2.VideoCapture

    class Lying:
        def __init__(self, path: str) -> None:
            self.cap = real(path)

        def get(self, prop: int) -> float:
            value = self.cap.get(prop)
            return value + 12 if prop == cv2.CAP_PROP_FRAME_COUNT else value

        def __getattr__(self, name: str) -> object:
            return getattr(self.cap, name)

    monkeypatch.setattr(cv2, "VideoCapture", Lying)
    clip = load_video(Video(path=str(clips["mp4"])), FrameSampling(max_frames=4), backend="opencv")
    assert clip.total_frames == 30 and numbers(clip.frames) == [0, 10, 19, 29]


# --------------------------------------------------------------------------- other sources and hints


def test_frame_lists(tmp_path: Path) -> None:
    images = [frame_image(k) for k in range(10)]
    paths = []
    for k, arr in enumerate(images):
        paths.append(tmp_path / f"f{k}.png")
        PILImage.fromarray(arr).save(paths[-1])
    sources = [
        images,
        [PILImage.fromarray(a) for a in images],
        [np.transpose(a, (2, 0, 1)) for a in images],  # CHW
        [a.astype(np.float32) / 255.0 for a in images],
        [str(p) for p in paths],
    ]
    for frames in sources:
        clip = load_video(Video(frames=frames, fps=5.0), FrameSampling(max_frames=4))
        assert clip.backend == "frames" and clip.indices == [0, 3, 6, 9] and clip.total_frames == 10
        assert clip.frames.shape == (4, SIZE, SIZE, 3) and numbers(clip.frames) == [0, 3, 6, 9]
        assert clip.timestamps == pytest.approx([0.0, 0.6, 1.2, 1.8])
    no_rate = load_video(Video(frames=images), FrameSampling(fps=1, max_frames=3))
    assert no_rate.timestamps is None and no_rate.indices == [0, 4, 9]
    odd = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)]
    with pytest.raises(SampleError, match="frame list: frames differ in size"):
        load_video(Video(frames=odd), FrameSampling())
    with pytest.raises(SampleError, match="empty"):
        load_video(Video(frames=[]), FrameSampling())
    with pytest.raises(SampleError, match="image file not found"):
        load_video(Video(frames=[str(tmp_path / "gone.png")]), FrameSampling())


def test_frame_folder(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for k in range(12):
        PILImage.fromarray(frame_image(k)).save(folder / f"{k:03d}.{'jpg' if k % 2 else 'png'}", quality=98)
    (folder / "notes.txt").write_text("not a frame")
    clip = load_video(Video(path=str(folder), fps=4.0), FrameSampling(fps=2))  # 3 s at 2 fps -> 6 frames
    assert clip.backend == "folder" and clip.total_frames == 12
    assert clip.indices == [0, 2, 4, 7, 9, 11] and numbers(clip.frames) == clip.indices
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SampleError, match="holds no frame images"):
        load_video(Video(path=str(empty)), FrameSampling())


def test_part_hints(clips: dict[str, Path]) -> None:
    path = str(clips["long"])  # 90 frames at 30 fps
    capped = load_video(Video(path=path, max_frames=3), FrameSampling(max_frames=8))
    assert capped.indices == [0, 44, 89]
    adapter_cap = load_video(Video(path=path, max_frames=30), FrameSampling(max_frames=2))
    assert adapter_cap.indices == [0, 89]
    rate = load_video(Video(path=path, fps=1.0), FrameSampling(fps=4))  # the part's fps wins for a file
    assert rate.indices == [0, 44, 89] and numbers(rate.frames) == rate.indices
    exact = load_video(Video(path=path, frame_indices=[5, 80, 2]), FrameSampling(max_frames=1))
    assert exact.indices == [5, 80, 2] and numbers(exact.frames) == [5, 80, 2]
    with pytest.raises(SampleError, match=r"frame_indices \[90\] outside 0\.\.89"):
        load_video(Video(path=path, frame_indices=[0, 90]), FrameSampling())
    with pytest.raises(SampleError, match="hints"):
        load_video(Video(path=path, fps=0), FrameSampling())
    frames = [frame_image(k) for k in range(6)]
    with pytest.raises(SampleError, match="frame_indices"):
        load_video(Video(frames=frames, frame_indices=[-1]), FrameSampling())


def test_clip_is_cached_per_sampling(clips: dict[str, Path]) -> None:
    part = Video(path=str(clips["mp4"]))
    first = load_video(part, FrameSampling(max_frames=4))
    assert load_video(part, FrameSampling(max_frames=4)) is first
    assert part.cache[("video", FrameSampling(max_frames=4), None)] is first
    assert load_video(part, FrameSampling(max_frames=2)) is not first


# --------------------------------------------------------------------------- errors


def test_broken_videos_are_sample_errors(tmp_path: Path) -> None:
    sampling = FrameSampling(max_frames=4)
    with pytest.raises(SampleError, match=r"^doc 9: video file not found: .*missing\.mp4"):
        load_video(Video(path=str(tmp_path / "missing.mp4")), sampling, where="doc 9")
    (tmp_path / "zero.mp4").write_bytes(b"")
    with pytest.raises(SampleError, match=r"empty .*zero\.mp4"):
        load_video(Video(path=str(tmp_path / "zero.mp4")), sampling)
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(SampleError, match=r"cannot decode video .*noise\.mp4 \(av: .*opencv: ") as info:
        load_video(Video(path=str(tmp_path / "noise.mp4")), sampling)
    assert "\n" not in str(info.value)
    with pytest.raises(SampleError, match="noise.mp4"):
        load_video(Video(raw=(tmp_path / "noise.mp4").read_bytes(), path="noise.mp4"), sampling)
    with pytest.raises(SampleError, match="empty"):
        load_video(Video(raw=b""), sampling)
    with pytest.raises(SampleError, match="neither"):
        load_video(Video(), sampling)


def test_zero_frame_video(tmp_path: Path) -> None:
    path = tmp_path / "no_frames.avi"
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=25)
    stream.width = stream.height = SIZE
    container.start_encoding()
    container.close()
    with av.open(str(path)) as check:
        assert len(check.streams.video) == 1  # a video stream, but no frames in it
    with pytest.raises(SampleError, match=r"no_frames\.avi .*no frames"):
        load_video(Video(path=str(path)), FrameSampling(max_frames=4), backend="av")


def test_backend_errors_are_usage_errors(clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="unknown video backend 'pyav'"):
        load_video(Video(path=str(clips["mp4"])), FrameSampling(), backend="pyav")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "decord" else real(name, *a))
    with pytest.raises(UsageError, match="pip install decord"):
        load_video(Video(path=str(clips["mp4"])), FrameSampling(), backend="decord")
    assert "decord" not in video_backends()


# --------------------------------------------------------------------------- import hygiene

HYGIENE = """
import sys
import lmms_eval.media as media
from lmms_eval.api.messages import Audio, Image, Video
assert "torch" not in sys.modules, "import"
media.load_image(Image(path=sys.argv[1]))
media.load_audio(Audio(path=sys.argv[2]), 16000)
media.load_video(Video(path=sys.argv[3]), media.FrameSampling(max_frames=4))
media.load_video(Video(path=sys.argv[3]), media.FrameSampling(max_frames=2), backend="opencv")
if media.video_backends().count("decord"):
    media.load_video(Video(path=sys.argv[3]), media.FrameSampling(max_frames=2), backend="decord")
bad = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
assert not bad, bad
print("clean")
"""


def test_media_never_imports_torch(clips: dict[str, Path], tmp_path: Path) -> None:
    import soundfile

    image = tmp_path / "i.png"
    PILImage.new("RGB", (4, 4)).save(image)
    audio = tmp_path / "a.wav"
    soundfile.write(audio, np.zeros(800, np.float32), 8000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", HYGIENE, str(image), str(audio), str(clips["mkv"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0 and "clean" in out.stdout, out.stderr[-2000:]


def test_segments_join_instants_of_several_files_on_one_timeline(tmp_path: Path) -> None:
    """``Video.segments``: each file's frame on screen at each instant, joined in order; timestamps
    count along the files end to end (so LLaVA-Video's time instruction stays within the video)."""
    from lmms_eval.models.llava_vid import time_instruction

    first = make_video(tmp_path / "a.mp4", n=30, fps=10)  # 3 s
    second = make_video(tmp_path / "b.mp4", n=20, fps=10)  # 2 s
    clip = load_video(Video(segments=[(str(first), [0.05, 2.55]), (str(second), [1.05])]), FrameSampling())
    assert [frame_number(f) for f in clip.frames] == [0, 25, 10]
    assert clip.timestamps == pytest.approx([0.05, 2.55, 4.05])  # 1.05 s into b = 3 s of a + 1.05
    assert clip.indices == [0, 25, 40] and clip.total_frames == 50  # frame 10 of b = 30 frames of a + 10
    assert clip.duration == pytest.approx(5.0)
    assert time_instruction(clip) == (
        "The video lasts for 5.00 seconds, and 3 frames are uniformly sampled from it. These frames are located "
        "at 0.05s,2.55s,4.05s.Please answer the following questions related to this video."
    )


def _gop_video(
    path: Path, n: int, fps: int, codec: str, options: dict[str, str], pts_ms: list[int] | None = None
) -> Path:
    """Frames numbered as ``frame_image``; keyframes every ``g`` frames; optional own times (ms)."""
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = options
        if pts_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        for k in range(n):
            frame = av.VideoFrame.from_ndarray(frame_image(k), format="rgb24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[k], Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize(
    "codec,options",
    [("mpeg4", {"g": "24", "qscale": "2"}), ("libx264", {"g": "24", "bf": "2", "preset": "veryfast", "crf": "10"})],
)
def test_pyav_seeks_to_far_frames_and_returns_what_a_sequential_read_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, codec: str, options: dict[str, str]
) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"this PyAV has no {codec}")
    path = _gop_video(tmp_path / f"{codec}.mp4", n=400, fps=20, codec=codec, options=options)
    picks = [0, 5, 150, 151, 263, 399]  # 150 is 7.2 s after 5: reached by seeking
    used: list[bool] = []
    seek_scan = video_readers._av_seek_scan

    def spy(*args: object) -> object:
        found = seek_scan(*args)
        used.append(found is not None)
        return found

    monkeypatch.setattr(video_readers, "_av_seek_scan", spy)
    seeking = read_video(str(path), lambda total, native: picks, "av")
    assert used == [True]
    monkeypatch.setattr(video_readers, "SEEK_GAP_SECONDS", 1e9)  # never seek: decode every frame in order
    sequential = read_video(str(path), lambda total, native: picks, "av")
    assert used == [True]
    assert numbers(seeking.frames) == numbers(sequential.frames) == picks
    assert np.array_equal(seeking.frames, sequential.frames)  # the very same decoded pixels
    assert seeking.timestamps == pytest.approx(sequential.timestamps)
    assert sequential.timestamps == pytest.approx([k / 20 for k in picks])


def test_pyav_reads_an_irregular_stream_by_counting_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Times that are not whole frames at the stated rate: the seek is abandoned and the frames are
    counted, as when no seek is tried."""
    pts_ms = [k * 50 + (17 if k % 7 == 3 else 0) for k in range(300)]  # 20 fps with some frames late
    path = _gop_video(tmp_path / "irregular.mkv", n=300, fps=20, codec="mpeg4", options={"g": "24"}, pts_ms=pts_ms)
    found: list[object] = []
    seek_scan = video_readers._av_seek_scan

    def spy(*args: object) -> object:
        found.append(seek_scan(*args))
        return found[-1]

    monkeypatch.setattr(video_readers, "_av_plausible", lambda frames, stream, native: True)
    monkeypatch.setattr(video_readers, "_av_header_frames", lambda stream: 300)  # mkv states no count
    monkeypatch.setattr(video_readers, "_av_seek_scan", spy)
    picks = [0, 100, 101, 203, 299]
    clip = read_video(str(path), lambda total, native: picks, "av")
    assert found == [None]  # tried, given up
    monkeypatch.setattr(video_readers, "SEEK_GAP_SECONDS", 1e9)
    counted = read_video(str(path), lambda total, native: picks, "av")
    assert len(found) == 1 and np.array_equal(clip.frames, counted.frames)
