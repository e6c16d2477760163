"""``lmms-eval score RUN_DIR``: recompute filters, metrics and results from the sample logs.

The evaluated model is never loaded. Samples that failed in generation stay failed; samples
whose scoring failed (``scoring_error``), that were logged with ``--predict_only``, or that
scored fine are scored again with the tasks' current metrics; the judge step runs after.
"""

from __future__ import annotations

import logging
import os

from lmms_eval.engine.aggregate import build_results, tally_records
from lmms_eval.engine.judging import run_judges
from lmms_eval.engine.outcome import RunOutcome, error_verdict
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.engine.run_dir import RESULTS_FILE, read_json, read_run_file, write_json
from lmms_eval.engine.sample_store import SampleStore, ordered, rank_log_paths, read_task_logs, samples_path
from lmms_eval.engine.scoring import score_record
from lmms_eval.engine.submission import submission_errors, write_submissions
from lmms_eval.engine.tally import TaskTally
from lmms_eval.reporting.phase import announce
from lmms_eval.reporting.redact import add_secrets, collect_secrets, install_console_redaction
from lmms_eval.tasks import apply_prompt_variant, load_selection

log = logging.getLogger("lmms_eval")


def rescore_run(
    run_dir: str,
    include_path: list[str] | None = None,
    bootstrap_iters: int | None = None,
    max_error_rate: float | None = None,
    judge: str | None = None,
) -> RunOutcome:
    """Re-score every sample of a finished (or interrupted) run and rewrite ``results.json``."""
    saved = read_run_file(run_dir)
    config = dict(saved["config"])
    config["predict_only"] = False
    recorded = list(config.get("include_path") or [])
    if include_path:
        missing = [p for p in recorded if not os.path.isdir(p)]
        if missing:  # the run folder moved machines: the task folders given now stand in for them
            log.warning("task folders recorded with the run are gone (%s); using --include_path", ", ".join(missing))
        config["include_path"] = [p for p in recorded if p not in missing] + list(include_path)
    if bootstrap_iters is not None:
        config["bootstrap_iters"] = bootstrap_iters
    if max_error_rate is not None:
        config["max_error_rate"] = max_error_rate
    if judge is not None:
        config["judge"] = judge  # else the judge recorded with the run, if any
    cfg = RunConfig(**config)
    add_secrets(collect_secrets(cfg))  # the judge's key (given now or recorded) and every marked secret
    install_console_redaction()
    selection = load_selection(cfg.tasks, cfg.include_path)
    apply_prompt_variant(selection, cfg.prompt_variant)  # the run's variant: its answer reduction, its ids
    tallies: dict[str, TaskTally] = {}
    for name, task in selection.tasks.items():
        announce(f"scoring {name}", cfg.show_progress)
        records = ordered(read_task_logs(run_dir, name).values())
        for record in records:
            if record.generated and record.doc is not None:
                score_record(record, task, record.doc, predict_only=False)
        SampleStore(samples_path(run_dir, name)).rewrite(records)
        for path in rank_log_paths(run_dir, name):  # folded into the main log above
            os.remove(path)
        tallies[name] = tally_records(task, records)
    judge_info = run_judges(selection, cfg, run_dir, tallies)
    results = build_results(selection, cfg, tallies)
    if judge_info is not None:
        results["judge"] = judge_info
    submissions = write_submissions(selection, run_dir)
    if submissions is not None:
        results["submissions"] = submissions
    previous = os.path.join(run_dir, RESULTS_FILE)
    if os.path.exists(previous):
        old = read_json(previous)
        for key in ("timing", "date"):
            if key in old:
                results[key] = old[key]
    write_json(previous, results)
    code, message = error_verdict(results, cfg.max_error_rate)
    if not code and submission_errors(submissions):
        code, message = 1, submission_errors(submissions)
    return RunOutcome(results, run_dir, code, message)
