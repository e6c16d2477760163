"""MMK12: the official answer extraction as a filter (the rule itself is in :mod:`lmms_eval.metrics.mmk12`)."""

from __future__ import annotations

from typing import Any

from lmms_eval.metrics.mmk12 import official_answer


def official_answer_filter(value: str, doc: Any = None) -> str:
    """``answer`` pipeline: first ``<answer>`` content, else last balanced ``\\boxed{}``, else all."""
    return official_answer(value)[0]
