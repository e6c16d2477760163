"""Batch formation: most expensive requests first, under a size and an optional cost budget."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def make_batches(
    items: Sequence[T], costs: Sequence[float], batch_size: int, max_batch_tokens: float | None = None
) -> Iterator[list[T]]:
    """Yield batches of ``items`` sorted by descending cost (ties keep their order).

    A batch closes when it holds ``batch_size`` items or when adding the next item would make
    ``len(batch) * max(cost in batch)`` (the padded cost) exceed ``max_batch_tokens``. Sorting
    longest-first means the first batch shows at once whether the budget fits in memory.
    """
    import numpy as np

    values = np.asarray(costs, dtype=np.float64)
    order = np.argsort(-values, kind="stable")  # = a stable sort by descending cost
    batch: list[T] = []
    batch_max = 0.0
    for i in order.tolist():
        cost = float(values[i])
        if batch and (
            len(batch) >= batch_size
            or (max_batch_tokens is not None and (len(batch) + 1) * max(batch_max, cost) > max_batch_tokens)
        ):
            yield batch
            batch, batch_max = [], 0.0
        batch.append(items[i])
        batch_max = max(batch_max, cost)
    if batch:
        yield batch
