"""Name -> object registries with lazy ``module:attr`` values and entry-point plugins.

Built-in entries are strings (``"lmms_eval.models.demo:DemoModel"``) so listing them imports
nothing heavy. Third-party packages add entries through Python entry-point groups
(``lmms_eval.models``, ``lmms_eval.tasks``, ``lmms_eval.metrics``, ``lmms_eval.filters``,
``lmms_eval.tools``); a ``lmms_eval.tasks`` entry point names a folder of task YAMLs (a
``module`` whose folder is scanned, or ``module:attr`` returning a path).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from lmms_eval.api.errors import UsageError, did_you_mean

T = TypeVar("T")


def import_object(spec: str) -> Any:
    """Import ``"package.module:attr"`` (or ``"package.module"``)."""
    module_name, _, attr = spec.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


def entry_points_of(group: str) -> list[Any]:
    """Installed entry points of one group (empty when none)."""
    from importlib.metadata import entry_points

    return list(entry_points(group=group))


class Registry(Generic[T]):
    """A named registry whose values may be lazy ``"module:attr"`` strings."""

    def __init__(self, kind: str, entry_point_group: str | None = None, builtins: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.builtins = builtins
        self._entries: dict[str, T | str] = {}
        self._plugins_loaded = False

    def register(self, name: str, value: T | str | None = None) -> Any:
        """Register ``value`` under ``name``; without a value, act as a decorator."""
        if value is None:

            def decorator(obj: T) -> T:
                self._entries[name] = obj
                return obj

            return decorator
        self._entries[name] = value
        return value

    def _load_plugins(self) -> None:
        """Import the built-in entries' module, then read the entry-point group (once)."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        if self.builtins:
            importlib.import_module(self.builtins)
        if not self.entry_point_group:
            return
        for ep in entry_points_of(self.entry_point_group):
            self._entries.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        """All registered names, plugins included, sorted."""
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self._entries

    def raw(self, name: str) -> T | str:
        """The registered value without importing it."""
        self._load_plugins()
        return self._entries[name]

    def get(self, name: str) -> T:
        """Resolve ``name``, importing a lazy entry on first use."""
        self._load_plugins()
        if name not in self._entries and ":" in name:
            self._entries[name] = name  # an unregistered ``module:Class`` import path
        if name not in self._entries:
            raise UsageError(
                f"unknown {self.kind} {name!r}.{did_you_mean(name, self._entries)} "
                f"List them with `lmms-eval {self.kind}s`."
            )
        value = self._entries[name]
        if isinstance(value, str):
            try:
                value = import_object(value)
            except AttributeError:
                raise UsageError(
                    f"{self.kind} {name!r}: {value!r} names no object; check the module:attr path"
                ) from None
            except ImportError as exc:
                raise UsageError(
                    f"{self.kind} {name!r} needs a package that is not installed ({exc.name or exc}); "
                    f"install the matching extra, e.g. pip install 'lmms_eval[hf]'."
                ) from exc
            self._entries[name] = value
        return value

    def loaded(self) -> Iterator[tuple[str, T | UsageError]]:
        """Every ``(name, object)``, plugins included, sorted; an entry that cannot be imported
        (a plugin whose package is missing) comes with its :class:`UsageError` instead."""
        for name in self.names():
            try:
                yield name, self.get(name)
            except UsageError as exc:
                yield name, exc

    def items(self) -> Iterator[tuple[str, T | str]]:
        self._load_plugins()
        return iter(sorted(self._entries.items()))


MODELS: Registry[Any] = Registry("model", "lmms_eval.models", builtins="lmms_eval.models")
METRICS: Registry[Any] = Registry("metric", "lmms_eval.metrics", builtins="lmms_eval.metrics")
FILTERS: Registry[Callable[..., Any]] = Registry("filter", "lmms_eval.filters", builtins="lmms_eval.filters")
TOOLS: Registry[Any] = Registry("tool", "lmms_eval.tools", builtins=None)
