"""Sample records from model responses, and their scores (targets, filters, metrics)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lmms_eval.api.record import SampleRecord, Usage

if TYPE_CHECKING:
    from lmms_eval.api.request import Request, Response
    from lmms_eval.tasks.task import Task


_PLAIN = frozenset({str, int, bool, type(None)})


def json_safe(value: Any, depth: int = 0) -> Any:
    """The JSON-representable part of a value (media, bytes and arrays are left out as None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > 4:
        return None
    if isinstance(value, (list, tuple)):
        items = [json_safe(v, depth + 1) for v in value]
        return items if all(i is not None or v is None for i, v in zip(items, value)) else None
    if isinstance(value, dict):
        out = {str(k): json_safe(v, depth + 1) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None or value.get(k) is None}
    return None


def doc_for_record(doc: Mapping[str, Any], exclude: Sequence[str] = ()) -> dict[str, Any]:
    """The dataset row as logged: its JSON-representable fields (decoded or raw media, and the
    task's ``log_exclude_columns``, left out)."""
    out = {}
    media = getattr(doc, "media_columns", ())
    for key, value in doc.items():
        if key in exclude:
            continue
        if type(value) in _PLAIN:  # the common case, without the recursive walk
            out[key] = value
            continue
        if key in media:
            continue
        safe = json_safe(value)
        if safe is not None or value is None:
            out[key] = safe
    return out


def make_record(
    task: Task,
    index: int,
    doc_id: Any,
    repeat: int,
    request_id: str,
    doc: dict[str, Any] | None,
    request: Request | None,
    response: Response,
    batch_size: int | None = None,
    predict_only: bool = False,
) -> SampleRecord:
    """The full record of one finished sample, scored unless the response is an error. An agent
    sample's response brings its ``transcript`` (every turn); ``prompt`` is the task's own, before
    the protocol wrote its first messages (those are the transcript's turn 0)."""
    record = SampleRecord(
        id=request_id,
        task=task.name,
        doc_id=doc_id,
        index=index,
        repeat=repeat,
        prompt=[m.describe() for m in request.messages] if request is not None else None,
        generation=request.params.resolved() if request is not None else None,
        raw_output=response.text,
        usage=Usage(
            response.prompt_tokens, response.completion_tokens, response.latency_s, response.batch_size or batch_size
        ),
        doc=doc_for_record(doc, task.config.log_exclude_columns) if doc is not None else None,
        extra=(json_safe(response.extra) or None) if response.extra else None,
        transcript=response.transcript,
        context=request.context if request is not None else None,
    )
    if response.error is not None:
        return record.fail("error", response.error)
    assert doc is not None
    return score_record(record, task, doc, predict_only)


def score_record(record: SampleRecord, task: Task, doc: dict[str, Any], predict_only: bool) -> SampleRecord:
    """Fill a record's target, filtered answers and scores from its ``raw_output``.

    A filter or metric that raises marks the record ``scoring_error`` (never a 0 score).
    """
    record.status, record.error, record.filtered, record.scores = "ok", None, None, None
    try:
        target = task.target(doc)
        record.target = json_safe(target)
        record.filtered = task.apply_filters(record.raw_output, doc)
        if not predict_only:
            record.scores = task.score(doc, record.filtered, target, record.raw_output, record.transcript)
            summary = (record.extra or {}).get("agent")
            if summary is not None and task.agent_protocol is not None:
                from lmms_eval.agent.usage import tool_use_scores

                record.scores.update(tool_use_scores(summary, task.agent_protocol.answer(record.raw_output)))
    except Exception as exc:  # noqa: BLE001 - a scoring bug must not stop the run
        record.fail("scoring_error", f"scoring failed: {type(exc).__name__}: {exc}")
    return record
