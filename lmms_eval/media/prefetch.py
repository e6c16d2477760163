"""Decode-ahead: prepare the items of the next batches in threads while the consumer works.

Decoders (PIL, libsndfile, soxr, FFmpeg) release the GIL while they work, so threads give real
parallelism for media decoding without the cost of sending frames between processes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import TypeVar

T = TypeVar("T")

_ESCAPE = (KeyboardInterrupt, SystemExit)
"""Raised by ``prepare``, these end the iteration instead of being returned."""


def _run(prepare: Callable[[T], None], item: T) -> BaseException | None:
    try:
        prepare(item)
    except Exception as exc:  # noqa: BLE001 - returned to the consumer, per item
        return exc
    return None


def _inline(batches: Iterable[list[T]], prepare: Callable[[T], None]) -> Iterator[tuple[list[T], list]]:
    for batch in batches:
        yield batch, [_run(prepare, item) for item in batch]


def prefetch(
    batches: Iterable[list[T]],
    prepare: Callable[[T], None],
    workers: int,
    ahead: int,
) -> Iterator[tuple[list[T], list[BaseException | None]]]:
    """Yield each batch in order, once ``prepare(item)`` has run for every item of it.

    Each batch comes with one entry per item: None, or the exception ``prepare`` raised for that
    item (exceptions never escape; KeyboardInterrupt and SystemExit do). Items run in a pool of
    ``workers`` threads: the items of a batch in parallel, and the items of the next batches
    while the consumer works on the current one.

    The bound: while the consumer holds batch k, batches k+1 .. k+``ahead`` are the only ones
    submitted beyond it, so at most ``ahead + 1`` batches of prepared media are alive (plus the
    one the consumer still keeps); ``ahead=0`` prepares a batch only once the previous one has been
    handed back. ``workers=0`` uses no threads: each batch is prepared inline just before it is
    yielded (``ahead`` is ignored).

    Closing the iterator early (``close()``, or an exception in the consumer's loop) cancels the
    work not yet started and shuts the pool down without waiting for it; items already running
    finish in the background. An error raised by ``batches`` itself is raised after the batches
    taken before it have been yielded.
    """
    if workers < 0 or ahead < 0:
        raise ValueError(f"workers and ahead must be >= 0, got workers={workers}, ahead={ahead}")
    if workers == 0:
        yield from _inline(batches, prepare)
        return
    source = iter(batches)
    pending: deque[tuple[list[T], list[Future]]] = deque()
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lmms-media")
    try:
        while True:
            while failure is None and len(pending) <= ahead:
                try:
                    batch = next(source)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 - raised once the earlier batches are out
                    failure = exc
                    break
                pending.append((batch, [pool.submit(_run, prepare, item) for item in batch]))
            if not pending:
                break
            batch, futures = pending.popleft()
            wait_all(futures)
            errors: list[BaseException | None] = []
            for future in futures:
                raised = future.exception()  # set only for BaseExceptions that _run does not catch
                if raised is not None:
                    if isinstance(raised, _ESCAPE):
                        raise raised
                    errors.append(raised)
                else:
                    errors.append(future.result())
            yield batch, errors
        if failure is not None:
            raise failure
    finally:
        for _, futures in pending:
            for future in futures:
                future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
