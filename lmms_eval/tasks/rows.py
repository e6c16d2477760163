"""Dataset rows whose media columns stay encoded until code reads them.

``datasets`` decodes an ``Image`` column to a PIL image (pixels loaded) every time a row is
read, and in ``datasets`` 4+ ``Audio``/``Video`` columns to torchcodec decoders (which need
torch). The harness reads rows through Arrow instead, leaving media as their stored
``{"bytes", "path"}`` dicts, and wraps each row in a :class:`LazyRow`:

* ``row.raw(key)`` / iteration / ``dict(row)``: the stored values (what the task loader hands
  the media layer, which decodes each medium once, when a model needs it);
* ``row[key]`` on a media column: the value user code (``utils.py``) expects, decoded on first
  access and kept: an ``Image`` column as ``datasets`` decodes it (a PIL image in its own mode,
  EXIF orientation applied); an ``Audio`` column as ``{"path", "array", "sampling_rate"}`` (mono
  float32, resampled to the feature's ``sampling_rate`` when it sets one, as ``datasets`` 2-3
  gave it); a ``Video`` column as its stored dict. Lists of media decode item by item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_KINDS = {"Image": "image", "Audio": "audio", "Video": "video"}


def media_features(features: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of ``features`` that hold media (directly or in a list), with their feature."""
    out = {}
    for name, feature in features.items():
        inner = feature
        while hasattr(inner, "feature") and type(inner).__name__ in ("List", "LargeList", "Sequence"):
            inner = inner.feature
        if type(inner).__name__ in _KINDS:
            out[name] = feature
    return out


def _leaf(feature: Any) -> tuple[Any, bool]:
    inner, listed = feature, False
    while hasattr(inner, "feature") and type(inner).__name__ in ("List", "LargeList", "Sequence"):
        inner, listed = inner.feature, True
    return inner, listed


def decode_media_value(feature: Any, value: Any) -> Any:
    """The value ``user code`` sees for a stored media value of column ``feature`` (see module docstring)."""
    leaf, listed = _leaf(feature)
    if listed and isinstance(value, list):
        return [decode_media_value(leaf, v) for v in value]
    if value is None:
        return None
    kind = _KINDS[type(leaf).__name__]
    if kind == "image":
        return leaf.decode_example(value)
    if kind == "audio":
        from lmms_eval.media import decode_audio, resample, to_mono

        wave, rate = decode_audio(value, where=str(value.get("path") or "audio column"))
        wave = to_mono(wave)
        target = getattr(leaf, "sampling_rate", None)
        if target and int(target) != rate:
            wave, rate = resample(wave, rate, int(target)), int(target)
        return {"path": value.get("path"), "array": wave, "sampling_rate": rate}
    return value


class LazyRow(dict[str, Any]):
    """A dataset row: stored values, with media decoded on ``row[key]`` (see the module docstring)."""

    __slots__ = ("_features", "_decoded")

    def __init__(self, values: dict[str, Any], features: dict[str, Any]) -> None:
        super().__init__(values)
        self._features = features
        self._decoded: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        feature = self._features.get(key)
        if feature is None:
            return dict.__getitem__(self, key)
        if key not in self._decoded:
            self._decoded[key] = decode_media_value(feature, dict.__getitem__(self, key))
        return self._decoded[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def raw(self, key: str) -> Any:
        """The stored (undecoded) value of a column."""
        return dict.__getitem__(self, key)

    @property
    def media_columns(self) -> frozenset[str]:
        return frozenset(self._features)

    def __reduce__(self) -> Any:
        return (LazyRow, (dict(self), self._features))


def raw_value(doc: Mapping[str, Any], key: str) -> Any:
    """``doc[key]`` without decoding media (for a :class:`LazyRow`), else ``doc[key]``."""
    return doc.raw(key) if isinstance(doc, LazyRow) else doc[key]
