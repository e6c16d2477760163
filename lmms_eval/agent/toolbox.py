"""The tools an agent loop calls, behind one object: a search backend (offline corpus, replay
cache or web API, always through the run's record/replay cache) with a timeout per call.

``--tools`` selects the backend (``key=value`` pairs, as ``--model_args``):

* ``backend=corpus,corpus=DIR``: the offline corpus (``python -m lmms_eval.tools.corpus build DIR``);
* ``backend=serpapi``: SerpAPI (Google, Google Lens), key from ``$SERPAPI_API_KEY``;
* ``backend=replay,cache=FILE``: only the recorded answers of a published cache, no live tool;
* any name registered in the ``lmms_eval.tools`` entry-point group (a class taking the other
  keys as keyword arguments and following :class:`~lmms_eval.tools.base.SearchBackend`).

``cache=FILE`` (default: the run's ``cache.sqlite``, which the judge shares) and
``mode=auto|record|replay`` (default ``auto``) set the record/replay cache. A call that fails,
times out (``timeout_s`` of the task's ``agent:`` block) or misses a replay-only cache comes back
as a :class:`ToolOutcome` with ``error`` set: the model gets the protocol's error text and the
transcript records why; nothing is raised.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.api.registry import TOOLS
from lmms_eval.tools.base import SearchHit, SearchResult

TOOLS.register("corpus", "lmms_eval.tools.corpus:CorpusBackend")
TOOLS.register("serpapi", "lmms_eval.tools.web:SerpApiBackend")
BACKEND_HELP = (
    "give --tools backend=corpus,corpus=DIR (offline corpus), backend=replay,cache=FILE (a published "
    "replay cache) or backend=serpapi (live, needs $SERPAPI_API_KEY)"
)


@dataclass
class ToolOutcome:
    """One tool call as the loop saw it."""

    tool: str
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    error: str | None = None
    cached: bool = False
    backend: str = ""
    latency_s: float = 0.0
    k: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    """What a local tool reports (MGPO's grounding outcome), copied into the transcript."""
    payload: Any = None
    """A local tool's product for the protocol (the crop); never logged."""

    def record(self) -> dict[str, Any]:
        """The transcript entry (hits by title, url and image reference; never image bytes)."""
        from lmms_eval.agent.protocol import as_image, image_ref

        hits = []
        for hit in self.hits:
            entry: dict[str, Any] = {"title": hit.title, "url": hit.url}
            picture = hit.image if hit.image is not None else hit.thumbnail
            if picture is not None:
                entry["image"] = image_ref(as_image(picture))
            hits.append(entry)
        return {
            "role": "tool",
            "tool": self.tool,
            "query": self.query,
            "k": self.k,
            "backend": self.backend,
            "cached": self.cached,
            "error": self.error,
            "latency_s": round(self.latency_s, 4),
            "hits": hits,
            **self.details,
        }


class Toolbox:
    """Search calls with a timeout, through a (record/replay) backend. Thread-safe."""

    def __init__(self, backend: Any, timeout_s: float | None = None, workers: int = 8) -> None:
        self.backend = backend
        self.timeout_s = timeout_s
        self._pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lmms-eval-tool")

    def search(self, kind: str, query: Any, k: int, timeout_s: float | None = None) -> ToolOutcome:
        """One image search (``query`` an image: bytes, path or PIL image) or text search."""
        from lmms_eval.tools.base import image_query_id

        label = image_query_id(query) if kind == "image_search" else str(query)
        outcome = ToolOutcome(tool=kind, query=label, k=k, backend=getattr(self.backend, "name", ""))
        call = self.backend.search_image if kind == "image_search" else self.backend.search_text
        started = time.perf_counter()
        future = self._pool.submit(call, query, k)
        limit = timeout_s if timeout_s is not None else self.timeout_s
        try:
            result: SearchResult = future.result(timeout=limit)
        except cf.TimeoutError:
            future.cancel()
            outcome.error = f"timed out after {limit:g} s"
        except Exception as exc:  # noqa: BLE001 - a failing tool is a recorded failure, not a crash
            outcome.error = f"{type(exc).__name__}: {exc}"
        else:
            outcome.hits, outcome.cached, outcome.error = list(result.hits), result.cached, result.error
            outcome.backend = result.backend or outcome.backend
        outcome.latency_s = time.perf_counter() - started
        return outcome

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        closer = getattr(getattr(self.backend, "cache", None), "close", None)
        if closer is not None:
            closer()


def parse_tools_arg(value: Any) -> dict[str, Any] | None:
    """``--tools`` as a dict (``"k=v,..."`` strings parsed like ``--model_args``)."""
    from lmms_eval.api.model import parse_kv_string

    if value is None or value == "" or value == {}:
        return None
    parsed = parse_kv_string(value) if isinstance(value, str) else dict(value)
    if "backend" not in parsed:
        raise UsageError(f"--tools needs backend=NAME: {BACKEND_HELP}")
    mode = parsed.get("mode", "auto")
    if mode not in ("auto", "record", "replay"):
        raise UsageError(f"--tools mode={mode!r}: use auto, record or replay")
    return parsed


def live_backend(options: dict[str, Any]) -> Any | None:
    """The live backend ``--tools`` names (None for ``backend=replay``), built before the run
    starts so a bad ``--tools`` fails at once, in one line."""
    options = dict(options)
    name = str(options.pop("backend"))
    options.pop("mode", None)
    options.pop("cache", None)
    if name == "replay":
        if options:
            raise UsageError(f"--tools backend=replay takes only cache= and mode=, not {', '.join(sorted(options))}")
        return None
    if name == "corpus":
        if "corpus" in options:
            options["corpus_dir"] = options.pop("corpus")
        if "corpus_dir" not in options:
            raise UsageError(
                "--tools backend=corpus needs corpus=DIR: a folder indexed with "
                "python -m lmms_eval.tools.corpus build DIR"
            )
    cls = TOOLS.get(name)
    try:
        return cls(**options)
    except UsageError:
        raise
    except (TypeError, OSError, ValueError, RuntimeError) as exc:
        raise UsageError(f"--tools backend={name}: {exc}") from None


def build_toolbox(
    options: dict[str, Any], default_cache: str, live: Any | None = None, timeout_s: float | None = None
) -> Toolbox:
    """The toolbox ``--tools`` describes: its live backend (``live``, else built now) behind the
    record/replay cache (``cache=FILE``, else ``default_cache``)."""
    from lmms_eval.tools.replay import ReplayCache, ReplayingBackend

    if live is None and options["backend"] != "replay":
        live = live_backend(options)
    cache = ReplayCache(str(options.get("cache") or default_cache))
    if live is None:
        try:
            return Toolbox(ReplayingBackend.from_cache(cache), timeout_s)
        except ValueError as exc:
            cache.close()
            raise UsageError(f"--tools backend=replay: {exc}") from None
    return Toolbox(ReplayingBackend(cache, options.get("mode", "auto"), live), timeout_s)
