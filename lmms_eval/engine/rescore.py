"""``lmms-eval score RUN_DIR``: recompute filters, metrics and results from the sample logs.

The evaluated model is never loaded. Samples that failed in generation stay failed; samples
whose scoring failed (or that were logged with ``--predict_only``) are scored again.
"""

from __future__ import annotations

import json
import os

from lmms_eval.api.errors import UsageError
from lmms_eval.engine.aggregate import build_results, ordered_records
from lmms_eval.engine.evaluator import (
    GENERATED,
    RESULTS_FILE,
    RUN_FILE,
    RunOutcome,
    error_verdict,
    run_judges,
    score_record,
    write_json,
)
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.engine.sample_store import SampleStore, rank_log_paths, samples_path
from lmms_eval.tasks import load_selection


def rescore_run(
    run_dir: str,
    include_path: list[str] | None = None,
    bootstrap_iters: int | None = None,
    max_error_rate: float | None = None,
    judge: str | None = None,
) -> RunOutcome:
    """Re-score every sample of a finished (or interrupted) run and rewrite ``results.json``."""
    run_file = os.path.join(run_dir, RUN_FILE)
    if not os.path.exists(run_file):
        raise UsageError(f"{run_dir} is not a run folder (no {RUN_FILE}); give the folder that holds results.json")
    with open(run_file, encoding="utf-8") as fh:
        saved = json.load(fh)
    config = dict(saved["config"])
    config["predict_only"] = False
    if include_path:
        config["include_path"] = list(config.get("include_path") or []) + include_path
    if bootstrap_iters is not None:
        config["bootstrap_iters"] = bootstrap_iters
    if max_error_rate is not None:
        config["max_error_rate"] = max_error_rate
    if judge is not None:
        config["judge"] = judge  # else the judge recorded with the run, if any
    cfg = RunConfig(**config)
    selection = load_selection(cfg.tasks, cfg.include_path)
    for name, task in selection.tasks.items():
        records = ordered_records(task, run_dir)
        for record in records:
            generation_failed = record["status"] not in GENERATED and not str(record.get("error", "")).startswith(
                "scoring failed"
            )
            if generation_failed or record.get("doc") is None:
                continue
            score_record(record, task, record["doc"], predict_only=False)
        SampleStore(samples_path(run_dir, name)).rewrite(records)
        for path in rank_log_paths(run_dir, name):  # folded into the main log above
            os.remove(path)
    judge_info = run_judges(selection, cfg, run_dir)
    results = build_results(selection, cfg, run_dir)
    if judge_info is not None:
        results["judge"] = judge_info
    previous = os.path.join(run_dir, RESULTS_FILE)
    if os.path.exists(previous):
        with open(previous, encoding="utf-8") as fh:
            old = json.load(fh)
        for key in ("timing", "date"):
            if key in old:
                results[key] = old[key]
    write_json(previous, results)
    code, message = error_verdict(results, cfg.max_error_rate)
    return RunOutcome(results, run_dir, code, message)
