"""Where a task's documents come from.

Local JSON Lines / JSON / CSV files are read with the standard library (fast start-up, low
memory); everything else, hub datasets included, goes through ``datasets.load_dataset``.
Rows of a hub dataset are read through Arrow in batches; their media stay encoded until read.
"""

from __future__ import annotations

import csv
import glob as globlib
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from lmms_eval.api.errors import DatasetError
from lmms_eval.tasks.rows import LazyRow, media_features

_LOCAL_BUILDERS = {"json": ("json", "jsonl"), "csv": ("csv",)}
# other single-file formats ``dataset_path`` may name directly: read by this ``datasets`` builder
_FILE_BUILDERS = {".parquet": "parquet", ".arrow": "arrow", ".txt": "text"}
# dataset_kwargs keys that are ours (or lmms-eval's) and not load_dataset's.
_NON_LOADER_KEYS = {"video", "create_link", "cache_dir_name", "force_unzip", "From_YouTube", "local_files_only"}


class DocSource:
    """A random-access sequence of documents (dicts) plus where they came from."""

    base_dir: str | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        """The documents at ``indices``, read together (one dataset read for all of them)."""
        return [self[i] for i in indices]

    @property
    def columns(self) -> list[str]:
        raise NotImplementedError

    def info(self) -> dict[str, Any]:
        """Fingerprint and provenance of the loaded split."""
        return {}

    def processed(self, fn: Callable[[Any], Any]) -> DocSource:
        """Apply a task's ``process_docs`` (it receives the whole split, returns a new one)."""
        raise NotImplementedError


class ListSource(DocSource):
    """Documents held in memory (local files)."""

    def __init__(self, rows: list[dict[str, Any]], base_dir: str | None, info: dict[str, Any]) -> None:
        self._rows = rows
        self.base_dir = base_dir
        self._info = info
        self._columns: list[str] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._rows[index]

    @property
    def columns(self) -> list[str]:
        """Every key of any row (rows of a JSON file need not agree): the first row's keys, then the
        others sorted. Computed once (a set union, ~0.1 s per million rows)."""
        if self._columns is None:
            rows = [r for r in self._rows if isinstance(r, dict)]
            first = list(rows[0]) if rows else []
            self._columns = first + sorted(set().union(*rows) - set(first))
        return self._columns

    def info(self) -> dict[str, Any]:
        return dict(self._info)

    def processed(self, fn: Callable[[Any], Any]) -> DocSource:
        out = fn(self._rows)
        rows = list(out) if not isinstance(out, list) else out
        return ListSource(rows, self.base_dir, {**self._info, "processed": True})


