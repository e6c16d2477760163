"""Record/replay cache for search backends (SQLite, WAL), so a tool-using run replays bit for bit.

Every call is keyed by :func:`search_cache_key`: SHA-256 of the JSON of (backend name, kind,
query, k, backend params), where the query of an image search is ``"sha256:<hex>"`` of the
image's bytes, or ``"url:<url>"`` for an http(s) URL (:func:`lmms_eval.tools.base.image_query_id`).
Modes of :class:`ReplayingBackend`:

* ``record``: always call the live backend and store its answer (replacing an older one);
* ``replay``: cache only; a miss raises :class:`ReplayMiss`, one line naming the query and the fix;
* ``auto``: the cache first, the live backend on a miss (and store it).

Hit images given as local file paths (the offline corpus) are stored as their bytes
(:func:`inline_local_images`), so a published cache replays without the corpus folder. Only
answers without ``error`` are stored, so a later run retries failed calls. Each answer is
committed at once (a killed run keeps what it paid for); WAL lets ranks share one file. The
patterns follow :mod:`lmms_eval.judge.cache` (kept separate: the judge cache is unchanged).

Publishing a cache with a result::

    python -m lmms_eval.tools.replay stats CACHE.sqlite
    python -m lmms_eval.tools.replay export CACHE.sqlite OUT.jsonl   # one sorted JSON line per entry
    python -m lmms_eval.tools.replay import CACHE.sqlite IN.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from lmms_eval.reporting.redact import scrub
from lmms_eval.tools.base import ImageQuery, SearchBackend, SearchKind, SearchResult, image_query_id

ReplayMode = Literal["record", "replay", "auto"]
MODES: tuple[str, ...] = ("record", "replay", "auto")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_results (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    kind TEXT NOT NULL,
    query TEXT NOT NULL,
    k INTEGER NOT NULL,
    params TEXT NOT NULL,
    result TEXT NOT NULL,
    created REAL NOT NULL
)
"""
_COLUMNS = ("key", "backend", "kind", "query", "k", "params", "result", "created")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def search_cache_key(backend: str, kind: SearchKind, query: str, k: int, params: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of the call's identity."""
    identity = {"backend": backend, "kind": kind, "query": query, "k": k, "params": params}
    return hashlib.sha256(_canonical(identity).encode("utf-8")).hexdigest()


def inline_local_images(result: SearchResult) -> SearchResult:
    """``result`` with every hit image or thumbnail given as a local file path replaced by the
    file's bytes, so a stored answer (and a published cache) does not depend on the corpus folder
    still being there; URLs and bytes are kept as they are. Live and replayed answers are alike."""
    read: dict[str, bytes] = {}
    for hit in result.hits:
        for name in ("image", "thumbnail"):
            value = getattr(hit, name)
            if isinstance(value, str) and "://" not in value and os.path.isfile(value):
                if value not in read:
                    with open(value, "rb") as fh:
                        read[value] = fh.read()
                setattr(hit, name, read[value])
    return result


class ReplayMiss(LookupError):
    """A replay-mode query that the cache does not hold."""


class ReplayCache:
    """SQLite store ``key -> SearchResult JSON`` with hit/miss counters. Safe to share across threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> SearchResult | None:
        """The stored result (``cached=True``) or None."""
        with self._lock:
            row = self._db.execute("SELECT result FROM search_results WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        result = SearchResult.from_dict(json.loads(row[0]))
        result.cached = True
        return result

    def put(self, key: str, backend: str, k: int, params: dict[str, Any], result: SearchResult) -> None:
        """Store one result (committed at once), registered secrets scrubbed from it."""
        payload = result.to_dict()
        payload["cached"] = False
        row = (key, backend, result.kind, result.query, k, _canonical(params), scrub(_canonical(payload)), time.time())
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO search_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)

    def backends(self) -> list[tuple[str, dict[str, Any]]]:
        """The distinct ``(backend name, params)`` pairs recorded, sorted."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT backend, params FROM search_results ORDER BY backend, params")
            return [(name, json.loads(params)) for name, params in rows.fetchall()]

    def stats(self) -> dict[str, Any]:
        """Entry counts in total and per ``backend/kind``."""
        with self._lock:
            rows = self._db.execute("SELECT backend, kind FROM search_results").fetchall()
        per = Counter(f"{backend}/{kind}" for backend, kind in rows)
        return {"path": self.path, "entries": len(rows), "by_backend_kind": dict(sorted(per.items()))}

    def export_jsonl(self, out: str | Path) -> int:
        """Write every entry as one JSON line, sorted by key (a stable, diffable file); returns the count."""
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM search_results ORDER BY key").fetchall()
        with open(out, "w", encoding="utf-8") as fh:
            for row in rows:
                entry = dict(zip(_COLUMNS, row))
                entry["params"] = json.loads(entry["params"])
                entry["result"] = json.loads(entry["result"])
                fh.write(_canonical(entry) + "\n")
        return len(rows)

    def import_jsonl(self, src: str | Path) -> int:
        """Add (or replace) the entries of an exported file; returns the count."""
        rows = []
        with open(src, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    rows.append(
                        (
                            entry["key"],
                            entry["backend"],
                            entry["kind"],
                            entry["query"],
                            int(entry["k"]),
                            _canonical(entry["params"]),
                            _canonical(entry["result"]),
                            float(entry.get("created", time.time())),
                        )
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{src}:{lineno}: not an exported replay entry ({exc!r})") from None
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO search_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM search_results").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> ReplayCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class ReplayingBackend:
    """A :class:`SearchBackend` in front of a live one (or none, for pure replay) and a :class:`ReplayCache`.

    Without a live backend (``mode="replay"`` only) give the recorded ``name`` and ``params``, or use
    :meth:`from_cache` when the cache holds a single backend.
    """

    def __init__(
        self,
        cache: ReplayCache,
        mode: ReplayMode = "auto",
        backend: SearchBackend | None = None,
        name: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"replay mode {mode!r} is not one of {MODES}")
        if backend is None and mode != "replay":
            raise ValueError(f"replay mode {mode!r} needs a live backend; without one use mode 'replay'")
        if backend is None and (name is None or params is None):
            raise ValueError("a replay without a live backend needs the recorded backend name and params")
        self.cache, self.mode, self.live = cache, mode, backend
        self.name = name if name is not None else backend.name  # type: ignore[union-attr]
        self._params = params if params is not None else dict(backend.params)  # type: ignore[union-attr]

    @classmethod
    def from_cache(cls, cache: ReplayCache) -> ReplayingBackend:
        """Replay-only backend for a cache that holds exactly one ``(name, params)``."""
        recorded = cache.backends()
        if len(recorded) != 1:
            names = [name for name, _ in recorded]
            raise ValueError(f"{cache.path} holds {len(recorded)} backends {names}; pass name and params explicitly")
        name, params = recorded[0]
        return cls(cache, "replay", None, name, params)

    @property
    def params(self) -> dict[str, Any]:
        """The wrapped backend's params (the cache key part)."""
        return self._params

    def _call(self, kind: SearchKind, query: str, k: int, live_call: Any) -> SearchResult:
        key = search_cache_key(self.name, kind, query, k, self._params)
        if self.mode != "record":
            cached = self.cache.get(key)
            if cached is not None:
                return cached
            if self.mode == "replay":
                raise ReplayMiss(
                    f"replay cache {self.cache.path} has no {kind} search {query!r} (backend {self.name}, k={k}); "
                    "record it with mode 'record' or 'auto' and the live backend, or import the run's published cache"
                )
        result: SearchResult = inline_local_images(live_call())
        if result.error is None:
            self.cache.put(key, self.name, k, self._params, result)
        return result

    def search_text(self, query: str, k: int = 5) -> SearchResult:
        """See the module docstring for the modes."""
        return self._call("text", query, k, lambda: self.live.search_text(query, k))  # type: ignore[union-attr]

    def search_image(self, image: ImageQuery, k: int = 5) -> SearchResult:
        """Keyed by the SHA-256 of the image's bytes (a PIL image: of its PNG encoding), or its http(s) URL."""
        query = image_query_id(image)
        return self._call("image", query, k, lambda: self.live.search_image(image, k))  # type: ignore[union-attr]


def main(argv: list[str] | None = None) -> int:
    """``stats CACHE``, ``export CACHE OUT.jsonl``, ``import CACHE IN.jsonl``."""
    parser = argparse.ArgumentParser(prog="python -m lmms_eval.tools.replay", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("stats", help="entry counts").add_argument("cache")
    for command in ("export", "import"):
        p = sub.add_parser(command, help=f"{command} entries as JSON Lines")
        p.add_argument("cache")
        p.add_argument("file")
    args = parser.parse_args(argv)
    if args.command != "import" and not Path(args.cache).exists():
        print(f"error: no replay cache at {args.cache}", file=sys.stderr)
        return 2
    try:
        with ReplayCache(args.cache) as cache:
            if args.command == "stats":
                print(json.dumps(cache.stats(), indent=1))
            elif args.command == "export":
                print(f"exported {cache.export_jsonl(args.file)} entries to {args.file}")
            else:
                print(f"imported {cache.import_jsonl(args.file)} entries into {args.cache}")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
