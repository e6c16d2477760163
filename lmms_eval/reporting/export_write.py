"""Writing leaderboard records (JSON or CSV) and gathering a run's submission files.

JSON: a list of records, each with the schema's fields in schema order. CSV: one row per record,
the schema's fields as columns; a list or object (``tasks``, ``model_args``) is written as
compact JSON, null as an empty cell, booleans as ``true``/``false``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
from typing import Any

from lmms_eval.api.errors import LmmsEvalError, UsageError
from lmms_eval.reporting.export import Run, config_hash
from lmms_eval.reporting.export_schema import record_fields

FORMATS = ("json", "csv")
MANIFEST = "manifest.json"


def ordered(record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``record`` with its keys in schema order (unknown keys, if any, after)."""
    out = {f: record[f] for f in fields if f in record}
    out.update({k: v for k, v in record.items() if k not in out})
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def render(records: list[dict[str, Any]], fmt: str) -> str:
    """The records as ``json`` or ``csv`` text."""
    fields = record_fields()
    if fmt == "json":
        return json.dumps([ordered(r, fields) for r in records], indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(fields)
        for record in records:
            writer.writerow([_cell(record.get(f)) for f in fields])
        return buf.getvalue()
    raise UsageError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically, or say in one line why it cannot be written."""
    tmp = f"{path}.tmp"
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise LmmsEvalError(f"cannot write {path}: {exc.strerror or exc}; give another --output") from None


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gather_submissions(run: Run, dest: str) -> dict[str, Any]:
    """Copy the run's submission files (``results["submissions"]``) into ``dest`` and write
    ``dest/manifest.json``; returns the manifest.

    The manifest names the run (model, config hash, date) and, per file, its task, the split and
    dataset it answers, its size and SHA-256. A task whose writer failed, or whose file is gone,
    is an error naming the fix; so is a run that wrote no submission file at all.
    """
    res = run.results
    listed = res.get("submissions") or {}
    if not listed:
        raise UsageError(
            f"run {run.run_dir} wrote no submission files (none of its tasks has a submission: writer, "
            "e.g. a test split such as mmmu_test); drop --submissions"
        )
    failed = sorted(t for t, v in listed.items() if not isinstance(v, str))
    if failed:
        reason = listed[failed[0]].get("error") if isinstance(listed[failed[0]], dict) else listed[failed[0]]
        raise LmmsEvalError(
            f"no submission file for {', '.join(failed)} ({reason}); fix the writer and run "
            f"`lmms-eval score {run.run_dir}` to write it, then export again"
        )
    files = []
    try:
        os.makedirs(dest, exist_ok=True)
        for task, rel in listed.items():
            src = os.path.join(run.run_dir, rel)
            if not os.path.isfile(src):
                raise LmmsEvalError(
                    f"submission file {src} of task {task!r} is missing; write it again with "
                    f"`lmms-eval score {run.run_dir}`"
                )
            name = os.path.basename(rel)
            shutil.copyfile(src, os.path.join(dest, name))
            dataset = (res.get("dataset") or {}).get(task) or {}
            files.append(
                {
                    "task": task,
                    "file": name,
                    "bytes": os.path.getsize(src),
                    "sha256": _sha256(src),
                    "dataset_id": dataset.get("path"),
                    "dataset_split": dataset.get("split"),
                }
            )
        manifest = {
            "model": res["config"]["model"],
            "config_hash": config_hash(res),
            "run_date": res.get("date"),
            "files": files,
        }
        write_text(os.path.join(dest, MANIFEST), json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise LmmsEvalError(
            f"cannot copy submission files into {dest}: {exc.strerror or exc}; give another --submissions folder"
        ) from None
    return manifest
