"""LibriSpeech task hooks: length-sweep windows (``process_docs``) and the group reports.

Scoring itself is the registered ``wer_open_asr`` metric (lmms_eval/metrics/asr.py); nothing
here changes a score, the reports only rearrange the member tasks' corpus WERs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.tasks.librispeech.build_long import window_dataset

METRIC_KEY = "wer_open_asr,none"
SPLITS = ("test_clean", "test_other")
WINDOWS = {"30s": 30.0, "1m": 60.0, "2m": 120.0, "5m": 300.0, "10m": 600.0, "15m": 900.0}


def _wer(members: Mapping[str, Mapping[str, Any]], task: str) -> float | None:
    entry = members.get(task) or {}
    value = entry.get(METRIC_KEY)
    return None if value is None else float(value)


def per_task(members: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """``{"<split>": corpus WER}`` of each member task (``librispeech_`` prefix dropped); no mean:
    papers report each LibriSpeech set on its own."""
    return {task.removeprefix("librispeech_"): _wer(members, task) for task in members}


def long_vs_chunked(members: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """Per test split: long-form WER, chunked WER, their difference (long - chunked); and
    ``diff_sum``, the sum of the two differences (Aero-1-Audio's "Avg Diff" column, e.g.
    (5.31 - 1.49) + (11.71 - 3.17) = 12.36). A value whose member is missing is ``None``."""
    out: dict[str, float | None] = {}
    diffs: list[float | None] = []
    for split in SPLITS:
        long_wer = _wer(members, f"librispeech_{split}_long")
        chunked = _wer(members, f"librispeech_{split}")
        diff = None if long_wer is None or chunked is None else long_wer - chunked
        out[f"{split}_long"] = long_wer
        out[f"{split}_chunked"] = chunked
        out[f"{split}_diff"] = diff
        diffs.append(diff)
    out["diff_sum"] = None if any(d is None for d in diffs) else sum(d for d in diffs if d is not None)
    return out


def length_sweep(members: Mapping[str, Mapping[str, Any]]) -> dict[str, float | None]:
    """``{"<split>_<window>": corpus WER}`` (e.g. ``test_clean_5m``) for every window length and
    split, in increasing window order, plus ``<split>_<window>_seconds`` (the window limit) so a
    plot can use a numeric axis."""
    out: dict[str, float | None] = {}
    for split in SPLITS:
        for label, seconds in WINDOWS.items():
            task = f"librispeech_{split}_len_{label}"
            if task in members:
                out[f"{split}_{label}"] = _wer(members, task)
                out[f"{split}_{label}_seconds"] = seconds
    return out


def windows_30s(dataset: Any) -> Any:
    """The split cut into windows of consecutive utterances of at most 30 s."""
    return window_dataset(dataset, WINDOWS["30s"])


def windows_1m(dataset: Any) -> Any:
    """Windows of at most 60 s."""
    return window_dataset(dataset, WINDOWS["1m"])


def windows_2m(dataset: Any) -> Any:
    """Windows of at most 120 s."""
    return window_dataset(dataset, WINDOWS["2m"])


def windows_5m(dataset: Any) -> Any:
    """Windows of at most 300 s."""
    return window_dataset(dataset, WINDOWS["5m"])


def windows_10m(dataset: Any) -> Any:
    """Windows of at most 600 s."""
    return window_dataset(dataset, WINDOWS["10m"])


def windows_15m(dataset: Any) -> Any:
    """Windows of at most 900 s."""
    return window_dataset(dataset, WINDOWS["15m"])
