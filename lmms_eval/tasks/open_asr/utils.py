"""Group report of the Open ASR sets: how many member tasks the WER mean actually covers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METRIC_KEY = "wer_open_asr,none"


def sets_scored(members: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """``{"wer_open_asr_sets": n}``: the number of member tasks with a ``wer_open_asr`` value.

    A group's mean skips members without the metric (a task scored with another WER, or one
    with no scorable reference), so a mean over fewer sets than the group lists is not the
    published average; this count makes that visible in ``results.json`` and the table.
    """
    return {"wer_open_asr_sets": float(sum(1 for entry in members.values() if entry.get(METRIC_KEY) is not None))}
