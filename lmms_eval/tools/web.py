"""A SerpAPI client (Google web search, Google Lens image search), off unless its key is set.

The key is read from an environment variable (``SERPAPI_API_KEY`` unless ``api_key_env`` names
another); it is registered with :mod:`lmms_eval.reporting.redact`, so it is masked in every log,
error and cache file, and never printed. Without the key, constructing :class:`SerpApiBackend`
is a one-line error. Each request has a timeout; HTTP 408/409/429/5xx, timeouts and connection
errors are retried (``tenacity``, exponential backoff from ``backoff_initial`` seconds, a
``Retry-After`` header honoured). 401/403 raise :class:`WebSearchAuthError` at once (a wrong key
must stop the run); other failures come back as a ``SearchResult`` with ``error`` set (not cached
by :mod:`lmms_eval.tools.replay`).

Mapping (SerpAPI JSON, https://serpapi.com/search-api and /google-lens-api):
``engine=google``: ``organic_results[i]`` -> ``SearchHit(title, link, snippet, source)``;
``engine=google_lens`` (``url`` = a public image URL): ``visual_matches[i]`` ->
``SearchHit(title, link, image, thumbnail, source)``. ``score = 1 / position``.
Google Lens needs the image at a public URL: pass an ``http(s)`` string, or give the client an
``image_uploader(bytes) -> url``; bytes/paths/PIL images without one are a one-line error.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from lmms_eval.reporting.redact import add_secrets, redact_text
from lmms_eval.tools.base import (
    ImageQuery,
    SearchHit,
    SearchKind,
    SearchResult,
    image_bytes,
    image_query_id,
    is_image_url,
)

DEFAULT_KEY_ENV = "SERPAPI_API_KEY"
DEFAULT_BASE_URL = "https://serpapi.com/search.json"
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
# SerpAPI answers 200 with this "error" when Google simply found nothing: an empty result, not a failure
_NO_RESULTS = "hasn't returned any results"


class WebSearchAuthError(RuntimeError):
    """The search API rejected the key (HTTP 401/403)."""


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SerpApiBackend:
    """:class:`~lmms_eval.tools.base.SearchBackend` over SerpAPI (see the module docstring)."""

    name = "serpapi"

    def __init__(
        self,
        api_key_env: str = DEFAULT_KEY_ENV,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff_initial: float = 1.0,
        location_params: dict[str, str] | None = None,
        image_uploader: Callable[[bytes], str] | None = None,
    ) -> None:
        key = os.environ.get(api_key_env, "").strip()
        if not key:
            raise RuntimeError(
                f"web search is off: set the environment variable {api_key_env} to a SerpAPI key "
                "(or use the offline corpus or a replay cache)"
            )
        add_secrets([key])
        self._key, self.api_key_env = key, api_key_env
        self.base_url, self.timeout = base_url, timeout
        self.max_retries, self.backoff_initial = max_retries, backoff_initial
        self.location_params = dict(location_params or {})  # e.g. {"gl": "us", "hl": "en"}
        self.image_uploader = image_uploader

    @property
    def params(self) -> dict[str, Any]:
        """What changes results (never the key): the endpoint and the location/language params."""
        return {"base_url": self.base_url, **self.location_params}

    def _get_once(self, query: dict[str, str]) -> dict[str, Any]:
        url = self.base_url + "?" + urllib.parse.urlencode({**query, **self.location_params, "api_key": self._key})
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in (401, 403):
                raise WebSearchAuthError(
                    f"SerpAPI rejected the key in {self.api_key_env} (HTTP {exc.code}: {detail}); set a valid key"
                ) from None
            if exc.code in RETRYABLE_STATUS:
                raise _Retryable(f"HTTP {exc.code}: {detail}", _retry_after(exc)) from None
            raise RuntimeError(f"HTTP {exc.code}: {detail}") from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
        except ValueError as exc:
            raise RuntimeError(f"the reply is not JSON ({exc})") from None

    def _get(self, query: dict[str, str]) -> dict[str, Any]:
        """GET with retries; raises ``RuntimeError`` (one line, key masked) when it gives up."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = getattr(exc, "retry_after", None)
            return hinted if hinted is not None else self.backoff_initial * 2 ** (state.attempt_number - 1)

        attempts = 0
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.max_retries + 1),
                wait=wait,
                retry=retry_if_exception_type(_Retryable),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    return self._get_once(query)
        except _Retryable as exc:
            raise RuntimeError(f"{exc} after {attempts} attempt{'s' if attempts != 1 else ''}") from None
        raise AssertionError("unreachable")

    def _search(self, kind: SearchKind, label: str, query: dict[str, str], results_key: str, k: int) -> SearchResult:
        try:
            data = self._get(query)
        except WebSearchAuthError as exc:
            raise WebSearchAuthError(redact_text(str(exc))) from None
        except RuntimeError as exc:
            return SearchResult(label, kind, backend=self.name, error=redact_text(f"SerpAPI {kind} search: {exc}"))
        if data.get("error") and _NO_RESULTS not in str(data["error"]):
            return SearchResult(label, kind, backend=self.name, error=redact_text(f"SerpAPI: {data['error']}"))
        hits = []
        for rank, item in enumerate(data.get(results_key) or [], 1):
            if rank > k:
                break
            position = item.get("position") or rank
            hits.append(
                SearchHit(
                    title=str(item.get("title", "")),
                    url=str(item.get("link", "")),
                    snippet=str(item.get("snippet", "")),
                    image=item.get("image") if kind == "image" else None,
                    thumbnail=item.get("thumbnail"),
                    score=1.0 / float(position),
                    source=str(item.get("source") or item.get("displayed_link") or ""),
                )
            )
        return SearchResult(label, kind, hits=hits, backend=self.name)

    def search_text(self, query: str, k: int = 5) -> SearchResult:
        """Google web search: the first ``k`` organic results."""
        return self._search("text", query, {"engine": "google", "q": query, "num": str(k)}, "organic_results", k)

    def search_image(self, image: ImageQuery, k: int = 5) -> SearchResult:
        """Google Lens visual matches of an image given by public URL (or uploaded by ``image_uploader``)."""
        if is_image_url(image):
            url = str(image)
        elif self.image_uploader is not None:
            url = self.image_uploader(image_bytes(image))
        else:
            raise ValueError(
                "Google Lens (SerpAPI) needs the image at a public http(s) URL: pass the URL, or give "
                "SerpApiBackend an image_uploader(bytes) -> url"
            )
        return self._search("image", image_query_id(image), {"engine": "google_lens", "url": url}, "visual_matches", k)


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read().decode("utf-8", "replace"))
        message = body.get("error") if isinstance(body, dict) else None
    except (ValueError, OSError):
        message = None
    if isinstance(message, dict):
        message = message.get("message")
    return " ".join(str(message or exc.reason or "").split())[:300]


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    value = exc.headers.get("Retry-After") if exc.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
