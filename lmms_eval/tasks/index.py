"""The task index: which YAML defines which task, group and tag, cached on disk.

Scanning hundreds of YAMLs on every call would make ``lmms-eval tasks`` slow, so the index
is cached in ``$LMMS_EVAL_CACHE`` (default ``~/.cache/lmms_eval``) and reused while every
YAML file under the task folders keeps its modification time and size.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import ConfigError, UsageError, did_you_mean
from lmms_eval.tasks.yaml_loader import load_yaml_with_includes, register_task_roots

INDEX_FORMAT = 1
BUILTIN_TASK_DIR = os.path.dirname(os.path.abspath(__file__))


def cache_dir() -> str:
    """Where the harness keeps caches (task index, judge cache)."""
    base = os.environ.get("LMMS_EVAL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lmms_eval"
    )
    return base


def plugin_task_dirs() -> list[str]:
    """Task folders provided by installed packages through the ``lmms_eval.tasks`` entry point."""
    from lmms_eval.api.registry import entry_points_of, import_object

    dirs = []
    for ep in entry_points_of("lmms_eval.tasks"):
        obj = import_object(ep.value)
        if isinstance(obj, str):
            dirs.append(obj)
        elif callable(obj):
            dirs.append(str(obj()))
        else:
            dirs.append(os.path.dirname(os.path.abspath(obj.__file__)))
    return dirs


def _is_yaml(name: str) -> bool:
    return name.endswith((".yaml", ".yml")) or name.endswith("_yaml")


def _scan(dirs: list[str]) -> dict[str, list[int]]:
    """Every YAML-ish file under ``dirs`` with its (mtime_ns, size)."""
    files: dict[str, list[int]] = {}
    for root_dir in dirs:
        for root, subdirs, names in os.walk(root_dir):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "__")) and d != "data")
            for name in names:
                if _is_yaml(name):
                    path = os.path.join(root, name)
                    st = os.stat(path)
                    files[path] = [st.st_mtime_ns, st.st_size]
    return files


@dataclass
class TaskIndex:
    """Names -> YAML paths for tasks and groups, and tag -> task names."""

    tasks: dict[str, str] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, dirs: list[str]) -> TaskIndex:
        index = cls()
        files = _scan(dirs)
        for path in sorted(files):
            if not path.endswith((".yaml", ".yml")):
                continue
            try:
                raw = load_yaml_with_includes(path)
            except ConfigError as exc:
                index.broken[path] = str(exc)
                continue
            if "group" in raw and isinstance(raw.get("task"), list):
                members = [m if isinstance(m, str) else str(m) for m in raw["task"]]
                index.groups[str(raw["group"])] = {"yaml": path, "task": members}
            elif isinstance(raw.get("task"), str):
                name = raw["task"]
                if name in index.tasks and index.tasks[name] != path:
                    index.broken[path] = f"{path}: task {name!r} is already defined in {index.tasks[name]}"
                    continue
                index.tasks[name] = path
                tags = raw.get("tag") or []
                for tag in [tags] if isinstance(tags, str) else tags:
                    index.tags.setdefault(str(tag), []).append(name)
        return index

    @classmethod
    def load(cls, extra_dirs: list[str] | None = None, use_cache: bool = True) -> TaskIndex:
        """The index over built-in, plugin and ``extra_dirs`` task folders, from cache when valid."""
        dirs = [BUILTIN_TASK_DIR] + plugin_task_dirs() + [os.path.abspath(d) for d in extra_dirs or []]
        for d in dirs:
            if not os.path.isdir(d):
                raise UsageError(f"task folder {d} does not exist; check --include_path")
        register_task_roots(dirs)  # !function may read only inside these
        key = hashlib.sha256(json.dumps(dirs).encode()).hexdigest()[:16]
        path = os.path.join(cache_dir(), f"task_index_{key}.json")
        signature = _scan(dirs)
        if use_cache:
            try:
                with open(path, encoding="utf-8") as fh:
                    cached = json.load(fh)
                if cached.get("format") == INDEX_FORMAT and cached.get("files") == signature:
                    return cls(**cached["index"])
            except (OSError, ValueError, TypeError):
                pass
        index = cls.build(dirs)
        payload = {"format": INDEX_FORMAT, "files": signature, "index": index.__dict__}
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(payload, fh)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache folder only costs speed
        return index

    def all_names(self) -> list[str]:
        return sorted(set(self.tasks) | set(self.groups) | set(self.tags))

    def expand(self, patterns: list[str]) -> list[str]:
        """Resolve names, wildcards, tags (to their tasks) and groups (kept as group names)."""
        out: list[str] = []
        for pattern in patterns:
            pattern = pattern.strip()
            if not pattern:
                continue
            if any(ch in pattern for ch in "*?["):
                matched = [n for n in sorted(set(self.tasks) | set(self.groups)) if fnmatch.fnmatchcase(n, pattern)]
                if not matched:
                    raise UsageError(f"no task matches {pattern!r}; list tasks with `lmms-eval tasks`")
                out.extend(matched)
            elif pattern in self.tasks or pattern in self.groups:
                out.append(pattern)
            elif pattern in self.tags:
                out.extend(self.tags[pattern])
            else:
                problem = self.broken_definition(pattern)
                if problem is not None:
                    raise ConfigError(f"task {pattern!r} cannot be loaded: {problem}")
                hint = did_you_mean(pattern, self.all_names())
                broken = ""
                if self.broken:
                    broken = f" ({len(self.broken)} task file(s) failed to parse; `lmms-eval tasks` shows them)"
                raise UsageError(f"unknown task {pattern!r}.{hint} List tasks with `lmms-eval tasks`.{broken}")
        return list(dict.fromkeys(out))  # first occurrence of each name, in order

    def broken_definition(self, name: str) -> str | None:
        """The problem of a broken file that plausibly defines task or group ``name``: its text has
        a line ``task: name`` (or ``group: name``), or its file stem is ``name``. None if no such file."""
        line = re.compile(rf"^\s*(?:task|group)\s*:\s*(['\"]?){re.escape(name)}\1\s*(?:#.*)?$", re.MULTILINE)
        by_stem = []
        for path in sorted(self.broken):
            if os.path.splitext(os.path.basename(path))[0] == name:
                by_stem.append(path)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    if line.search(fh.read()):
                        return self.broken[path]
            except OSError:
                continue
        return self.broken[by_stem[0]] if by_stem else None
