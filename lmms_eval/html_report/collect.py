"""One pass over a task's sample log: the first ``max_samples`` records kept for the browser, and
over every record the counts (wrong, failed) and the points of WER by input length."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmms_eval.html_report.runs import Run, TaskResult, iter_records, mapping
from lmms_eval.html_report.samples import (
    audio_seconds,
    breakdown_fields,
    corpus_pieces,
    is_wrong,
    primary_key,
    sample_labels,
)


@dataclass
class Sample:
    """A record kept for the browser, with what the report worked out about it."""

    record: dict[str, Any]
    primary: str | None
    wrong: bool | None
    labels: list[str]
    seconds: float | None


@dataclass
class TaskSamples:
    """What the report knows of one task's samples in one run."""

    run: Run
    task: TaskResult
    kept: list[Sample] = field(default_factory=list)
    total: int = 0
    wrong: int = 0
    failed: int = 0
    length_points: list[tuple[float, float, float]] = field(default_factory=list)
    """``(seconds, errors, words)`` of each scored sample whose WER pieces and length are known."""


def collect(run: Run, task: TaskResult, max_samples: int) -> TaskSamples | None:
    """Read ``samples_<task>.jsonl`` of ``run`` once (None when the run has no log for the task)."""
    path = run.samples_file(task.name)
    if path is None:
        return None
    fields = breakdown_fields(run.config(task.name))
    out = TaskSamples(run=run, task=task)
    for record in iter_records(path):
        out.total += 1
        status = record.get("status", "ok")
        scores = mapping(record.get("scores"))
        key = primary_key(task, scores)
        wrong = None
        if key is not None and status == "ok":
            metric = key.split(",", 1)[0]
            wrong = is_wrong(scores[key], task.better(metric), task.units.get(metric))
        out.wrong += bool(wrong)
        out.failed += status != "ok"
        pieces = corpus_pieces(scores) if status == "ok" else None
        seconds = audio_seconds(record) if (pieces is not None or len(out.kept) < max_samples) else None
        if pieces is not None and seconds is not None:
            out.length_points.append((seconds, pieces[0], pieces[1]))
        if len(out.kept) < max_samples:
            out.kept.append(Sample(record, key, wrong, sample_labels(record, fields), seconds))
    return out
