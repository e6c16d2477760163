"""Image decoding: every source kind -> a fully decoded RGB PIL image, EXIF orientation applied.

Also the small error helpers the other media modules share (every media failure is a
:class:`~lmms_eval.api.errors.SampleError` with a one-line message naming the file).
PIL is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import io
import os
import struct
from typing import TYPE_CHECKING, Any

import numpy as np

from lmms_eval.api.errors import SampleError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

    from lmms_eval.api.messages import Image

_ORIENTATION = 0x0112  # the EXIF Orientation tag
_SWAPS_AXES = (5, 6, 7, 8)  # orientations that turn the image by 90 degrees


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` of an exception on one line (decoder messages may span several), at most
    ``limit`` characters."""
    text = " ".join(str(exc).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def media_error(where: str, message: str) -> SampleError:
    """A :class:`SampleError` whose message is ``"<where>: <message>"`` (or just the message)."""
    return SampleError(f"{where}: {message}" if where else message)


def source_name(source: Any) -> str:
    """How error messages name a source: its path, or ``<N bytes>``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, dict):
        if source.get("path"):
            return str(source["path"])
        if source.get("bytes") is not None:
            return f"<{len(source['bytes'])} bytes>"
    return f"<{type(source).__name__}>"


def is_remote(path: str) -> bool:
    """True for URLs (``https://``, ``hf://``, ...), which are never local files."""
    return "://" in path


def rgb_array(value: Any, what: str = "image array") -> np.ndarray:
    """An array-like image as a C-contiguous (H, W, 3) uint8 RGB array.

    Accepts HxW, HxWxC and CxHxW (C in 1, 3, 4; alpha is dropped); uint8, other integers within
    0..255, bool, or floats in [0, 1] (a float array whose maximum exceeds 1 is taken as 0..255
    already). Tensors are read through ``numpy`` (no torch import here).
    """
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, duck-typed
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.transpose(arr, (1, 2, 0))  # CHW -> HWC
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{what} has shape {tuple(arr.shape)}; expected HxW, HxWx1/3/4 or CxHxW")
    arr = arr[..., :3]
    if arr.dtype == np.uint8:
        pass
    elif arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError(f"{what} holds NaN/inf values")
        scale = 255.0 if arr.size == 0 or arr.max() <= 1.0 + 1e-3 else 1.0  # floats above 1: already 0..255
        arr = np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.integer):
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f"{what} of dtype {arr.dtype} has values outside 0..255; scale it to uint8")
        arr = arr.astype(np.uint8)
    else:
        raise ValueError(f"{what} has dtype {arr.dtype}; expected uint8 or float in [0, 1]")
    return np.ascontiguousarray(arr)


def _finish(img: PILImage) -> PILImage:
    """Load the pixels, apply the EXIF orientation, convert to RGB."""
    from PIL import ImageOps

    img.load()
    if img.getexif().get(_ORIENTATION, 1) in (2, 3, 4, 5, 6, 7, 8):
        img = ImageOps.exif_transpose(img)
    if img.mode.startswith("I") or img.mode == "F":
        img = _to_8bit(img)
    if img.mode != "RGB":
        img = img.convert("RGB")  # transparent pixels keep their stored colour; alpha is dropped
    return img


def _to_8bit(img: PILImage) -> PILImage:
    """16-bit, 32-bit integer and float grey images -> "L" (PIL's own conversion saturates them).

    ``I;16*``: value / 257 (65535 -> 255). ``I``: as is when every value fits 0..255, else / 257.
    ``F``: the float rule of :func:`rgb_array` (values in [0, 1] scaled by 255).
    """
    from PIL import Image as PILImageModule

    arr = np.asarray(img)
    if img.mode == "F":
        return PILImageModule.fromarray(rgb_array(arr, "float image")[..., 0])
    wide = arr.astype(np.int64)
    if img.mode.startswith("I;16") or (wide.size and (wide.max() > 255 or wide.min() < 0)):
        wide = (np.clip(wide, 0, 65535) + 128) // 257
    return PILImageModule.fromarray(wide.astype(np.uint8))


def _open_file(fh: Any) -> PILImage:
    from PIL import Image as PILImageModule

    with PILImageModule.open(fh) as img:
        return _finish(img)  # pixels are loaded; leaving the ``with`` closes the file


def _decode(source: Any, name: str) -> PILImage:
    if hasattr(source, "convert") and hasattr(source, "size"):  # a PIL image
        return _finish(source)
    if isinstance(source, np.ndarray) or (hasattr(source, "shape") and hasattr(source, "dtype")):
        from PIL import Image as PILImageModule

        return PILImageModule.fromarray(rgb_array(source))
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise _Fail(f"image {name} is empty (0 bytes); fix or drop this sample")
        return _open_file(io.BytesIO(bytes(source)))
    if isinstance(source, dict):
        if source.get("bytes") is not None:
            return _decode(source["bytes"], name)
        path = source.get("path")
        if not path:
            raise _Fail(f"an image dict needs 'bytes' or 'path', got keys {sorted(source)}")
        if is_remote(str(path)):
            return _remote({"bytes": None, "path": str(path)})
        return _decode(str(path), name)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if is_remote(path):
            return _remote({"path": path, "bytes": None})
        if not os.path.isfile(path):
            raise _Fail(f"image file not found: {path}; check the path (relative paths resolve against the dataset)")
        return _open_file(path)
    raise _Fail(f"cannot read an image from a {type(source).__name__}")


