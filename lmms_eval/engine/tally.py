"""What results need from a task's samples, folded in as they stream past.

A :class:`TaskTally` takes each :class:`~lmms_eval.api.record.SampleRecord` once (as it is
logged, or as a log is read) and keeps only what aggregation reads: per sample (slot =
``index * repeats + repeat``) a status code, token counts and latency, and each metric's value.
Numeric metric values live in growable numpy arrays (8 bytes a sample); other values (the pieces
of a corpus metric, structured values) in a dict by slot. A later record of the same sample
replaces the earlier one, as the last line of an id wins in a log. Values are handed to the
aggregations in document order, so results do not depend on the order samples finished in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from lmms_eval.api.record import STATUSES, SampleRecord

_OK = STATUSES.index("ok")
_INITIAL = 1024


def _grown(array: np.ndarray, size: int, fill: Any) -> np.ndarray:
    if size <= len(array):
        return array
    new = np.full(max(size, 2 * len(array)), fill, dtype=array.dtype)
    new[: len(array)] = array
    return new


def _number(value: Any) -> float | None:
    """A finite number as float, None for None/NaN/inf (how the log stores them); else raise TypeError."""
    if value is None:
        return None
    if isinstance(value, (bool, int, float, np.integer, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    raise TypeError


class _Column:
    """One metric key's per-slot values: numeric in an array, anything else in a dict."""

    def __init__(self) -> None:
        self.floats = np.full(_INITIAL, np.nan)
        self.present = np.zeros(_INITIAL, dtype=bool)
        self.objects: dict[int, Any] | None = None  # set once a non-numeric value arrives

    def set(self, slot: int, value: Any) -> None:
        if self.objects is None:
            try:
                number = _number(value)
            except TypeError:
                self._to_objects()
            else:
                self.floats = _grown(self.floats, slot + 1, np.nan)
                self.present = _grown(self.present, slot + 1, False)
                self.floats[slot], self.present[slot] = (number, True) if number is not None else (np.nan, False)
                return
        assert self.objects is not None
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            self.objects.pop(slot, None)
        else:
            self.objects[slot] = value

    def clear(self, slot: int) -> None:
        if self.objects is not None:
            self.objects.pop(slot, None)
        elif slot < len(self.present):
            self.present[slot] = False

    def _to_objects(self) -> None:
        slots = np.flatnonzero(self.present)
        self.objects = {int(s): float(self.floats[s]) for s in slots}
        self.floats = self.present = np.zeros(0)

    def values(self) -> Any:
        """The values in slot order: a float array, or a list."""
        if self.objects is None:
            return self.floats[: len(self.present)][self.present]
        return [self.objects[s] for s in sorted(self.objects)]

    def __len__(self) -> int:
        return len(self.objects) if self.objects is not None else int(self.present.sum())


class TaskTally:
    """The aggregation inputs of one task (see the module docstring)."""

    def __init__(self, repeats: int = 1) -> None:
        self.repeats = max(1, int(repeats))
        self.status = np.full(_INITIAL, -1, dtype=np.int8)
        self.prompt_tokens = np.full(_INITIAL, np.nan)
        self.completion_tokens = np.full(_INITIAL, np.nan)
        self.latency = np.full(_INITIAL, np.nan)
        self.columns: dict[str, _Column] = {}
        self._first_seen: dict[str, tuple[int, int]] = {}
        self.failures: dict[int, tuple[Any, str | None]] = {}

    def add(self, record: SampleRecord) -> None:
        """Fold one record in, replacing any earlier record of the same sample."""
        slot = record.index * self.repeats + record.repeat
        size = slot + 1
        if size > len(self.status):
            self.status = _grown(self.status, size, -1)
            self.prompt_tokens = _grown(self.prompt_tokens, size, np.nan)
            self.completion_tokens = _grown(self.completion_tokens, size, np.nan)
            self.latency = _grown(self.latency, size, np.nan)
        if self.status[slot] >= 0:
            for column in self.columns.values():
                column.clear(slot)
            self.failures.pop(slot, None)
        code = STATUSES.index(record.status)
        self.status[slot] = code
        usage = record.usage
        for array, value in (
            (self.prompt_tokens, usage.prompt_tokens),
            (self.completion_tokens, usage.completion_tokens),
            (self.latency, usage.latency_s),
        ):
            array[slot] = np.nan if value is None else float(value)
        if code != _OK:
            self.failures[slot] = (record.doc_id, record.error)
            return
        for position, (key, value) in enumerate((record.scores or {}).items()):
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = _Column()
            column.set(slot, value)
            seen = self._first_seen.get(key)
            if seen is None or (slot, position) < seen:
                self._first_seen[key] = (slot, position)

    def extend(self, records: Iterable[SampleRecord]) -> TaskTally:
        for record in records:
            self.add(record)
        return self

    # ---- what aggregation reads -----------------------------------------------------------
    def metric_keys(self) -> list[str]:
        """``metric,filter`` keys in order of first appearance in document order."""
        return sorted((k for k, c in self.columns.items() if len(c)), key=lambda k: self._first_seen[k])

    def values(self, key: str) -> Any:
        return self.columns[key].values()

    @property
    def n_samples(self) -> int:
        return int((self.status >= 0).sum())

    @property
    def n_ok(self) -> int:
        return int((self.status == _OK).sum())

    @property
    def n_errors(self) -> int:
        return self.n_samples - self.n_ok

    def error_examples(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` failed samples in document order."""
        return [{"doc_id": self.failures[s][0], "error": self.failures[s][1]} for s in sorted(self.failures)[:limit]]

    def usage_totals(self) -> dict[str, int | None]:
        """Prompt and completion tokens summed over the samples that reported them."""
        out: dict[str, int | None] = {}
        for key, array in (("prompt_tokens", self.prompt_tokens), ("completion_tokens", self.completion_tokens)):
            known = array[~np.isnan(array)]
            out[key] = int(known.sum()) if len(known) else None
        return out

    def latency_sum_count(self) -> tuple[float, int]:
        known = self.latency[~np.isnan(self.latency)]
        return float(known.sum()), len(known)