class HFSource(DocSource):
    """A ``datasets.Dataset`` split, read through Arrow with media columns left encoded.

    Rows come back as :class:`~lmms_eval.tasks.rows.LazyRow`: plain columns as ``datasets`` gives
    them, media columns (``Image``, ``Audio``, ``Video`` features, also inside lists) decoded only
    when code reads them. So planning and prompt building never decode an image, and the media
    layer decodes each medium once, from its bytes, when the model needs it.
    """

    def __init__(self, dataset: Any, info: dict[str, Any]) -> None:
        self.dataset = dataset
        self._info = info
        self.base_dir = None
        self.media_features = media_features(dataset.features)
        self._arrow = dataset.with_format("arrow")

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows([int(index)])[0]

    def rows(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        if not len(indices):
            return []
        first, last = int(indices[0]), int(indices[-1])
        contiguous = (isinstance(indices, range) and indices.step == 1) or (
            last - first == len(indices) - 1 and all(int(i) == first + k for k, i in enumerate(indices))
        )
        key: Any = slice(first, last + 1) if contiguous else [int(i) for i in indices]
        table = self._arrow[key]
        if not self.media_features:
            return table.to_pylist()
        return [LazyRow(row, self.media_features) for row in table.to_pylist()]

    @property
    def columns(self) -> list[str]:
        return list(self.dataset.column_names)

    def info(self) -> dict[str, Any]:
        return {**self._info, "fingerprint": getattr(self.dataset, "_fingerprint", None)}

    def processed(self, fn: Callable[[Any], Any]) -> DocSource:
        out = fn(self.dataset)
        # the split as loaded identifies the data (a processed copy may get a random fingerprint)
        info = {**self._info, "source_fingerprint": self.info()["fingerprint"]}
        if isinstance(out, list):
            return ListSource(out, None, info)
        return HFSource(out, info)


def _is_glob(path: str) -> bool:
    return any(ch in path for ch in "*?[")


def _not_found(task: str, what: str, given: str, tried: str) -> DatasetError:
    return DatasetError(
        f"task {task!r}: {what} {given!r} not found at {tried} (relative paths are read from the task YAML's "
        "folder only, never the current directory); put it there or give an absolute path"
    )


def resolve_data_path(path: str, yaml_dir: str, task: str, what: str = "data file") -> str:
    """``path`` made absolute against the YAML's folder (URLs as given). A missing file is a
    :class:`DatasetError` naming the path tried; a glob stays a pattern under the YAML's folder."""
    if "://" in path:
        return path
    expanded = os.path.expanduser(path)
    full = expanded if os.path.isabs(expanded) else os.path.normpath(os.path.join(yaml_dir, expanded))
    if _is_glob(path) or os.path.exists(full):
        return full
    raise _not_found(task, what, path, full)


def _resolve_files(data_files: Any, yaml_dir: str, split: str, task: str) -> list[str] | None:
    """The local files of ``split`` named by ``data_files`` (relative to the YAML), or None when
    ``datasets`` must read them (URLs, globs, no entry for the split)."""
    if isinstance(data_files, dict):
        data_files = data_files.get(split)
        if data_files is None:
            return None
    files = [data_files] if isinstance(data_files, str) else list(data_files or [])
    if any("://" in f or _is_glob(f) for f in files):
        return None
    return [resolve_data_path(f, yaml_dir, task) for f in files] or None


def _read_local(paths: list[str], fmt: str, task: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                if fmt == "csv":
                    rows.extend(dict(r) for r in csv.DictReader(fh))
                elif path.endswith(".jsonl") or fmt == "jsonl":
                    for lineno, line in enumerate(fh, 1):
                        if line.strip():
                            try:
                                rows.append(_loads(line))
                            except ValueError as exc:
                                raise DatasetError(
                                    f"task {task!r}: {path}:{lineno} is not valid JSON ({exc}); fix or remove that line"
                                ) from None
                else:
                    data = json.load(fh)
                    rows.extend(data if isinstance(data, list) else data.get("data", []))
        except OSError as exc:
            raise DatasetError(f"task {task!r}: cannot read {path}: {exc.strerror}") from None
    return rows


def _loads(line: str) -> Any:
    """One JSON value: orjson, or the standard library for what orjson refuses (NaN, huge integers)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def _sha256_files(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def open_split(path: str, name: str | None, split: str, kwargs: dict[str, Any], yaml_dir: str, task: str) -> DocSource:
    """Open one split of a dataset, from local files when possible, else with ``datasets``.

    Relative data files and dataset folders resolve against ``yaml_dir`` (the task YAML's
    folder) only: a file of the same name in the current directory is never read instead.
    """
    kwargs = dict(kwargs)
    fmt = None
    for builder, exts in _LOCAL_BUILDERS.items():
        if path == builder:
            fmt = builder
        elif path.endswith(tuple("." + e for e in exts)):
            fmt = builder
            kwargs.setdefault("data_files", path)
            path = builder  # datasets, if it must read them (a glob), reads them with this builder
    if fmt is None and path.endswith(tuple(_FILE_BUILDERS)):
        kwargs.setdefault("data_files", path)
        path = _FILE_BUILDERS[os.path.splitext(path)[1]]
    if fmt is not None:
        files = _resolve_files(kwargs.get("data_files"), yaml_dir, split, task)
        if files:
            rows = _read_local(files, fmt, task)
            info = {"files": [os.path.relpath(f, yaml_dir) for f in files], "fingerprint": _sha256_files(files)}
            return ListSource(rows, os.path.dirname(files[0]), info)
    return _open_hf(path, name, split, kwargs, yaml_dir, task)


def _open_hf(path: str, name: str | None, split: str, kwargs: dict[str, Any], yaml_dir: str, task: str) -> DocSource:
    try:
        import datasets
    except ImportError:
        raise DatasetError(f"task {task!r} needs the `datasets` package: pip install datasets") from None
    load_kwargs = {k: v for k, v in kwargs.items() if k not in _NON_LOADER_KEYS}
    if load_kwargs.get("token") is True:
        load_kwargs.pop("token")  # use the logged-in token, as `token: True` means in lmms-eval
    builders = _packaged_builders(datasets)
    # A builder (json, parquet, imagefolder...) would read data_files/data_dir from the current
    # directory: they must be next to the YAML. For a hub id or a dataset folder, datasets reads
    # them inside that dataset, so only files that exist next to the YAML are pointed there.
    strict = path in builders
    data_files = load_kwargs.get("data_files")
    if isinstance(data_files, (str, list, dict)):
        load_kwargs["data_files"] = _relative_to(data_files, yaml_dir, task, strict)
    if strict and isinstance(load_kwargs.get("data_dir"), str):
        load_kwargs["data_dir"] = resolve_data_path(load_kwargs["data_dir"], yaml_dir, task, "data_dir")
    target = _dataset_target(path, yaml_dir, task, builders)
    if os.path.isdir(target) and "cache_dir" not in load_kwargs:
        load_kwargs["cache_dir"] = local_cache_dir(target, datasets)
    try:
        dataset = datasets.load_dataset(target, name, split=split, **load_kwargs)
    except Exception as exc:  # noqa: BLE001 - datasets raises many types; one line for the user
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(
            f"task {task!r}: cannot load dataset {path!r} (config {name!r}, split {split!r}): {msg}. "
            "Check dataset_path/dataset_name/test_split, your network or HF_HUB_OFFLINE, and the cache."
        ) from None
    info = {"revision_resolved": getattr(getattr(dataset, "info", None), "version", None) and str(dataset.info.version)}
    return HFSource(dataset, info)


def local_cache_dir(folder: str, datasets: Any) -> str:
    """A ``datasets`` cache folder of its own for a local dataset folder (a hub mirror, a fixture).

    ``datasets`` keys its cache of a local folder by the dataset's name and its files' relative
    paths, so two folders ``a/org/set`` and ``b/org/set`` with same-sized files share an entry and
    the second load returns the first one's rows. Keying by the folder's absolute path and its
    files' sizes and modification times keeps each copy, and each edit of it, apart.
    """
    digest = hashlib.sha256(os.path.abspath(folder).encode())
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            st = os.stat(os.path.join(root, name))
            digest.update(f"{os.path.relpath(os.path.join(root, name), folder)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return os.path.join(str(datasets.config.HF_DATASETS_CACHE), "lmms_eval_local", digest.hexdigest()[:16])


def _packaged_builders(datasets: Any) -> frozenset[str]:
    """Names ``datasets`` reads as a builder (``json``, ``parquet``, ``imagefolder``...), never as a path."""
    try:
        from datasets.packaged_modules import _PACKAGED_DATASETS_MODULES
    except ImportError:  # pragma: no cover - a datasets without that table
        return frozenset({"json", "csv", "parquet", "arrow", "text", "imagefolder", "audiofolder", "videofolder"})
    return frozenset(_PACKAGED_DATASETS_MODULES)


def _dataset_target(path: str, yaml_dir: str, task: str, builders: frozenset[str]) -> str:
    """What ``load_dataset`` gets for ``dataset_path``: a builder name or hub id as given, a local
    folder resolved against the YAML's folder. A relative path that is missing there but exists in
    the current directory (where ``datasets`` would look) is refused rather than read."""
    if "://" in path or path in builders:
        return path
    expanded = os.path.expanduser(path)
    if os.path.isabs(expanded):
        return expanded
    local = os.path.normpath(os.path.join(yaml_dir, expanded))
    if os.path.exists(local):
        return local
    if path.startswith(("./", "../", ".\\", "..\\")) or os.path.exists(path):
        raise _not_found(task, "dataset_path", path, local)
    return hub_mirror(path) or path  # a hub dataset id


HUB_MIRROR_ENV = "LMMS_EVAL_HUB_MIRROR"


def hub_mirror(repo_id: str) -> str | None:
    """The copy of hub dataset ``repo_id`` under a folder of ``$LMMS_EVAL_HUB_MIRROR`` (``os.pathsep``
    separated), laid out as the hub repository (``<folder>/<org>/<name>/`` with its README and
    data files), or None. ``datasets`` loads it exactly as it loads the hub copy (configs, splits
    and features from the same files), so an air-gapped machine or a test fixture runs the same code."""
    for root in filter(None, os.environ.get(HUB_MIRROR_ENV, "").split(os.pathsep)):
        candidate = os.path.join(os.path.expanduser(root), *repo_id.split("/"))
        if os.path.isdir(candidate):
            return candidate
    return None


def _relative_to(data_files: Any, yaml_dir: str, task: str, strict: bool = True) -> Any:
    """``data_files`` (a path, list or split -> paths dict) resolved against the YAML's folder.
    ``strict``: every relative entry must be there; else only entries found there are changed."""

    def fix(f: Any) -> Any:
        if not isinstance(f, str):
            return f
        if strict:
            return resolve_data_path(f, yaml_dir, task)
        if "://" in f or os.path.isabs(os.path.expanduser(f)):
            return f
        local = os.path.normpath(os.path.join(yaml_dir, f))
        found = globlib.glob(local, recursive=True) if _is_glob(f) else os.path.exists(local)
        return local if found else f

    if isinstance(data_files, dict):
        return {k: _relative_to(v, yaml_dir, task, strict) for k, v in data_files.items()}
    if isinstance(data_files, list):
        return [fix(f) for f in data_files]
    return fix(data_files)
