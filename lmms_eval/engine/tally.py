"""What results need from a task's samples, folded in as they stream past.

A :class:`TaskTally` takes each :class:`~lmms_eval.api.record.SampleRecord` once (as it is
logged, or as a log is read) and keeps only what aggregation reads: per sample (slot =
``index * repeats + repeat``) a status code, token counts and latency, and each metric's value.
Numeric metric values live in growable float arrays (8 bytes a sample, NaN = none); other values
(the pieces of a corpus metric, structured values) in a dict by slot. A later record of the same sample
replaces the earlier one, as the last line of an id wins in a log. Values are handed to the
aggregations in document order, so results do not depend on the order samples finished in.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from lmms_eval.api.record import STATUSES, SampleRecord

_CODES = {status: code for code, status in enumerate(STATUSES)}
_OK = _CODES["ok"]
_NAN = float("nan")
_INFINITE = (float("inf"), float("-inf"))
_NUMBERS = (bool, int, float, np.integer, np.floating)


def _grow(values: array[Any], size: int, fill: Any) -> None:
    """Extend ``values`` in place to at least ``size`` items (doubling), new items ``fill``."""
    if size > len(values):
        values.extend(array(values.typecode, [fill]) * (max(size, 2 * len(values)) - len(values)))


def _number(value: Any) -> float | None:
    """A finite number as float, None for None/NaN/inf (how the log stores them); else raise TypeError."""
    if value is None:
        return None
    if isinstance(value, _NUMBERS):
        number = float(value)
        return number if math.isfinite(number) else None
    raise TypeError


class _Column:
    """One metric key's per-slot values: numeric in a float array (NaN = none), anything else in a dict."""

    def __init__(self) -> None:
        self.floats = array("d")
        self.objects: dict[int, Any] | None = None  # set once a non-numeric value arrives

    def set(self, slot: int, value: Any) -> None:
        if self.objects is None:
            if type(value) is float and value == value and value not in _INFINITE:  # the common case
                number: float | None = value
            else:
                try:
                    number = _number(value)
                except TypeError:
                    number = None
                    self._to_objects()
            if self.objects is None:
                if slot >= len(self.floats):
                    _grow(self.floats, slot + 1, _NAN)
                self.floats[slot] = _NAN if number is None else number
                return
        assert self.objects is not None
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            self.objects.pop(slot, None)
        else:
            self.objects[slot] = value

    def clear(self, slot: int) -> None:
        if self.objects is not None:
            self.objects.pop(slot, None)
        elif slot < len(self.floats):
            self.floats[slot] = _NAN

    def _to_objects(self) -> None:
        values = np.frombuffer(self.floats, dtype=np.float64)
        self.objects = {int(s): float(values[s]) for s in np.flatnonzero(~np.isnan(values))}
        self.floats = array("d")

    def values_at(self, slots: list[int]) -> Any:
        """The values of ``slots`` (ascending) that have one: a float array, or a list."""
        if self.objects is None:
            values = np.frombuffer(self.floats, dtype=np.float64)
            picked = values[[s for s in slots if s < len(values)]]
            return picked[~np.isnan(picked)]
        return [self.objects[s] for s in slots if s in self.objects]

    def values(self) -> Any:
        """The values in slot order: a float array, or a list."""
        if self.objects is None:
            values = np.frombuffer(self.floats, dtype=np.float64)
            return values[~np.isnan(values)]
        return [self.objects[s] for s in sorted(self.objects)]

    def __len__(self) -> int:
        if self.objects is not None:
            return len(self.objects)
        return int((~np.isnan(np.frombuffer(self.floats, dtype=np.float64))).sum())


class TaskTally:
    """The aggregation inputs of one task (see the module docstring)."""

    def __init__(
        self, repeats: int = 1, labeller: Callable[[SampleRecord], dict[str, list[str]]] | None = None
    ) -> None:
        self.repeats = max(1, int(repeats))
        self.labeller = labeller
        self.slot_labels: dict[int, dict[str, list[str]]] = {}
        """Breakdown labels of each scored slot (``engine/breakdown.py``), when the task has a breakdown."""
        self.status = array("b")  # -1: no record
        self.prompt_tokens = array("d")
        self.completion_tokens = array("d")
        self.latency = array("d")
        self.columns: dict[str, _Column] = {}
        self._first_seen: dict[str, tuple[int, int]] = {}
        self.failures: dict[int, tuple[Any, str | None]] = {}

    def add(self, record: SampleRecord) -> None:
        """Fold one record in, replacing any earlier record of the same sample."""
        slot = record.index * self.repeats + record.repeat
        status = self.status
        if slot >= len(status):
            _grow(status, slot + 1, -1)
            for values in (self.prompt_tokens, self.completion_tokens, self.latency):
                _grow(values, slot + 1, _NAN)
        elif status[slot] >= 0:
            for column in self.columns.values():
                column.clear(slot)
            self.failures.pop(slot, None)
            self.slot_labels.pop(slot, None)
            self.prompt_tokens[slot] = self.completion_tokens[slot] = self.latency[slot] = _NAN
        code = _CODES[record.status]
        status[slot] = code
        usage = record.usage
        if usage.prompt_tokens is not None:
            self.prompt_tokens[slot] = usage.prompt_tokens
        if usage.completion_tokens is not None:
            self.completion_tokens[slot] = usage.completion_tokens
        if usage.latency_s is not None:
            self.latency[slot] = usage.latency_s
        if code != _OK:
            self.failures[slot] = (record.doc_id, record.error)
            return
        scores = record.scores
        if not scores:
            return
        if self.labeller is not None:
            self.slot_labels[slot] = self.labeller(record)
        columns, first_seen = self.columns, self._first_seen
        for position, (key, value) in enumerate(scores.items()):
            if key not in columns:
                columns[key] = _Column()
            columns[key].set(slot, value)
            seen = first_seen.get(key)
            if seen is None or slot < seen[0]:
                first_seen[key] = (slot, position)

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

    def values_at(self, key: str, slots: list[int]) -> Any:
        """One metric's values of the given slots (ascending), as :meth:`values` gives them."""
        return self.columns[key].values_at(slots)

    def _status(self) -> np.ndarray:
        return np.frombuffer(self.status, dtype=np.int8)

    @property
    def n_samples(self) -> int:
        return int((self._status() >= 0).sum())

    @property
    def n_ok(self) -> int:
        return int((self._status() == _OK).sum())

    @property
    def n_errors(self) -> int:
        return self.n_samples - self.n_ok

    def error_examples(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` failed samples in document order."""
        return [{"doc_id": self.failures[s][0], "error": self.failures[s][1]} for s in sorted(self.failures)[:limit]]

    def usage_totals(self) -> dict[str, int | None]:
        """Prompt and completion tokens summed over the samples that reported them."""
        out: dict[str, int | None] = {}
        for key, values in (("prompt_tokens", self.prompt_tokens), ("completion_tokens", self.completion_tokens)):
            known = np.frombuffer(values, dtype=np.float64)
            known = known[~np.isnan(known)]
            out[key] = int(known.sum()) if len(known) else None
        return out

    def latency_sum_count(self) -> tuple[float, int]:
        known = np.frombuffer(self.latency, dtype=np.float64)
        known = known[~np.isnan(known)]
        return float(known.sum()), len(known)
