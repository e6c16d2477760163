"""What the report reads from one sample record: its headline score and whether it is wrong, its
breakdown labels, its audio duration, and WER by input length over all of a task's samples.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lmms_eval.agent.usage import agent_labels
from lmms_eval.engine.breakdown import field_value
from lmms_eval.html_report.runs import TaskResult, mapping, number

PERFECT = {"0-1": 1.0, "%": 100.0, "0-100": 100.0}
"""The best value of a higher-is-better metric, by its unit."""


def _judgeable(value: Any) -> bool:
    if isinstance(value, Mapping):
        return number(value.get("errors")) is not None
    return isinstance(value, bool) or number(value) is not None


def primary_key(task: TaskResult, scores: Mapping[str, Any]) -> str | None:
    """The score key that decides right/wrong: the task's first headline metric the record holds
    as a number (or WER-like pieces), else the record's first such score that is no tool-use value."""
    for value in task.headline:
        key = f"{value.metric},{value.filter}"
        if key in scores and _judgeable(scores[key]):
            return key
    return next((k for k, v in scores.items() if not k.endswith(",agent") and _judgeable(v)), None)


def is_wrong(value: Any, higher_is_better: bool, unit: str | None) -> bool | None:
    """Whether one per-sample score falls short of perfect; None when it cannot tell.

    Corpus pieces (``{"errors", "words"}``) are wrong with any error. A number of a higher-is-better
    metric is wrong below the best value of its unit (1 for ``0-1``, 100 for ``%``/``0-100``; other
    units: wrong at 0); of a lower-is-better metric, wrong above 0.
    """
    if isinstance(value, Mapping):
        errors = number(value.get("errors"))
        return None if errors is None else errors > 0
    if isinstance(value, bool):
        return not value if higher_is_better else value
    x = number(value)
    if x is None:
        return None
    if not higher_is_better:
        return x > 0
    best = PERFECT.get(unit or "0-1")
    return x < best - 1e-9 if best is not None else x <= 0


def score_text(value: Any) -> str:
    """A per-sample score for display (corpus pieces as ``errors/words``)."""
    if isinstance(value, Mapping) and "errors" in value:
        return f"{_short(value.get('errors'))} errors / {_short(value.get('words'))} words"
    if isinstance(value, float):
        return _short(value)
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _short(value: Any) -> str:
    x = number(value)
    if x is None:
        return str(value)
    return str(int(x)) if x.is_integer() else f"{x:.4g}"


def breakdown_fields(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ``(name, field)`` pairs of a task's ``breakdown:`` whose field is a document path (a
    ``!function`` field cannot be re-evaluated from the report)."""
    out = []
    for spec in config.get("breakdown") or []:
        if isinstance(spec, Mapping) and isinstance(spec.get("field"), str) and spec.get("name"):
            text = spec["field"]
            if text.startswith("!function") or "<function" in text:
                continue
            out.append((str(spec["name"]), text))
    return out


def sample_labels(record: Mapping[str, Any], fields: Sequence[tuple[str, str]]) -> list[str]:
    """``name=label`` for every breakdown label of the record's document (tool-use splits included)."""
    doc = mapping(record.get("doc"))
    out: list[str] = []
    for name, path in fields:
        value = field_value(doc, path)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None or (isinstance(item, str) and not item.strip()):
                continue
            label = f"{name}={item}"
            if label not in out:
                out.append(label)
    extra = mapping(record.get("extra"))
    summary = extra.get("agent")
    if isinstance(summary, dict):
        for name, values in agent_labels(summary).items():
            out.extend(f"{name}={v}" for v in values)
    return out


def audio_parts(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The audio parts of the record's prompt (as logged: path, seconds, sampling rate)."""
    out = []
    for message in record.get("prompt") or []:
        content = message.get("content") if isinstance(message, Mapping) else None
        for part in content if isinstance(content, list) else []:
            if isinstance(part, Mapping) and part.get("type") == "audio":
                out.append(part)
    return out


def audio_seconds(record: Mapping[str, Any]) -> float | None:
    """The input audio's length: the logged ``seconds`` of its audio parts, else the adapter's
    ``extra`` (``audio_seconds``/``duration_s``), else the files' headers when they are on disk."""
    parts = audio_parts(record)
    if not parts:
        return None
    logged = [number(p.get("seconds")) for p in parts]
    if all(s is not None for s in logged):
        return sum(s for s in logged if s is not None)
    extra = mapping(record.get("extra"))
    for key in ("audio_seconds", "duration_s", "seconds"):
        if number(extra.get(key)) is not None:
            return number(extra.get(key))
    total = 0.0
    for part in parts:
        path = part.get("path")
        if not isinstance(path, str) or "://" in path or not os.path.isfile(path):
            return None
        try:
            import soundfile

            total += float(soundfile.info(path).duration)
        except Exception:  # an unreadable header: no length for this sample
            return None
    return total


@dataclass
class LengthBin:
    """Samples whose input length falls in ``[lo, hi]`` seconds, and their corpus WER (%)."""

    lo: float
    hi: float
    n: int
    errors: float
    words: float

    @property
    def wer(self) -> float | None:
        return 100.0 * self.errors / self.words if self.words else None


def wer_by_length(
    points: Sequence[tuple[float, float, float]], n_bins: int = 5, min_per_bin: int = 5
) -> list[LengthBin]:
    """Corpus WER per length bin from ``(seconds, errors, words)`` per sample.

    The samples, sorted by length, are cut into ``min(n_bins, n // min_per_bin)`` bins (at least
    one) of (nearly) equal counts; each bin's WER is its summed errors over its summed reference
    words, x 100.
    """
    ordered = sorted(points)
    k = max(1, min(n_bins, len(ordered) // max(1, min_per_bin)))
    out = []
    for i in range(k):
        chunk = ordered[math.floor(i * len(ordered) / k) : math.floor((i + 1) * len(ordered) / k)]
        if chunk:
            out.append(
                LengthBin(
                    lo=chunk[0][0],
                    hi=chunk[-1][0],
                    n=len(chunk),
                    errors=sum(c[1] for c in chunk),
                    words=sum(c[2] for c in chunk),
                )
            )
    return out


def corpus_pieces(scores: Mapping[str, Any], metric: str = "wer") -> tuple[float, float] | None:
    """``(errors, words)`` of the record's ``metric`` under its first filter, when it stores pieces."""
    for key, value in scores.items():
        if key.split(",", 1)[0] == metric and isinstance(value, Mapping):
            errors, words = number(value.get("errors")), number(value.get("words"))
            if errors is not None and words is not None:
                return errors, words
    return None
