"""Read task YAMLs: ``!function module.fn`` tags and ``include:`` inheritance.

``!function utils.fn`` resolves relative to the folder of the YAML that wrote it (also when
that YAML is included from elsewhere). Reading for the index keeps functions as unresolved
:class:`FunctionRef` values, so listing tasks imports no task code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from lmms_eval.api.errors import ConfigError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class FunctionRef:
    """An unresolved ``!function module.attr`` written in the YAML at ``yaml_dir``."""

    spec: str
    yaml_dir: str

    def __str__(self) -> str:
        return f"!function {self.spec}"

    def resolve(self) -> Callable[..., Any]:
        """Import the function from ``<yaml_dir>/<module>.py``."""
        module_name, _, attr = self.spec.rpartition(".")
        if not module_name:
            raise ConfigError(f"!function {self.spec!r} in {self.yaml_dir}: write it as module.function")
        module_path = os.path.join(self.yaml_dir, *module_name.split(".")) + ".py"
        module = load_module_from_path(module_path)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ConfigError(f"!function {self.spec}: {module_path} has no function {attr!r}") from None


class _TaskLoader(_Loader):  # type: ignore[misc, valid-type]
    """A safe loader that knows ``!function``; each instance remembers its file's folder."""

    yaml_dir = "."


def _function_constructor(loader: _TaskLoader, node: yaml.Node) -> FunctionRef:
    return FunctionRef(str(loader.construct_scalar(node)), loader.yaml_dir)


_TaskLoader.add_constructor("!function", _function_constructor)

_MODULE_CACHE: dict[str, Any] = {}


def load_module_from_path(path: str) -> Any:
    """Import a task's ``utils.py`` by path under a unique module name.

    Cached per (path, modification time, size), so an edited file is imported afresh.
    """
    path = os.path.abspath(path)
    try:
        st = os.stat(path)
    except OSError:
        raise ConfigError(f"{path} not found (named by a !function tag)") from None
    key = f"{path}:{st.st_mtime_ns}:{st.st_size}"
    if key in _MODULE_CACHE:
        return _MODULE_CACHE[key]
    name = "lmms_eval_task_" + hashlib.sha1(key.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _MODULE_CACHE[key] = module
    return module


def read_yaml_file(path: str) -> dict[str, Any]:
    """Parse one YAML file (no include processing); errors name file and line."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    loader = _TaskLoader(text)
    loader.yaml_dir = os.path.dirname(os.path.abspath(path))
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML ({problem}); fix the syntax at that line") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a task YAML must be a mapping of keys, not a {type(data).__name__}")
    return data


def load_yaml_with_includes(path: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read a YAML and merge its ``include:`` chain (the including file's keys win)."""
    path = os.path.abspath(path)
    if path in _seen:
        raise ConfigError(f"{path}: include cycle through {' -> '.join(_seen)}")
    data = read_yaml_file(path)
    include = data.pop("include", None)
    if include is None:
        return data
    merged: dict[str, Any] = {}
    for inc in [include] if isinstance(include, str) else list(include):
        inc_path = inc if os.path.isabs(inc) else os.path.join(os.path.dirname(path), inc)
        if not os.path.exists(inc_path):
            raise ConfigError(f"{path}: include {inc!r} not found (looked at {inc_path})")
        merged.update(load_yaml_with_includes(inc_path, _seen + (path,)))
    merged.update(data)
    return merged


def resolve_functions(value: Any) -> Any:
    """Replace every :class:`FunctionRef` inside ``value`` by the imported function."""
    if isinstance(value, FunctionRef):
        return value.resolve()
    if isinstance(value, dict):
        return {k: resolve_functions(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_functions(v) for v in value]
    return value


def to_plain(value: Any) -> Any:
    """A JSON-safe copy of a raw config: functions become ``"!function module.fn"`` strings."""
    if isinstance(value, FunctionRef):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if callable(value):
        return f"!function {getattr(value, '__module__', '?')}.{getattr(value, '__name__', '?')}"
    return value


def function_sources(value: Any) -> list[str]:
    """Paths of the Python files that a raw config's ``!function`` tags point to."""
    out: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, FunctionRef):
            module_name = v.spec.rpartition(".")[0]
            out.add(os.path.join(v.yaml_dir, *module_name.split(".")) + ".py")
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return sorted(out)
