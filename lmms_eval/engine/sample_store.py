"""The per-task sample log: one JSON object per line, appended and flushed per sample.

A run killed at any moment loses at most the line being written; reading skips (and
truncates away) an incomplete last line, so ``--resume`` continues from every finished sample.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return repr(obj)


class SampleStore:
    """Append-only JSONL log of sample records for one task."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def read(self, repair: bool = False) -> dict[str, dict[str, Any]]:
        """Records by id (the last record of an id wins). With ``repair``, cut a torn last line."""
        records: dict[str, dict[str, Any]] = {}
        if not os.path.exists(self.path):
            return records
        good_bytes = 0
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # torn write from a killed run
                try:
                    record = json.loads(raw)
                except ValueError:
                    break
                records[record["id"]] = record
                good_bytes += len(raw)
        if repair and good_bytes != os.path.getsize(self.path):
            with open(self.path, "r+b") as fh:
                fh.truncate(good_bytes)
        return records

    def append(self, record: dict[str, Any]) -> None:
        """Write one record and flush it to the OS before returning."""
        if self._fh is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        self._fh.write(_dumps(record) + "\n")
        self._fh.flush()

    def rewrite(self, records: list[dict[str, Any]]) -> None:
        """Atomically replace the log with ``records`` (used by re-scoring)."""
        self.close()
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(_dumps(record) + "\n")
        os.replace(tmp, self.path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def samples_path(run_dir: str, task: str, rank: int | None = None) -> str:
    """The task's sample log; with ``rank``, that data-parallel rank's own log."""
    suffix = "" if rank is None else f".rank{rank}"
    return os.path.join(run_dir, f"samples_{task}{suffix}.jsonl")


def rank_log_paths(run_dir: str, task: str) -> list[str]:
    """Per-rank logs left by a data-parallel run (merged into the main log at its end)."""
    prefix = f"samples_{task}.rank"
    return sorted(
        os.path.join(run_dir, f) for f in os.listdir(run_dir) if f.startswith(prefix) and f.endswith(".jsonl")
    )


def read_task_logs(run_dir: str, task: str, repair: bool = False) -> dict[str, dict[str, Any]]:
    """All records of a task: the main log, then any per-rank logs (the last record of an id wins)."""
    records = SampleStore(samples_path(run_dir, task)).read(repair=repair)
    for path in rank_log_paths(run_dir, task):
        records.update(SampleStore(path).read(repair=repair))
    return records
