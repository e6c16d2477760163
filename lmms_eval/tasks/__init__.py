"""Task discovery and loading. Benchmark folders live beside this file, one per benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lmms_eval.api.errors import ConfigError

if TYPE_CHECKING:
    from lmms_eval.api.task_config import GroupConfig
    from lmms_eval.tasks.index import TaskIndex
    from lmms_eval.tasks.task import Task


@dataclass
class TaskSelection:
    """The tasks to run, plus the groups that aggregate them (in the order asked)."""

    tasks: dict[str, Task] = field(default_factory=dict)
    groups: dict[str, GroupConfig] = field(default_factory=dict)
    group_members: dict[str, list[str]] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)


def load_selection(
    names: list[str], include_paths: list[str] | None = None, index: TaskIndex | None = None
) -> TaskSelection:
    """Resolve ``--tasks`` names (wildcards, tags, groups) into loaded tasks and groups."""
    from lmms_eval.api.task_config import GroupConfig, validate_config
    from lmms_eval.tasks.index import TaskIndex
    from lmms_eval.tasks.task import Task
    from lmms_eval.tasks.yaml_loader import load_yaml_with_includes, resolve_functions

    index = index or TaskIndex.load(include_paths)
    selection = TaskSelection(requested=index.expand(names))

    def add(name: str, stack: tuple[str, ...]) -> None:
        if name in stack:
            raise ConfigError(f"group cycle: {' -> '.join(stack + (name,))}")
        if name in index.groups:
            if name in selection.groups:
                return
            path = index.groups[name]["yaml"]
            group = validate_config(GroupConfig, resolve_functions(load_yaml_with_includes(path)), path)
            selection.groups[name] = group
            selection.group_members[name] = index.expand(group.task)
            for member in selection.group_members[name]:
                add(member, stack + (name,))
        elif name not in selection.tasks:
            selection.tasks[name] = Task.from_yaml(index.tasks[name])

    for name in selection.requested:
        add(name, ())
    return selection


def apply_prompt_variant(selection: TaskSelection, name: str | None) -> None:
    """Run every task of ``selection`` under prompt variant ``name`` (``--prompt_variant``; see
    :mod:`lmms_eval.tasks.variants`). A task that lacks it stops the run in one line."""
    if name:
        for task in selection.tasks.values():
            task.set_prompt_variant(name)
