"""Check at start that every rank sees the same run folder (multi-node runs need a shared one).

Each data-parallel rank appends to its own log in the run folder and rank 0 merges them at the
end, so on several nodes ``--output_path`` must be one shared filesystem (NFS, Lustre, GPFS, a
mounted bucket). Without one, each node would write into a private folder of the same name and
rank 0 would score only its own samples. :func:`check_shared_run_dir` turns that into a one-line
error before any sample is generated: rank 0 writes a marker file with a fresh token, and after a
barrier every other rank must read that token back (polling a while for slow attribute caches).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Any, Protocol

from lmms_eval.api.errors import UsageError

TIMEOUT_ENV = "LMMS_EVAL_SHARED_FS_TIMEOUT"
"""Seconds a rank waits to see rank 0's marker (default :data:`DEFAULT_TIMEOUT_S`)."""
DEFAULT_TIMEOUT_S = 30.0
MARKER_PREFIX = ".shared_fs_check."


class Collective(Protocol):
    """What the check needs of :class:`lmms_eval.engine.distributed.DistContext`."""

    @property
    def rank(self) -> int: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def is_main(self) -> bool: ...
    def barrier(self) -> None: ...
    def broadcast(self, value: Any) -> Any: ...
    def gather(self, value: Any) -> list[Any]: ...


def timeout_from_env() -> float:
    """:data:`TIMEOUT_ENV` in seconds, else :data:`DEFAULT_TIMEOUT_S`."""
    try:
        return max(0.0, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def sees_marker(path: str, token: str, timeout_s: float, poll_s: float = 0.2) -> bool:
    """Whether ``path`` holds ``token`` within ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.listdir(os.path.dirname(path))  # refresh the directory (NFS caches lookups)
            with open(path, encoding="utf-8") as fh:
                if fh.read().strip() == token:
                    return True
        except OSError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def check_shared_run_dir(dist: Collective, run_dir: str, timeout_s: float | None = None) -> None:
    """Raise a one-line :class:`UsageError` on every rank unless all ranks share ``run_dir``.

    Collective: every rank must call it, after rank 0 has created ``run_dir``. Includes a barrier,
    so it can replace the evaluator's first one. A single process returns at once.
    """
    if not dist.enabled:
        return
    timeout = timeout_from_env() if timeout_s is None else timeout_s
    token = dist.broadcast(uuid.uuid4().hex if dist.is_main else None)
    marker = os.path.join(run_dir, MARKER_PREFIX + token)
    if dist.is_main:
        with open(marker, "w", encoding="utf-8") as fh:
            fh.write(token)
    dist.barrier()
    seen = True if dist.is_main else sees_marker(marker, token, timeout)
    views = dist.gather((dist.rank, socket.gethostname(), seen))
    if dist.is_main:
        try:
            os.remove(marker)
        except OSError:
            pass
    blind = [f"rank {rank} on {host}" for rank, host, ok in views if not ok]
    if blind:
        raise UsageError(
            f"the output folder {run_dir} is not shared across nodes ({', '.join(blind)} cannot see "
            "rank 0's files): multi-node runs need a shared output folder, so give every node the same "
            "--output_path on a shared filesystem (NFS, Lustre, ...), or run independent --shard jobs and merge them"
        )
