"""The contracts every search backend follows: :class:`SearchHit`, :class:`SearchResult`, :class:`SearchBackend`.

A backend answers two kinds of query: ``search_text(query, k)`` and ``search_image(image, k)``.
An image query may be raw bytes, a file path or a PIL image; it is identified by the SHA-256 of
its *content* (:func:`image_sha256`), never by its path, so the same picture read from two places
is the same query (and the same record/replay cache key).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, Union, runtime_checkable

SearchKind = Literal["image", "text"]
# bytes, a path to an image file, or a PIL.Image.Image
ImageQuery = Union[bytes, str, "os.PathLike[str]", Any]


@dataclass
class SearchHit:
    """One result: a page (title, url, snippet) and, for image search, the matched image.

    ``image`` is the matched image as bytes or a local path (None when the backend has none);
    ``thumbnail`` likewise (a URL string for web backends). ``score`` is backend-specific (BM25
    score, similarity, or the reciprocal of the web rank); ``source`` names the site or corpus file.
    """

    title: str
    url: str = ""
    snippet: str = ""
    image: bytes | str | None = None
    thumbnail: bytes | str | None = None
    score: float = 0.0
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (bytes as ``{"__bytes__": hex}``)."""
        out = asdict(self)
        for name in ("image", "thumbnail"):
            if isinstance(out[name], bytes):
                out[name] = {"__bytes__": out[name].hex()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchHit:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        for name in ("image", "thumbnail"):
            if isinstance(data.get(name), dict) and "__bytes__" in data[name]:
                data[name] = bytes.fromhex(data[name]["__bytes__"])
        return cls(**data)


@dataclass
class SearchResult:
    """The answer to one query: ``hits`` best first, or an ``error`` line (then ``hits`` is empty).

    ``query`` is the text query, or ``"sha256:<hex>"`` of an image query. ``cached`` is True when
    the result came from a record/replay cache rather than the live backend.
    """

    query: str
    kind: SearchKind
    hits: list[SearchHit] = field(default_factory=list)
    backend: str = ""
    cached: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (see :meth:`SearchHit.to_dict`)."""
        return {
            "query": self.query,
            "kind": self.kind,
            "hits": [h.to_dict() for h in self.hits],
            "backend": self.backend,
            "cached": self.cached,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            query=data["query"],
            kind=data["kind"],
            hits=[SearchHit.from_dict(h) for h in data.get("hits", [])],
            backend=data.get("backend", ""),
            cached=bool(data.get("cached", False)),
            error=data.get("error"),
        )


@runtime_checkable
class SearchBackend(Protocol):
    """What the agent loop calls. ``name`` and ``params`` go into record/replay cache keys."""

    name: str

    @property
    def params(self) -> dict[str, Any]:
        """Settings that change results (e.g. corpus hash, engine, locale); part of the cache key."""
        ...

    def search_text(self, query: str, k: int = 5) -> SearchResult:
        """Top ``k`` pages for a text query."""
        ...

    def search_image(self, image: ImageQuery, k: int = 5) -> SearchResult:
        """Top ``k`` pages for an image query (bytes, path or PIL image)."""
        ...


def image_bytes(image: ImageQuery) -> bytes:
    """The bytes of an image query: bytes as given, a file's content, or a PIL image saved as PNG."""
    if isinstance(image, (bytes, bytearray)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        with open(image, "rb") as fh:
            return fh.read()
    if hasattr(image, "save"):  # PIL.Image.Image
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        return buf.getvalue()
    raise TypeError(f"an image query must be bytes, a path or a PIL image, not {type(image).__name__}")


def image_sha256(image: ImageQuery) -> str:
    """SHA-256 hex of the image query's bytes (a PIL image is hashed as its PNG encoding)."""
    return hashlib.sha256(image_bytes(image)).hexdigest()


def is_image_url(image: ImageQuery) -> bool:
    """True for an ``http(s)://`` string (web backends take such an image by URL, unread)."""
    return isinstance(image, str) and image.startswith(("http://", "https://"))


def image_query_id(image: ImageQuery) -> str:
    """How an image query is named in results and cache keys: ``url:<url>`` or ``sha256:<hex of bytes>``."""
    if isinstance(image, str) and is_image_url(image):
        return f"url:{image}"
    return f"sha256:{image_sha256(image)}"
