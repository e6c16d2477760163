"""What a run or a re-scoring hands back, and the exit code its results call for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunOutcome:
    """The results dict, where it lives, and the exit code."""

    results: dict[str, Any]
    run_dir: str
    exit_code: int = 0
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def error_verdict(results: dict[str, Any], max_error_rate: float) -> tuple[int, str]:
    """Exit code 3 when the share of errored samples exceeds ``max_error_rate``."""
    tasks = [results["results"][name] for name in results.get("n-samples", {})]  # tasks, not groups
    total = sum(v.get("n_samples", 0) for v in tasks)
    errors = sum(v.get("n_errors", 0) for v in tasks)
    if total and errors / total > max_error_rate:
        return 3, (
            f"{errors} of {total} samples failed (see 'errors' in results.json and the samples_*.jsonl logs); "
            f"their scores are left out. Rerun with --resume to retry them, or allow some with --max_error_rate."
        )
    return 0, ""
