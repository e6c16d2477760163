"""A persistent cache of judge replies (SQLite), so re-running or resuming never pays twice.

A reply is keyed by :func:`cache_key`: the judge model, the hash of the prompt template, the
hash of the rendered messages (text and any images) and the sampling parameters. Only replies
the server actually returned are stored; failed calls are not, so a later run retries them.
Each reply is committed as soon as it arrives, so a killed run keeps what it paid for. WAL mode
lets several processes (ranks) share one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from typing import Any

from lmms_eval.reporting.redact import scrub

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judge_replies (
    key TEXT PRIMARY KEY,
    judge_model TEXT NOT NULL,
    template_hash TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    reply TEXT NOT NULL,
    usage TEXT,
    created REAL NOT NULL
)
"""


def sha256_json(value: Any) -> str:
    """Stable hash of a JSON-serialisable value."""
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def cache_key(
    judge_model: str, template_hash: str, messages: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[str, str]:
    """``(key, inputs_hash)`` for one judge call."""
    inputs_hash = sha256_json(messages)
    key = sha256_json({"judge_model": judge_model, "template": template_hash, "inputs": inputs_hash, "params": params})
    return key, inputs_hash


class JudgeCache:
    """SQLite-backed ``key -> reply`` store with hit/miss counters. Safe to share across threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached ``{"reply", "usage"}`` for ``key``, or None."""
        with self._lock:
            row = self._db.execute("SELECT reply, usage FROM judge_replies WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return {"reply": row[0], "usage": json.loads(row[1]) if row[1] else None}

    def put(
        self,
        key: str,
        judge_model: str,
        template_hash: str,
        inputs_hash: str,
        reply: str,
        usage: dict[str, Any] | None = None,
    ) -> None:
        """Store one reply (committed at once), registered secrets scrubbed from it."""
        reply = scrub(reply)
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO judge_replies VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    judge_model,
                    template_hash,
                    inputs_hash,
                    reply,
                    json.dumps(usage) if usage else None,
                    time.time(),
                ),
            )

    def delete(self, keys: list[str]) -> int:
        """Forget some replies (e.g. to ask again); returns how many were removed."""
        with self._lock:
            cur = self._db.executemany("DELETE FROM judge_replies WHERE key = ?", [(k,) for k in keys])
            return cur.rowcount

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM judge_replies").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> JudgeCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
