"""The judge step of a run (and of ``lmms-eval score``): judge each judged task's logged samples."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lmms_eval.engine.aggregate import tally_records
from lmms_eval.engine.sample_store import SampleStore, ordered, read_task_logs, samples_path
from lmms_eval.engine.tally import TaskTally
from lmms_eval.reporting.phase import announce

if TYPE_CHECKING:
    from lmms_eval.api.record import SampleRecord
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks import TaskSelection

log = logging.getLogger("lmms_eval")


def run_judges(
    selection: TaskSelection, cfg: RunConfig, run_dir: str, tallies: dict[str, TaskTally]
) -> dict[str, Any] | None:
    """For each task with a ``judge:`` block (or list of blocks), judge its logged samples, rewrite
    its log and its tally.

    Runs after generation and before aggregation, from the sample logs (so ``lmms-eval score``
    does the same without the model). Replies are cached, so re-running costs no calls.
    Returns what the results record about the judge (``summary[task]``: counts summed over the
    task's blocks, and per block under ``blocks``), or None when no task asks for one.
    """
    tasks = {n: t for n, t in selection.tasks.items() if t.judge_specs}
    if not tasks:
        return None
    if cfg.judge is None:
        log.warning(
            "tasks %s define a judge but no --judge was given: their judge metrics are not computed", sorted(tasks)
        )
        return {"config": None, "summary": {}, "skipped": sorted(tasks)}
    from lmms_eval.judge import judge_records_sync, judge_summary

    summary = {}
    for name, task in tasks.items():
        announce(f"judging {name}", cfg.show_progress)  # a phase line on a terminal (run and `score`)
        records = ordered(read_task_logs(run_dir, name).values())

        def load(record: SampleRecord, task: Any = task) -> Any:
            return task.doc(record.index)

        judge_records_sync(  # every block of the task, in order, sharing one cache
            records,
            task.judge_specs,
            cfg.judge,
            run_dir=run_dir,
            template_dir=task.yaml_dir,
            doc_loader=load if any(spec.image for spec in task.judge_specs) else None,
            show_progress=cfg.show_progress,
        )
        SampleStore(samples_path(run_dir, name)).rewrite(records)
        tallies[name] = tally_records(task, records)
        summary[name] = judge_summary(records)
    return {"config": cfg.judge.describe(), "summary": summary}
