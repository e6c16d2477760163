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


LOCAL_RANK_VARS = ("LOCAL_RANK", "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID")
"""Where launchers put a process's rank on its own node (torchrun/accelerate, srun, Open MPI, MPICH)."""


def local_rank_from_env(rank: int) -> int:
    """This process's rank on its node, which picks its GPU (the global ``RANK`` shards the work).

    On several nodes the global rank is no GPU index (rank 9 of 2 x 8 is GPU 1 of node 2), so it
    is only the last resort, for a single-node launcher that sets nothing else.
    """
    for name in LOCAL_RANK_VARS:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return rank


def gpu_index(local_rank: int, count: int) -> int:
    """The GPU of ``local_rank`` among ``count`` visible ones, or a one-line error saying the fix.

    One visible GPU is every process's own (a launcher that sets ``CUDA_VISIBLE_DEVICES`` per
    process); otherwise local rank N takes GPU N, and more processes than GPUs is refused rather
    than stacking replicas on one GPU.
    """
    if count == 1:
        return 0
    if local_rank < count:
        return local_rank
    from lmms_eval.api.errors import UsageError

    raise UsageError(
        f"local rank {local_rank} but only {count} GPUs are visible on this node: "
        f"launch at most {count} processes per node (torchrun --nproc_per_node {count})"
    )


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

        rank = int(os.environ.get("RANK", "0"))  # global: shards the work across every node
        local_rank = local_rank_from_env(rank)  # on this node: picks the GPU
        initialised = False
        if not dist.is_initialized():
            # Every rank must pick the same backend: NCCL whenever CUDA is there (a launcher
            # may give each process one visible GPU, which is then its cuda:0), else gloo.
            count = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if count:
                torch.cuda.set_device(gpu_index(local_rank, count))
            dist.init_process_group(backend="nccl" if count else "gloo")
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

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.enabled:
            return [value]
        import torch.distributed as dist

        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def all_ok(self, ok: bool) -> bool:
        """True when ``ok`` holds on every rank (so one rank's failure stops all cleanly)."""
        return all(self.gather(bool(ok)))

    def close(self) -> None:
        """Destroy the process group we started (avoids a crash at interpreter exit)."""
        if self.enabled and self._initialised_here:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()
