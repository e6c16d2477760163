"""The run folder: where a run lives, its ``run.json``, and atomic JSON writes.

A run folder holds ``run.json`` (status, resume key, config, task hashes), one
``samples_<task>.jsonl`` per task (see :mod:`lmms_eval.engine.sample_store`) and, once
finished, ``results.json``.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import time
from typing import TYPE_CHECKING, Any

from lmms_eval.api.errors import OutputError, UsageError
from lmms_eval.engine.sample_store import has_samples
from lmms_eval.reporting.redact import redact

if TYPE_CHECKING:
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks import TaskSelection

RUN_FILE = "run.json"
RESULTS_FILE = "results.json"


def output_error(path: str, exc: OSError) -> OutputError:
    """A one-line error for a file of the run that could not be written, with the fix."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        fix = "free disk space (or raise the quota / file-size limit)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "make that folder writable or give another --output_path"
    else:
        fix = "check that path or give another --output_path"
    return OutputError(
        f"cannot write {path}: {reason}; {fix}. Finished samples are saved: "
        "rerun the same command with --resume to continue"
    )


def write_json(path: str, payload: Any) -> None:
    """Write JSON atomically (temp file + rename), secrets redacted."""
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(redact(payload), fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise output_error(path, exc) from None


def make_run_dir(run_dir: str) -> None:
    """Create the run folder (and its parents), or say in one line why it cannot be."""
    try:
        os.makedirs(run_dir, exist_ok=True)
    except OSError as exc:
        raise output_error(exc.filename or run_dir, exc) from None


def discard_if_empty(run_dir: str) -> None:
    """Remove a fresh run folder that holds no sample yet (the run failed before its first sample)."""
    if os.path.isdir(run_dir) and not has_samples(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(run_dir))  # the <model> folder too, if this run made it and it is empty
        except OSError:
            pass


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def model_dir_name(cfg: RunConfig) -> str:
    """``<model>`` or ``<model>__<pretrained basename>``, safe as a folder name."""
    name = cfg.model
    pretrained = cfg.model_args.get("pretrained") or cfg.model_args.get("model")
    if pretrained:
        name += "__" + str(pretrained).rstrip("/").split("/")[-1]
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name)


def find_run_dir(cfg: RunConfig) -> tuple[str, bool]:
    """The run directory and whether it resumes an earlier run.

    ``--output_path`` that is itself a run directory is resumed; with ``--resume`` the newest
    run under ``OUTPUT/<model>/`` whose configuration matches is resumed; otherwise a new
    ``OUTPUT/<model>/<timestamp>/`` is made.
    """
    key = cfg.resume_key()
    own = os.path.join(cfg.output_path, RUN_FILE)
    if os.path.exists(own):
        if read_json(own).get("resume_key") != key:
            raise UsageError(
                f"{cfg.output_path} holds a run with a different configuration; "
                "give another --output_path or the same model/tasks/limits/gen_kwargs as that run"
            )
        return cfg.output_path, True
    parent = os.path.join(cfg.output_path, model_dir_name(cfg))
    if cfg.resume and os.path.isdir(parent):
        for name in sorted(os.listdir(parent), reverse=True):
            path = os.path.join(parent, name, RUN_FILE)
            try:
                # a run that stopped before its first sample (killed while loading) has nothing to resume
                if read_json(path).get("resume_key") == key and has_samples(os.path.dirname(path)):
                    return os.path.dirname(path), True
            except (OSError, ValueError):
                continue
    stamp = time.strftime("%Y%m%d_%H%M%S")
    run_dir = os.path.join(parent, stamp)
    n = 1
    while os.path.exists(run_dir):
        n += 1
        run_dir = os.path.join(parent, f"{stamp}_{n}")
    return run_dir, False


def write_run_file(
    run_dir: str,
    cfg: RunConfig,
    selection: TaskSelection,
    status: str,
    data_fingerprints: dict[str, str | None] | None = None,
) -> None:
    """``run.json``: what a later ``--resume`` or ``lmms-eval score`` needs to know about the run."""
    payload = {
        "status": status,
        "resume_key": cfg.resume_key(),
        "config": redact(cfg.model_dump(mode="json")),
        "tasks": sorted(selection.tasks),
        "task_hashes": {n: t.config_hash for n, t in sorted(selection.tasks.items())},
        "data_fingerprints": dict(sorted((data_fingerprints or {}).items())),
    }
    write_json(os.path.join(run_dir, RUN_FILE), payload)


def read_run_file(run_dir: str) -> dict[str, Any]:
    """The run's ``run.json``, or a UsageError saying the folder is not a run folder."""
    path = os.path.join(run_dir, RUN_FILE)
    if not os.path.exists(path):
        raise UsageError(f"{run_dir} is not a run folder (no {RUN_FILE}); give the folder that holds results.json")
    return dict(read_json(path))


def check_unchanged_tasks(run_dir: str, selection: TaskSelection) -> None:
    """Refuse to resume into logs written under another version of a task's config.

    Sample ids hash the task config, so resuming after an edit would regenerate every sample
    and leave the old ones beside them in the log.
    """
    try:
        before = read_json(os.path.join(run_dir, RUN_FILE)).get("task_hashes", {})
    except (OSError, ValueError):
        return
    for name, task in selection.tasks.items():
        if name in before and before[name] != task.config_hash:
            raise UsageError(
                f"task {name!r} changed since run {run_dir} started (config {before[name]} -> "
                f"{task.config_hash}): start a new run, or re-score the old one with `lmms-eval score {run_dir}`"
            )


def check_unchanged_data(run_dir: str, fingerprints: dict[str, str | None]) -> None:
    """Refuse to resume when a task's data changed since the run started.

    The finished samples were generated from the old rows, so mixing them with new ones would
    report a score of neither version.
    """
    try:
        before = read_json(os.path.join(run_dir, RUN_FILE)).get("data_fingerprints") or {}
    except (OSError, ValueError):
        return
    for name, now in fingerprints.items():
        was = before.get(name)
        if was is not None and now is not None and was != now:
            raise UsageError(
                f"the data of task {name!r} changed since run {run_dir} started (fingerprint {was} -> {now}): "
                f"its finished samples came from the old rows. Start a fresh run (drop --resume), or re-score "
                f"the old samples as they are with `lmms-eval score {run_dir}`"
            )