def _remote(value: dict[str, Any]) -> PILImage:
    """A non-local path (``hf://``, ``https://``): read through ``datasets``' own image decoder."""
    from datasets.features import Image as DatasetsImage

    return _finish(DatasetsImage().decode_example(value))


class _Fail(Exception):
    """A decoding failure whose message is already written for the user."""


def decode_image(source: Any, where: str = "") -> PILImage:
    """Decode an image into a fully loaded RGB PIL image with its EXIF orientation applied.

    ``source`` is a PIL image, a numpy array (HxW, HxWx1/3/4 or CxHxW; uint8 or float in
    [0, 1]), a local path, encoded bytes, or a ``{"bytes": ..., "path": ...}`` dict (how
    ``datasets`` stores images; a dict or string holding only a URL such as ``hf://...`` is read
    with ``datasets``' decoder). Pixels are loaded and the file is closed before returning; a
    transparent image loses its alpha channel; 16-bit images are scaled to 8 bits (value / 257).
    ``where`` names the sample in error messages.

    Raises :class:`SampleError` (one line, naming the file) for a missing, corrupt, truncated or
    empty image.
    """
    return _decode_named(source, source_name(source), where)


def _decode_named(source: Any, name: str, where: str) -> PILImage:
    try:
        return _decode(source, name)
    except _Fail as exc:
        raise media_error(where, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - PIL raises many types
        raise media_error(where, f"cannot decode image {name} ({one_line(exc)}); fix or drop this sample") from exc


def _part_source(part: Image) -> Any:
    if part.data is not None:
        return part.data
    if part.raw is not None:
        return part.raw
    return part.path


def _part_name(part: Image) -> str:
    if part.path is not None:
        return str(part.path)
    return source_name(part.raw) if part.raw is not None else "<image data>"


def load_image(part: Image, where: str = "") -> PILImage:
    """The part's image as RGB, decoded once: ``data``, else ``raw``, else ``path``.

    The result is kept in ``part.cache["rgb"]`` (a second call returns the same object) and its
    size in ``part.cache["size"]``.
    """
    cached = part.cache.get("rgb")
    if cached is not None:
        return cached
    source = _part_source(part)
    if source is None:
        raise media_error(where, "image part has neither data, raw bytes nor a path")
    img = _decode_named(source, _part_name(part), where)
    part.cache["rgb"] = img
    part.cache["size"] = img.size
    return img


def _header_orientation(img: PILImage) -> int:
    """The EXIF orientation known without decoding pixels (``getexif`` may decode a PNG)."""
    from PIL import Image as PILImageModule

    raw = img.info.get("exif")
    if raw:
        exif = PILImageModule.Exif()
        exif.load(raw)
        return int(exif.get(_ORIENTATION, 1))
    tags = getattr(img, "tag_v2", None)  # TIFF keeps it among its own tags
    return int(tags.get(_ORIENTATION, 1)) if tags is not None else 1


def _oriented_size(img: PILImage) -> tuple[int, int]:
    width, height = img.size
    if _header_orientation(img) in _SWAPS_AXES:
        width, height = height, width
    return int(width), int(height)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height of PNG bytes from the IHDR chunk, when no ``eXIf`` chunk can rotate them
    (PNG spec: IHDR comes first; eXIf, if any, comes before the first IDAT). None otherwise."""
    if not raw.startswith(_PNG_SIGNATURE) or raw[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    pos = 8
    while pos + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos : pos + 8])
        if kind == b"eXIf":
            return None  # orientation may swap the axes: let PIL read it
        if kind in (b"IDAT", b"IEND"):
            return int(width), int(height)
        pos += 12 + length
    return None


def _header_size(source: Any) -> tuple[int, int]:
    from PIL import Image as PILImageModule

    if isinstance(source, (bytes, bytearray, memoryview)):
        fast = png_size(bytes(source))
        if fast is not None:
            return fast
    fh = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
    with PILImageModule.open(fh) as img:  # reads the header only
        return _oriented_size(img)


def image_size(part: Image) -> tuple[int, int] | None:
    """``(width, height)`` as :func:`load_image` would return it, without decoding pixels.

    From the decoded image when there is one; else from the file header (raw bytes or a local
    path, with the EXIF orientation taken into account). Cached in ``part.cache["size"]``.
    Returns None when the size cannot be read (a cost estimate never fails); URLs are not fetched.
    """
    if "size" in part.cache:
        return part.cache["size"]
    size: tuple[int, int] | None = None
    try:
        cached = part.cache.get("rgb")
        if cached is not None:
            size = (int(cached.size[0]), int(cached.size[1]))
        elif part.data is not None:
            data = part.data
            if hasattr(data, "convert") and hasattr(data, "size"):
                size = _oriented_size(data)
            else:
                shape = np.shape(data)
                if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[-1] not in (1, 3, 4):
                    shape = shape[1:]
                size = (int(shape[1]), int(shape[0]))
        elif part.raw is not None:
            size = _header_size(part.raw)
        elif part.path is not None and not is_remote(str(part.path)) and os.path.isfile(str(part.path)):
            size = _header_size(str(part.path))
    except Exception:  # noqa: BLE001 - unreadable: no estimate
        size = None
    part.cache["size"] = size
    return size
