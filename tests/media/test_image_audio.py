"""lmms_eval.media: images (decode_image, load_image, image_size) and audio (decode/mono/resample/load)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image as PILImage
from PIL import ImageFile

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Audio, Image
from lmms_eval.media import (
    MissingResampler,
    audio_seconds,
    decode_audio,
    decode_image,
    image_size,
    load_audio,
    load_image,
    resample,
    to_mono,
)

# --------------------------------------------------------------------------- image fixtures


def _gradient(width: int = 40, height: int = 20) -> np.ndarray:
    arr = np.zeros((height, width, 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    arr[..., 2] = 77
    return arr


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "rgb.png"
    PILImage.fromarray(_gradient()).save(path)
    return path


@pytest.fixture
def rotated_jpeg(tmp_path: Path) -> Path:
    """A 40x20 JPEG whose EXIF Orientation=6 says: show it turned 90 degrees (20x40)."""
    path = tmp_path / "rotated.jpg"
    exif = PILImage.Exif()
    exif[0x0112] = 6
    PILImage.fromarray(_gradient()).save(path, exif=exif.tobytes(), quality=95)
    return path


@pytest.fixture
def truncated_png(tmp_path: Path) -> Path:
    buf = io.BytesIO()
    PILImage.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    path = tmp_path / "truncated.png"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    return path


# --------------------------------------------------------------------------- images


def test_decode_path_gives_loaded_rgb(png: Path) -> None:
    img = decode_image(str(png))
    assert img.mode == "RGB" and img.size == (40, 20)
    assert np.array_equal(np.asarray(img), _gradient())
    assert getattr(img, "fp", None) is None  # pixels loaded, file closed


def test_exif_orientation_applied(rotated_jpeg: Path) -> None:
    img = decode_image(rotated_jpeg)
    assert img.size == (20, 40)
    assert load_image(Image(path=str(rotated_jpeg))).size == (20, 40)


@pytest.mark.parametrize("mode", ["P", "L", "RGBA", "LA", "1", "CMYK"])
def test_other_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"img_{mode}.{'jpg' if mode == 'CMYK' else 'png'}"
    PILImage.fromarray(_gradient()).convert(mode).save(path)
    img = decode_image(path)
    assert img.mode == "RGB" and img.size == (40, 20)


def test_high_bit_depth_is_scaled_not_saturated(tmp_path: Path) -> None:
    levels = np.array([[0, 257, 32896, 65535]], np.uint16)
    PILImage.fromarray(levels).save(tmp_path / "g16.png")
    out = np.asarray(decode_image(tmp_path / "g16.png"))
    assert out[0, :, 0].tolist() == [0, 1, 128, 255] and out.shape == (1, 4, 3)
    floats = PILImage.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))
    assert np.asarray(decode_image(floats))[0, :, 1].tolist() == [0, 128, 255]


def test_all_source_kinds_agree(png: Path) -> None:
    raw = png.read_bytes()
    expected = _gradient()
    sources = [
        str(png),
        png,
        raw,
        bytearray(raw),
        {"bytes": raw, "path": "ignored.png"},
        {"bytes": None, "path": str(png)},
        PILImage.open(png),  # lazy: decode_image loads it
        expected,
        expected.astype(np.float32) / 255.0,
        np.transpose(expected, (2, 0, 1)),  # CHW
        np.concatenate([expected, np.full((20, 40, 1), 9, np.uint8)], axis=-1),  # RGBA array
    ]
    for source in sources:
        out = decode_image(source)
        assert out.mode == "RGB", type(source)
        assert np.array_equal(np.asarray(out), expected), type(source)


def test_gray_arrays() -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    for source in (gray, gray[..., None], gray.astype(np.float64) / 255.0):
        out = np.asarray(decode_image(source))
        assert out.shape == (3, 4, 3)
        assert np.array_equal(out[..., 0], gray) and np.array_equal(out[..., 2], gray)


def test_remote_dict_goes_through_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    from datasets.features import Image as DatasetsImage

    seen = []

    def fake(self: object, value: dict) -> PILImage.Image:
        seen.append(value["path"])
        return PILImage.new("L", (3, 2), 5)

    monkeypatch.setattr(DatasetsImage, "decode_example", fake)
    out = decode_image({"bytes": None, "path": "hf://datasets/x/y.png"})
    assert out.mode == "RGB" and out.size == (3, 2) and seen == ["hf://datasets/x/y.png"]


def test_image_errors_are_sample_errors(tmp_path: Path, truncated_png: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(SampleError, match=r"doc 3: image file not found: .*nope\.png"):
        decode_image(str(missing), where="doc 3")
    with pytest.raises(SampleError, match="truncated.png") as info:
        decode_image(truncated_png)
    assert "\n" not in str(info.value)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(SampleError, match="empty.png"):
        decode_image(tmp_path / "empty.png")
    with pytest.raises(SampleError, match="empty"):
        decode_image(b"")
    with pytest.raises(SampleError, match="bytes"):
        decode_image(b"not an image at all")
    with pytest.raises(SampleError, match="shape"):
        decode_image(np.zeros((2, 3, 5, 7), np.uint8))
    with pytest.raises(SampleError, match="outside 0..255"):
        decode_image(np.full((4, 4), 1000, np.int32))
    # raw bytes with a path: the path names the sample
    with pytest.raises(SampleError, match="photo.png"):
        load_image(Image(raw=b"garbage", path="photo.png"))
    with pytest.raises(SampleError, match="neither"):
        load_image(Image())


def test_load_image_caches(png: Path) -> None:
    part = Image(path=str(png))
    first = load_image(part)
    assert load_image(part) is first and part.cache["rgb"] is first
    assert part.cache["size"] == (40, 20)
    # data wins over path
    data_part = Image(data=PILImage.new("RGB", (7, 5)), path=str(png))
    assert load_image(data_part).size == (7, 5)


def test_image_size_reads_header_only(png: Path, rotated_jpeg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(self: object) -> None:
        raise AssertionError("image_size must not decode pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for part, size in (
        (Image(path=str(png)), (40, 20)),
        (Image(raw=png.read_bytes()), (40, 20)),
        (Image(path=str(rotated_jpeg)), (20, 40)),  # EXIF orientation accounted for
        (Image(data=np.zeros((5, 9, 3), np.uint8)), (9, 5)),
    ):
        assert image_size(part) == size
        assert "rgb" not in part.cache and part.cache["size"] == size


def test_image_size_unreadable_is_none(tmp_path: Path, png: Path) -> None:
    assert image_size(Image(path=str(tmp_path / "missing.png"))) is None
    assert image_size(Image(raw=b"junk")) is None
    assert image_size(Image(path="https://example.com/x.png")) is None
    part = Image(path=str(png))
    load_image(part)
    part.cache.pop("size")
    assert image_size(part) == (40, 20)  # from the decoded image


# --------------------------------------------------------------------------- audio fixtures


def _sine(freq: float, rate: int, seconds: float) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def stereo_wav(tmp_path: Path) -> tuple[Path, np.ndarray]:
    left, right = _sine(440, 8000, 0.5), _sine(1000, 8000, 0.5) * 0.5
    data = np.stack([left, right], axis=1)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, data, 8000, subtype="FLOAT")
    return path, data


@pytest.fixture
def flac_44k(tmp_path: Path) -> Path:
    path = tmp_path / "tone.flac"
    soundfile.write(path, _sine(1000, 44100, 1.5), 44100)
    return path


# --------------------------------------------------------------------------- audio


def test_decode_audio_sources(stereo_wav: tuple[Path, np.ndarray]) -> None:
    path, data = stereo_wav
    wave, rate = decode_audio(str(path))
    assert rate == 8000 and wave.dtype == np.float32 and wave.shape == data.shape
    assert np.allclose(wave, data)
    for source in (path.read_bytes(), {"bytes": path.read_bytes(), "path": "x.wav"}, {"bytes": None, "path": path}):
        again, rate2 = decode_audio(source)
        assert rate2 == 8000 and np.array_equal(again, wave)
    arr, rate3 = decode_audio({"array": data.T, "sampling_rate": 8000})
    assert rate3 == 8000 and np.array_equal(arr, data.T)
    pcm, _ = decode_audio({"array": np.array([-32768, 0, 16384], np.int16), "sampling_rate": 16000})
    assert np.allclose(pcm, [-1.0, 0.0, 0.5])


def test_mono_mix_is_channel_mean(stereo_wav: tuple[Path, np.ndarray]) -> None:
    path, data = stereo_wav
    wave, rate = load_audio(Audio(path=str(path)))
    assert rate == 8000 and wave.ndim == 1 and wave.dtype == np.float32
    assert np.allclose(wave, data.mean(axis=1), atol=1e-6)
    # both layouts: (frames, channels) and (channels, frames)
    assert np.allclose(to_mono(data), to_mono(data.T))
    assert np.allclose(load_audio(Audio(array=data.T, sampling_rate=8000))[0], data.mean(axis=1), atol=1e-6)
    mono = data[:, 0]
    assert to_mono(mono) is mono
    assert np.array_equal(to_mono(mono[:, None]), mono)
    with pytest.raises(SampleError, match="ambiguous"):
        to_mono(np.zeros((10, 20), np.float32))


def test_resample_length_and_frequency(flac_44k: Path) -> None:
    wave, rate = decode_audio(flac_44k)
    wave = to_mono(wave)
    out = resample(wave, rate, 16000)
    assert out.dtype == np.float32
    assert abs(len(out) - round(len(wave) * 16000 / 44100)) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    freqs = np.fft.rfftfreq(len(out), 1 / 16000)
    assert abs(freqs[int(np.argmax(spectrum))] - 1000) < 2
    # via the part, with caching per rate
    part = Audio(path=str(flac_44k))
    first = load_audio(part, 16000)
    assert first[1] == 16000 and len(first[0]) == len(out)
    assert load_audio(part, 16000) is first
    assert load_audio(part)[1] == 44100
    assert part.cache["seconds"] == pytest.approx(1.5)


def test_resample_identity_and_empty() -> None:
    wave = _sine(100, 16000, 0.1)
    assert resample(wave, 16000, 16000) is wave
    assert resample(wave.astype(np.float64), 16000, 16000).dtype == np.float32
    empty = resample(np.zeros(0, np.float32), 44100, 16000)
    assert empty.shape == (0,) and empty.dtype == np.float32


def test_missing_soxr_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "soxr", None)
    with pytest.raises(MissingResampler, match="pip install soxr") as info:
        resample(_sine(100, 16000, 0.1), 16000, 8000)
    assert isinstance(info.value, ImportError)


def test_empty_and_nan_audio(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros((0, 1), np.float32), 16000)
    assert empty.stat().st_size > 0  # a valid header, zero samples
    with pytest.raises(SampleError, match=r"doc 1, audio 0: audio .*empty\.wav is empty"):
        load_audio(Audio(path=str(empty)), 16000, where="doc 1, audio 0")
    one_frame = tmp_path / "one_frame.wav"  # one sample at 48 kHz is none at 16 kHz
    soundfile.write(one_frame, np.full((1, 1), 0.1, np.float32), 48000)
    with pytest.raises(SampleError, match=r"one_frame\.wav has no samples at 16000 Hz"):
        load_audio(Audio(path=str(one_frame)), 16000, where="doc 2, audio 0")
    assert load_audio(Audio(path=str(one_frame)))[0].shape == (1,)  # at its own rate it is one sample
    nan = tmp_path / "nan.wav"
    data = _sine(300, 16000, 0.1)
    data[10] = np.nan
    soundfile.write(nan, data, 16000, subtype="FLOAT")
    with pytest.raises(SampleError, match=r"nan\.wav holds NaN"):
        load_audio(Audio(path=str(nan)))
    with pytest.raises(SampleError, match="sampling_rate"):
        load_audio(Audio(array=data))
    with pytest.raises(SampleError, match="audio file not found: .*gone.wav"):
        load_audio(Audio(path=str(tmp_path / "gone.wav")))
    (tmp_path / "junk.wav").write_bytes(b"RIFF0000 not really a wav")
    with pytest.raises(SampleError, match="junk.wav") as info:
        load_audio(Audio(path=str(tmp_path / "junk.wav")))
    assert "\n" not in str(info.value)
    with pytest.raises(SampleError, match="empty"):
        decode_audio(b"")


def test_audio_seconds_without_decoding(flac_44k: Path, stereo_wav: tuple[Path, np.ndarray]) -> None:
    part = Audio(path=str(flac_44k))
    assert audio_seconds(part) == pytest.approx(1.5)
    assert ("audio", None) not in part.cache and part.cache["seconds"] == pytest.approx(1.5)
    assert part.seconds == pytest.approx(1.5)
    assert audio_seconds(Audio(raw=flac_44k.read_bytes())) == pytest.approx(1.5)
    _, data = stereo_wav
    assert audio_seconds(Audio(array=data.T, sampling_rate=8000)) == pytest.approx(0.5)
    assert audio_seconds(Audio(path="/no/such/file.wav")) is None
    assert audio_seconds(Audio(raw=b"junk")) is None
