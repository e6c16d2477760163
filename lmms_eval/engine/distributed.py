"""Data parallel: one model replica per process, launched by ``torchrun`` or ``accelerate launch``.

Every rank plans the same job list, takes its share (balanced by estimated cost, not strided),
appends to its own sample log, and rank 0 merges the logs and writes the results. Without
``WORLD_SIZE > 1`` in the environment nothing here imports torch.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def assign_by_cost(costs: Sequence[float], world_size: int) -> list[int]:
    """Rank of each job: longest-processing-time-first greedy (deterministic).

    Jobs are taken from the costliest down and each goes to the rank with the least total
    cost so far (ties: the lower rank), which keeps every rank's total within one job of the
    others' instead of leaving all long videos on one GPU as striding can.
    """
    owner = [0] * len(costs)
    if world_size <= 1:
        return owner
    heap = [(0.0, rank) for rank in range(world_size)]
    for i in sorted(range(len(costs)), key=lambda j: (-costs[j], j)):
        load, rank = heapq.heappop(heap)
        owner[i] = rank
        heapq.heappush(heap, (load + float(costs[i]), rank))
    return owner


@dataclass
class DistContext:
    """Rank, world size and the collective operations the evaluator needs."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    _initialised_here: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_env(cls) -> DistContext:
        """Read torchrun/accelerate's environment; start a process group when world > 1.

        NCCL when every rank has a GPU, else gloo (CPU). On a GPU-less machine this is what
        accelerate's ``PartialState(cpu=True)`` would set up as well.
        """
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return cls()
        import torch
        import torch.distributed as dist

        rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
        initialised = False
        if not dist.is_initialized():
            # Every rank must pick the same backend: NCCL whenever CUDA is there (a launcher
            # may give each process one visible GPU, which is then its cuda:0), else gloo.
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            use_nccl = count > 0 and (count > local_rank or count == 1)
            if use_nccl:
                torch.cuda.set_device(local_rank if local_rank < count else 0)
            dist.init_process_group(backend="nccl" if use_nccl else "gloo")
            initialised = True
        return cls(rank=rank, world_size=world, local_rank=local_rank, _initialised_here=initialised)

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            # gloo's barrier works on CPU for every backend choice
            dist.barrier()

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if not self.enabled:
            return value
        import torch.distributed as dist

        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_ok(self, ok: bool) -> bool:
        """True when ``ok`` holds on every rank (so one rank's failure stops all cleanly)."""
        if not self.enabled:
            return ok
        import torch.distributed as dist

        flags: list[Any] = [None] * self.world_size
        dist.all_gather_object(flags, bool(ok))
        return all(flags)

    def close(self) -> None:
        """Destroy the process group we started (avoids a crash at interpreter exit)."""
        if self.enabled and self._initialised_here:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
