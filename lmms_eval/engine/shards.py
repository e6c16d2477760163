"""Independent shards: ``--shard K/N`` runs the K-th of N cost-balanced slices of every task.

A shard plans every sample of the selected tasks (finished ones too, so a resumed shard keeps its
slice), balances the list with the data-parallel path's :func:`assign_by_cost` and keeps what
rank ``K-1`` of a world of ``N`` would take, minus what its own log already finished. The slice
depends only on the task set and the samples' estimated costs, never on the machine, the batch
size or what is finished. Each shard is an ordinary run folder; ``lmms-eval merge`` folds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.record import SampleRecord
from lmms_eval.engine.distributed import assign_by_cost
from lmms_eval.engine.plan import Plan

SHARD_HELP = "K/N with 1 <= K <= N, e.g. --shard 2/4 (the second of four slices)"


def parse_shard(value: Any) -> tuple[int, int]:
    """``"K/N"`` as ``(K, N)``, or a ValueError that says the fix."""
    text = str(value).strip()
    k, sep, n = text.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"--shard must be {SHARD_HELP}, not {text!r}")
    index, count = int(k), int(n)
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"--shard must be {SHARD_HELP}, not {text!r}")
    return index, count


def shard_label(index: int, count: int) -> str:
    """The canonical ``K/N`` text."""
    return f"{index}/{count}"


@dataclass
class ShardSlice:
    """The evaluator's view of ``--shard``: inactive (every sample) unless a shard was given."""

    index: int = 1
    count: int = 1
    active: bool = False
    _generated: dict[tuple[int, int, int], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, value: str | None) -> ShardSlice:
        """The slice ``value`` (``"K/N"``) names; inactive for None."""
        if value is None:
            return cls()
        index, count = parse_shard(value)
        return cls(index, count, True)

    @property
    def first(self) -> bool:
        """Whether this process logs planning failures (rank 0's job in data parallel): shard 1."""
        return self.index == 1

    def note(self, task_number: int, record: SampleRecord) -> None:
        """Remember a logged record (the last record of a sample says whether it is finished)."""
        if self.active:
            self._generated[(task_number, record.index, record.repeat)] = record.generated

    def skip(self, finished: set[str]) -> set[str]:
        """Ids planning skips: none for a shard (its slice is cut from the whole list, see :meth:`slice`)."""
        return set() if self.active else finished

    def slice(self, plan: Plan) -> Plan:
        """This shard's pending jobs of the whole ``plan`` (every job when inactive)."""
        if not self.active:
            return plan
        owner = assign_by_cost(plan.cost, self.count)
        done = {key for key, generated in self._generated.items() if generated}
        return plan.keep(
            [
                j
                for j, rank in enumerate(owner)
                if rank == self.index - 1 and (plan.task[j], plan.index[j], plan.repeat[j]) not in done
            ]
        )

    def results_entry(self) -> dict[str, Any]:
        """What a shard's ``results.json`` says about it (nothing for a whole run)."""
        if not self.active:
            return {}
        return {
            "shard": {
                "index": self.index,
                "count": self.count,
                "note": f"covers slice {shard_label(self.index, self.count)} of the samples only: "
                "merge every shard with `lmms-eval merge` for the run's results",
            }
        }
