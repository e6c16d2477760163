"""Run coroutines from synchronous code.

:class:`LoopThread` keeps one event loop alive in a daemon thread so a synchronous adapter can
reuse its HTTP connection pool across ``generate`` calls; :func:`run_sync` runs a coroutine to
completion whether or not the caller is already inside an event loop (e.g. a notebook).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running in a background daemon thread, started on first use."""

    def __init__(self, name: str = "lmms-eval-async") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or not self._thread or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the background loop and wait for its result (Ctrl-C cancels it)."""
        future = asyncio.run_coroutine_threadsafe(coro, self._ensure())
        try:
            return future.result()
        except (KeyboardInterrupt, concurrent.futures.CancelledError):
            future.cancel()
            raise

    def close(self, final: Coroutine[Any, Any, Any] | None = None) -> None:
        """Optionally run ``final`` (e.g. closing a client), then stop the loop and its thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop, self._thread = None, None
        if loop is None:
            if final is not None:
                final.close()
            return
        if final is not None:
            try:
                asyncio.run_coroutine_threadsafe(final, loop).result(timeout=30)
            except Exception:  # noqa: BLE001 - best effort on shutdown
                pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        if not loop.is_running():
            loop.close()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, or the same in a helper thread when a loop is already running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
