"""lmms_eval.media decode-ahead: prefetch (order, errors, the bound, overlap, early close) and prepare_request."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image as PILImage

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Audio, Image, Message, Text, Video
from lmms_eval.api.request import Request
from lmms_eval.media import FrameSampling, MediaSpec, load_audio, load_image, load_video, prefetch, prepare_request


def batches_of(n_batches: int, size: int) -> list[list[int]]:
    return [list(range(b * size, (b + 1) * size)) for b in range(n_batches)]


def _media_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lmms-media")]


def _wait_for_threads_to_end(seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while _media_threads() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_order_and_per_item_errors(workers: int) -> None:
    done: list[int] = []

    def prepare(item: int) -> None:
        time.sleep(0.001 * (7 - item % 7))  # later items often finish first
        if item % 5 == 3:
            raise ValueError(f"bad {item}")
        done.append(item)

    out = list(prefetch(iter(batches_of(6, 4)), prepare, workers=workers, ahead=2))
    assert [batch for batch, _ in out] == batches_of(6, 4)
    for batch, errors in out:
        assert len(errors) == len(batch)
        for item, error in zip(batch, errors):
            if item % 5 == 3:
                assert isinstance(error, ValueError) and str(error) == f"bad {item}"
            else:
                assert error is None and item in done


@pytest.mark.parametrize(("workers", "ahead"), [(1, 0), (2, 1), (4, 3)])
def test_the_bound_holds(workers: int, ahead: int) -> None:
    started: set[int] = set()
    lock = threading.Lock()

    def prepare(item: int) -> None:
        with lock:
            started.add(item // 3)  # the batch this item belongs to
        time.sleep(0.002)

    high_water = []
    for k, (batch, _) in enumerate(prefetch(batches_of(10, 3), prepare, workers=workers, ahead=ahead)):
        time.sleep(0.02)  # the consumer's work: let the pool run as far ahead as it may
        with lock:
            high_water.append(max(started) + 1)  # batches started before batch k is done
        assert batch[0] // 3 == k
        assert high_water[-1] <= k + 1 + ahead, (k, high_water)
    assert max(high_water[:-ahead] or high_water) >= 1 + ahead  # it did run ahead, up to the bound


def test_workers_zero_runs_inline() -> None:
    events: list[str] = []
    main = threading.get_ident()

    def prepare(item: int) -> None:
        assert threading.get_ident() == main
        events.append(f"prepare {item}")

    for batch, errors in prefetch(batches_of(3, 2), prepare, workers=0, ahead=5):
        events.append(f"consume {batch}")
        assert errors == [None, None]
    assert events == [
        "prepare 0",
        "prepare 1",
        "consume [0, 1]",
        "prepare 2",
        "prepare 3",
        "consume [2, 3]",
        "prepare 4",
        "prepare 5",
        "consume [4, 5]",
    ]


def test_real_overlap() -> None:
    """prepare: 4 items x 0.05 s on one worker = 0.2 s a batch; the consumer: 0.2 s a batch.
    Serial would take 5 x 0.4 = 2.0 s; overlapped about 0.2 + 5 x 0.2 = 1.2 s."""

    def prepare(item: int) -> None:
        time.sleep(0.05)

    start = time.monotonic()
    for _ in prefetch(batches_of(5, 4), prepare, workers=1, ahead=1):
        time.sleep(0.2)
    elapsed = time.monotonic() - start
    assert elapsed < 1.6, elapsed


def test_items_of_a_batch_run_in_parallel() -> None:
    def prepare(item: int) -> None:
        time.sleep(0.1)

    start = time.monotonic()
    list(prefetch(batches_of(2, 4), prepare, workers=4, ahead=0))
    assert time.monotonic() - start < 0.6  # serial: 0.8 s


def test_closing_early_cancels_queued_work() -> None:
    calls: list[int] = []

    def prepare(item: int) -> None:
        calls.append(item)
        time.sleep(0.2)

    start = time.monotonic()
    gen = prefetch(batches_of(50, 4), prepare, workers=2, ahead=3)
    next(gen)
    gen.close()
    assert time.monotonic() - start < 1.5  # not 50 x 4 x 0.2 / 2 s
    _wait_for_threads_to_end()
    assert len(calls) <= 4 + 2 + 2  # batch 0, at most one round running at close time, and slack
    assert not _media_threads()


def test_consumer_exception_shuts_the_pool_down() -> None:
    def prepare(item: int) -> None:
        time.sleep(0.05)

    with pytest.raises(RuntimeError, match="consumer failed"):
        for _ in prefetch(batches_of(40, 2), prepare, workers=2, ahead=2):
            raise RuntimeError("consumer failed")
    _wait_for_threads_to_end()
    assert not _media_threads()


def test_keyboard_interrupt_escapes() -> None:
    def prepare(item: int) -> None:
        if item == 2:
            raise KeyboardInterrupt

    for workers in (0, 2):
        with pytest.raises(KeyboardInterrupt):
            list(prefetch(batches_of(3, 2), prepare, workers=workers, ahead=1))


def test_source_error_comes_after_the_earlier_batches() -> None:
    def source():
        yield [1, 2]
        yield [3]
        raise OSError("dataset went away")

    got = []
    with pytest.raises(OSError, match="went away"):
        for batch, _ in prefetch(source(), lambda item: None, workers=2, ahead=4):
            got.append(batch)
    assert got == [[1, 2], [3]]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        list(prefetch([[1]], lambda item: None, workers=-1, ahead=0))


# --------------------------------------------------------------------------- prepare_request


def _video(path: Path) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for k in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 8 * k, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _request(tmp_path: Path, image_path: str | None = None) -> Request:
    image = tmp_path / "i.png"
    PILImage.new("RGB", (6, 4), (1, 2, 3)).save(image)
    audio = tmp_path / "a.wav"
    soundfile.write(audio, np.sin(np.arange(4410) / 10).astype(np.float32), 44100)
    content = [
        Text("look"),
        Image(path=str(image)),
        Image(path=image_path or str(image)),
        Audio(path=str(audio)),
        Video(path=str(_video(tmp_path / "v.mp4"))),
    ]
    return Request(task="toy", doc_id=7, messages=[Message("system", [Text("hi")]), Message("user", content)])


def test_prepare_request_fills_the_caches(tmp_path: Path) -> None:
    request = _request(tmp_path)
    spec = MediaSpec(images=True, audio=True, audio_rate=16000, video=FrameSampling(max_frames=4))
    prepare_request(request, spec)
    image, audio, video = request.images()[0], request.audios()[0], request.videos()[0]
    assert "rgb" in image.cache and ("audio", 16000) in audio.cache
    assert ("video", spec.video, None) in video.cache
    # the adapter asks with the same arguments and gets the very same objects
    assert load_image(image) is image.cache["rgb"]
    assert load_audio(audio, 16000) is audio.cache[("audio", 16000)]
    assert load_video(video, FrameSampling(max_frames=4)) is video.cache[("video", spec.video, None)]
    assert load_audio(audio, 16000)[0].shape == (1600,)


def test_prepare_request_only_what_the_spec_asks(tmp_path: Path) -> None:
    request = _request(tmp_path)
    prepare_request(request, MediaSpec(audio=True))
    assert not request.images()[0].cache and not request.videos()[0].cache
    assert ("audio", None) in request.audios()[0].cache
    assert MediaSpec().empty and not MediaSpec(images=True).empty


def test_prepare_request_names_sample_and_part(tmp_path: Path) -> None:
    request = _request(tmp_path, image_path=str(tmp_path / "gone.png"))
    with pytest.raises(SampleError, match=r"^toy doc 7, image 1: image file not found: .*gone\.png"):
        prepare_request(request, MediaSpec(images=True))


def test_prefetch_with_prepare_request(tmp_path: Path) -> None:
    good = _request(tmp_path)
    bad = _request(tmp_path, image_path=str(tmp_path / "gone.png"))
    spec = MediaSpec(images=True, video=FrameSampling(max_frames=2))
    out = list(prefetch([[good, bad]], lambda r: prepare_request(r, spec), workers=2, ahead=1))
    (_, errors), *_ = out
    assert errors[0] is None and isinstance(errors[1], SampleError) and "gone.png" in str(errors[1])
