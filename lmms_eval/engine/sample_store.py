"""The per-task sample log: one :class:`~lmms_eval.api.record.SampleRecord` per line, appended
and flushed as samples finish (the evaluator flushes each batch's records before the next batch).

A run killed at any moment loses at most the line being written; reading skips (and, with
``repair``, truncates away) an incomplete last line, so ``--resume`` continues from every
finished sample. Reading streams: nothing but the record being read is held, unless asked for.

Every line is scrubbed of the secrets the run registered (:mod:`lmms_eval.reporting.redact`)
before it is written: a key a server quoted back in an error never reaches the log.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import IO

from lmms_eval.api.record import SampleRecord
from lmms_eval.reporting import redact as _redact


def log_line(record: SampleRecord) -> bytes:
    """The record's log line (without the newline), registered secrets replaced by ``<redacted>``."""
    line = record.to_json()
    scrubbed = _redact.scrub_bytes(line)  # the line itself when no secret is registered or found
    if scrubbed is line:
        return line
    try:  # a secret that is also a field name or a status would break the line: scrub the values instead
        SampleRecord.from_json(scrubbed)
        return scrubbed
    except ValueError:
        data = _redact.scrub_values(record.to_dict())
        data["status"] = record.status
        return SampleRecord.from_dict(data).to_json()


class SampleStore:
    """Append-only JSONL log of sample records for one task."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def iter(self, repair: bool = False) -> Iterator[SampleRecord]:
        """Every record in file order (an id may repeat: the last one is the sample's state).
        With ``repair``, a torn last line is cut off the file."""
        if not os.path.exists(self.path):
            return
        good_bytes = 0
        with open(self.path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    break  # torn write from a killed run
                try:
                    record = SampleRecord.from_json(raw)
                except ValueError:
                    break
                good_bytes += len(raw)
                yield record
        if repair and good_bytes != os.path.getsize(self.path):
            with open(self.path, "r+b") as fh:
                fh.truncate(good_bytes)

    def read(self, repair: bool = False) -> dict[str, SampleRecord]:
        """Records by id (the last record of an id wins)."""
        return {record.id: record for record in self.iter(repair)}

    def append(self, record: SampleRecord, flush: bool = True) -> None:
        """Write one record; with ``flush`` (default), hand it to the OS before returning. The
        evaluator writes a batch's records, then flushes once (:meth:`flush`) before the next batch."""
        if self._fh is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._fh = open(self.path, "ab")  # noqa: SIM115 - held open across appends, closed by close()
        self._fh.write(log_line(record) + b"\n")
        if flush:
            self._fh.flush()

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def rewrite(self, records: Iterable[SampleRecord]) -> None:
        """Atomically replace the log with ``records`` (re-scoring, judging, merging ranks)."""
        self.close()
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as fh:
            for record in records:
                fh.write(log_line(record) + b"\n")
        os.replace(tmp, self.path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def samples_path(run_dir: str, task: str, rank: int | None = None) -> str:
    """The task's sample log; with ``rank``, that data-parallel rank's own log."""
    suffix = "" if rank is None else f".rank{rank}"
    return os.path.join(run_dir, f"samples_{task}{suffix}.jsonl")


def has_samples(run_dir: str) -> bool:
    """Whether any sample log of the run (a task's, or a rank's) holds a record."""
    try:
        names = os.listdir(run_dir)
    except OSError:
        return False
    for name in names:
        if name.startswith("samples_") and name.endswith(".jsonl"):
            try:
                if os.path.getsize(os.path.join(run_dir, name)) > 0:
                    return True
            except OSError:
                continue
    return False


def rank_log_paths(run_dir: str, task: str) -> list[str]:
    """Per-rank logs left by a data-parallel run (merged into the main log at its end)."""
    prefix = f"samples_{task}.rank"
    return sorted(
        os.path.join(run_dir, f) for f in os.listdir(run_dir) if f.startswith(prefix) and f.endswith(".jsonl")
    )


def iter_task_logs(run_dir: str, task: str, repair: bool = False) -> Iterator[SampleRecord]:
    """The records of a task: the main log, then any per-rank logs, in file order."""
    yield from SampleStore(samples_path(run_dir, task)).iter(repair=repair)
    for path in rank_log_paths(run_dir, task):
        yield from SampleStore(path).iter(repair=repair)


def read_task_logs(run_dir: str, task: str, repair: bool = False) -> dict[str, SampleRecord]:
    """All records of a task by id (the last record of an id wins)."""
    return {record.id: record for record in iter_task_logs(run_dir, task, repair)}


def ordered(records: Iterable[SampleRecord]) -> list[SampleRecord]:
    """Records in document order (index, repeat)."""
    return sorted(records, key=lambda r: (r.index, r.repeat))
