"""The evaluator's bookkeeping of pending samples: the plan (compact arrays), a sample made ready
for the model, and ids that survive a broken document."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.messages import MEDIA_KINDS
from lmms_eval.api.request import Request, stable_id
from lmms_eval.tasks.task import Task


class Plan:
    """The pending samples of a run as parallel compact arrays (task number, row index, repeat, cost)."""

    def __init__(self) -> None:
        self.task = array("l")
        self.index = array("q")
        self.repeat = array("l")
        self.cost = array("d")

    def __len__(self) -> int:
        return len(self.task)

    def add(self, task: int, index: int, repeat: int, cost: float) -> None:
        self.task.append(task)
        self.index.append(index)
        self.repeat.append(repeat)
        self.cost.append(cost)

    def keep(self, jobs: Sequence[int]) -> Plan:
        out = Plan()
        for j in jobs:
            out.add(self.task[j], self.index[j], self.repeat[j], self.cost[j])
        return out


@dataclass(slots=True)
class Built:
    """One pending sample made ready for the model: its document and request, or why not."""

    job: int
    task: Task
    index: int
    repeat: int
    doc: dict[str, Any] | None = None
    request: Request | None = None
    error: str | None = None


def task_kinds(task: Task, indices: Sequence[int], model_name: str | None) -> set[str]:
    """The content kinds a task sends: from its config, or from its first prompt (``doc_to_messages``)."""
    cfg = task.config
    kinds = {"text"} | {kind for kind, _ in task.media_fields}
    if cfg.doc_to_messages is not None and len(indices):
        try:
            messages = task.build_messages(task.doc(indices[0]), model_name)
        except Exception:  # noqa: BLE001 - that document's error is reported when it is generated
            return kinds
        kinds |= {MEDIA_KINDS.get(type(p), "text") for m in messages for p in m.content}
    return kinds


def doc_id_of(item: Built) -> Any:
    return item.task.doc_key(item.index, item.doc) if item.doc is not None else item.index


def safe_id(task: Task, index: int, doc: Any, repeat: int) -> str:
    """The sample's id; from the row index when the document (or its id column) cannot be read."""
    if isinstance(doc, dict):
        try:
            return task.request_id(index, doc, repeat)
        except Exception:  # noqa: BLE001 - the id column itself is what is broken
            pass
    return stable_id(task.config_hash, index, repeat)
