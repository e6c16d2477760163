"""Submission files: what a benchmark's evaluation server expects, written into the run folder.

A task with ``submission: !function utils.fn`` gets ``fn(records) -> (file_name, content)`` called
with its sample records in document order after every run (``--predict_only`` included) and every
``lmms-eval score``; the content (JSON-serialisable, or a string written as is) goes to
``<run dir>/submissions/<file_name>``, atomically. Results list each file under ``submissions``.
A writer that fails is reported there as ``{"error": ...}`` and makes the run exit non-zero; the
samples and the other results are kept.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from lmms_eval.engine.run_dir import output_error
from lmms_eval.engine.sample_store import ordered, read_task_logs
from lmms_eval.reporting.redact import scrub

if TYPE_CHECKING:
    from lmms_eval.tasks import TaskSelection

log = logging.getLogger("lmms_eval")
FOLDER = "submissions"


def write_submissions(selection: TaskSelection, run_dir: str) -> dict[str, Any] | None:
    """Write every selected task's submission file; ``{task: path relative to the run folder, or
    {"error": reason}}``, or None when no task has a ``submission:``."""
    tasks = {n: t for n, t in selection.tasks.items() if t.config.submission is not None}
    if not tasks:
        return None
    out: dict[str, Any] = {}
    for name, task in tasks.items():
        writer = task.config.submission
        records = ordered(read_task_logs(run_dir, name).values())
        try:
            file_name, content = writer(records)  # type: ignore[misc]
            file_name = _safe_name(str(file_name), task.yaml_path)
        except Exception as exc:  # noqa: BLE001 - a writer's bug must not lose the run's results
            reason = f"submission writer {getattr(writer, '__name__', writer)} failed: {type(exc).__name__}: {exc}"
            log.error("task %r: %s", name, reason)
            out[name] = {"error": reason}
            continue
        path = os.path.join(run_dir, FOLDER, file_name)
        _write(path, content)
        out[name] = os.path.join(FOLDER, file_name)
    return out


def submission_errors(submissions: dict[str, Any] | None) -> str:
    """One line naming the tasks whose submission file could not be written ("" when none)."""
    failed = {n: v["error"] for n, v in (submissions or {}).items() if isinstance(v, dict)}
    if not failed:
        return ""
    first = next(iter(failed))
    return (
        f"no submission file for {', '.join(sorted(failed))} ({first}: {failed[first]}); "
        "fix the writer and run `lmms-eval score RUN_DIR` to write it from the logged samples"
    )


def _safe_name(name: str, yaml_path: str) -> str:
    base = os.path.basename(name)
    if not base or base != name or base in (".", ".."):
        raise ValueError(f"file name {name!r} must be a plain file name (see submission: in {yaml_path})")
    return base


def _write(path: str, content: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp"
    try:
        text = content if isinstance(content, str) else json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(scrub(text))  # registered secrets only: answers are never rewritten by heuristics
        os.replace(tmp, path)
    except OSError as exc:
        raise output_error(path, exc) from None
