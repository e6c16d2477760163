"""Read task YAMLs: ``!function module.fn`` tags and ``include:`` inheritance.

``!function utils.fn`` resolves relative to the folder of the YAML that wrote it (also when
that YAML is included from elsewhere), and must stay inside that YAML's *task root*: the task
folder it was found under (built-in, plugin or ``--include_path`` folder, registered by
:func:`register_task_roots`), or its own folder when it is under none. ``pkg.module.fn`` reads
``pkg/module.py``; ``../common/utils.fn`` a sibling folder of the root. Absolute paths, and paths
(symlinks included) that leave the root, are refused before anything is imported. Reading for the
index keeps functions as unresolved :class:`FunctionRef` values, so listing tasks imports no task
code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from lmms_eval.api.errors import ConfigError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BUILTIN_ROOT = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
_TASK_ROOTS: list[str] = [_BUILTIN_ROOT]
_FUNCTION_RULE = (
    "!function names a function in a .py file inside the YAML's folder or its task root, "
    "as module.fn, pkg.module.fn or a relative path like ../common/utils.fn"
)


def register_task_roots(dirs: Iterable[str]) -> None:
    """Add task folders (built-in, plugin, ``--include_path``) that ``!function`` may read inside."""
    for d in dirs:
        real = os.path.realpath(d)
        if real not in _TASK_ROOTS:
            _TASK_ROOTS.append(real)


def task_root(yaml_dir: str) -> str:
    """The registered task folder holding ``yaml_dir`` (the innermost), else ``yaml_dir`` itself."""
    real = os.path.realpath(yaml_dir)
    inside = [r for r in _TASK_ROOTS if _within(real, r)]
    return max(inside, key=len) if inside else real


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class FunctionRef:
    """An unresolved ``!function module.attr`` written in the YAML ``yaml_path`` (folder ``yaml_dir``)."""

    spec: str
    yaml_dir: str
    yaml_path: str = ""

    def __str__(self) -> str:
        return f"!function {self.spec}"

    def _refuse(self, why: str) -> ConfigError:
        where = self.yaml_path or self.yaml_dir
        return ConfigError(f"{where}: !function {self.spec!r} {why}; {_FUNCTION_RULE}")

    def module_path(self) -> str:
        """The ``.py`` file this tag names, checked (symlinks resolved) to lie inside the YAML's task root."""
        module_name, _, attr = self.spec.strip().rpartition(".")
        posix = module_name.replace("\\", "/")
        if os.path.isabs(module_name) or posix.startswith(("/", "~")) or posix[1:3] == ":/":
            raise self._refuse("is an absolute path")
        head, _, last = posix.rpartition("/")
        parts = last.split(".")
        if not attr or not module_name or not all(parts):
            raise self._refuse("is not written as module.function")
        dirs = [d for d in head.split("/") if d not in ("", ".")]
        path = os.path.normpath(os.path.join(self.yaml_dir, *dirs, *parts) + ".py")
        root = task_root(self.yaml_dir)
        real = os.path.realpath(path)
        if not _within(real, root):
            raise self._refuse(f"points outside the task folder {root} (to {real})")
        return path

    def resolve(self) -> Callable[..., Any]:
        """Import the function from its module file (see :meth:`module_path`)."""
        module_path = self.module_path()
        attr = self.spec.strip().rpartition(".")[2]
        module = load_module_from_path(module_path)
        try:
            return getattr(module, attr)
        except AttributeError:
            raise ConfigError(f"!function {self.spec}: {module_path} has no function {attr!r}") from None


class _TaskLoader(_Loader):  # type: ignore[misc, valid-type]
    """A safe loader that knows ``!function``; each instance remembers its file's folder."""

    yaml_dir = "."
    yaml_path = ""


def _function_constructor(loader: _TaskLoader, node: yaml.Node) -> FunctionRef:
    return FunctionRef(str(loader.construct_scalar(node)), loader.yaml_dir, loader.yaml_path)


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
    loader.yaml_path = path
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
        cycle = (*_seen[_seen.index(path) :], path)
        raise ConfigError(f"{_seen[0]}: include cycle {' -> '.join(cycle)}; remove one of these include: lines")
    data = read_yaml_file(path)
    include = data.pop("include", None)
    if include is None:
        return data
    includes = [include] if isinstance(include, str) else include
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError(f"{path}: include must be a file name or a list of file names, not {include!r}")
    merged: dict[str, Any] = {}
    for inc in includes:
        inc_path = inc if os.path.isabs(inc) else os.path.join(os.path.dirname(path), inc)
        if not os.path.exists(inc_path):
            raise ConfigError(
                f"{path}: include {inc!r} not found (looked at {inc_path}); fix the name or add that file"
            )
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
            out.add(v.module_path())
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return sorted(out)
