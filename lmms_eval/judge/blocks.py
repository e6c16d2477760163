"""A task's judge blocks, run in order over the same records, and the counts for the results.

A task's ``judge:`` is one block or a list of them (:func:`~lmms_eval.judge.spec.parse_specs`).
:func:`judge_records` runs them in order, each as a :class:`~lmms_eval.judge.stage.JudgeStage`
sharing one cache (so a block whose prompt repeats an earlier block's costs no call), and
writes each record's ``judge`` entry:

* one block: ``record.judge`` is that block's entry, as documented in ``docs/judge.md``
  (``{"type", "metric", ..., "status", "filters": {...}}``), unchanged from single-block runs;
* several: ``record.judge = {"status": "ok" | "judge_error", "blocks": {metric: <that entry>}}``.

The record is ``judge_error`` when any block failed for it, with every block's reasons in
``error``; a later block never clears an earlier block's failure. A block with
``answer_from: M`` judges, for each filter, the answer block ``M`` (type ``extract``) extracted:
its verdict where the judge extracted one, the filtered answer itself where ``M``'s rules
decided. Where ``M`` failed or skipped that answer, the block skips it (``stage: "skipped"``,
no score, no new error: the sample's error stays ``M``'s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lmms_eval.api.record import SampleRecord
from lmms_eval.clients.loop import run_sync
from lmms_eval.judge.cache import JudgeCache
from lmms_eval.judge.config import JudgeConfig, default_cache_path, parse_judge_arg
from lmms_eval.judge.spec import JudgeSpec, parse_specs
from lmms_eval.judge.stage import JUDGE_ERROR, BlockResult, JudgeStage, reset_judge_errors

SUMMARY_COUNTS = (
    "judged_items",
    "decided_by_rule",
    "decided_by_judge",
    "judge_errors",
    "skipped",
    "calls",
    "cached_calls",
    "prompt_tokens",
    "completion_tokens",
)
"""Counts kept per block (and summed over blocks) by :func:`judge_summary`."""


def extracted_answers(result: BlockResult | None, record: SampleRecord) -> dict[str, tuple[Any, str | None]]:
    """What an extract block hands an ``answer_from`` block, per filter: ``(answer, None)``, or
    ``(None, why not)`` where the block failed or skipped that answer."""
    if result is None:
        return {}
    metric = result.entry["metric"]
    out: dict[str, tuple[Any, str | None]] = {}
    for filter_name, entry in result.entry["filters"].items():
        if entry.get("error"):
            out[filter_name] = (None, f"block {metric!r} failed for this answer")
        elif entry.get("stage") == "skipped":
            out[filter_name] = (None, f"block {metric!r} skipped this answer")
        elif entry.get("stage") == "rule":  # the rules accepted the filtered answer as the answer
            out[filter_name] = ((record.filtered or {}).get(filter_name), None)
        else:
            out[filter_name] = (entry.get("verdict"), None)
    return out


def _merge(records: list[SampleRecord], specs: list[JudgeSpec], results: list[dict[int, BlockResult]]) -> None:
    """Write ``record.judge`` and the judge_error status from every block's results."""
    indices = sorted({i for block in results for i in block})
    for index in indices:
        record = records[index]
        per_block = [(spec, block[index]) for spec, block in zip(specs, results) if index in block]
        if len(specs) == 1:
            record.judge = per_block[0][1].entry
            errors = per_block[0][1].errors
        else:
            errors = [f"{spec.metric_name}: {e}" for spec, result in per_block for e in result.errors]
            record.judge = {
                "status": JUDGE_ERROR if errors else "ok",
                "blocks": {spec.metric_name: result.entry for spec, result in per_block},
            }
        if errors:
            record.fail(JUDGE_ERROR, "judge: " + "; ".join(errors))


async def judge_records(
    records: list[SampleRecord],
    task_judge_spec: JudgeSpec | dict[str, Any] | list[Any],
    judge_config: JudgeConfig | str | dict[str, Any],
    cache: JudgeCache | str | None = None,
    **options: Any,
) -> list[SampleRecord]:
    """Engine entry point: judge one task's finished records in place and return them.

    ``task_judge_spec``: one block or a list of blocks (run in order; see the module docstring).
    ``options``: ``template_dir`` (the task's folder, for its templates), ``run_dir`` (default
    cache location), ``doc_loader`` (``record -> full document``, needed when the judge is shown
    an image the logged ``doc`` left out), ``show_progress``, ``client`` (a shared
    :class:`~lmms_eval.clients.AsyncChatClient`).
    """
    specs = parse_specs(task_judge_spec)
    if not specs:
        return records
    config = parse_judge_arg(judge_config)
    own_cache = not isinstance(cache, JudgeCache)
    shared = (
        cache
        if isinstance(cache, JudgeCache)
        else JudgeCache(cache or config.cache_path or default_cache_path(options.get("run_dir")))
    )
    try:
        stages = [JudgeStage(spec, config, shared, **options) for spec in specs]
        reset_judge_errors(records)
        results: list[dict[int, BlockResult]] = []
        by_metric: dict[str, dict[int, BlockResult]] = {}
        for stage in stages:
            upstream = None
            if stage.spec.answer_from is not None:
                source = by_metric[stage.spec.answer_from]
                upstream = {i: extracted_answers(source.get(i), r) for i, r in enumerate(records)}
            block = await stage.judge_block(records, upstream)
            results.append(block)
            by_metric[stage.spec.metric_name] = block
        _merge(records, specs, results)
    finally:
        if own_cache:
            shared.close()
    return records


def judge_records_sync(
    records: list[SampleRecord],
    task_judge_spec: JudgeSpec | dict[str, Any] | list[Any],
    judge_config: JudgeConfig | str | dict[str, Any],
    cache: JudgeCache | str | None = None,
    **options: Any,
) -> list[SampleRecord]:
    """Synchronous :func:`judge_records` (works inside a running event loop too)."""
    return run_sync(judge_records(records, task_judge_spec, judge_config, cache, **options))


def block_entries(info: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """A record's ``judge`` value as ``{metric: block entry}`` (one block or several)."""
    blocks = info.get("blocks")
    if isinstance(blocks, dict):
        return {str(k): v for k, v in blocks.items() if isinstance(v, dict)}
    return {str(info.get("metric")): info}


def _count_block(counts: dict[str, Any], entry: Mapping[str, Any]) -> None:
    for item in (entry.get("filters") or {}).values():
        counts["judged_items"] += 1
        if item.get("error"):
            counts["judge_errors"] += 1
        elif item.get("stage") == "skipped":
            counts["skipped"] += 1
        elif item.get("stage") == "rule":
            counts["decided_by_rule"] += 1
        else:
            counts["decided_by_judge"] += 1
        for call in item.get("calls") or []:
            if call.get("cached"):
                counts["cached_calls"] += 1
            elif call.get("reply") is not None or call.get("error"):
                counts["calls"] += 1
            usage = call.get("usage") or {}
            if not call.get("cached"):
                counts["prompt_tokens"] += usage.get("prompt_tokens") or 0
                counts["completion_tokens"] += usage.get("completion_tokens") or 0


def judge_summary(records: list[SampleRecord]) -> dict[str, Any]:
    """Counts for the results: who decided each (sample, filter), errors, calls paid vs cached.

    The top-level counts are summed over the task's blocks; ``blocks`` holds the same counts per
    block (by metric name), so a cascade of blocks reports how many answers each stage decided.
    ``skipped`` counts answers an ``answer_from`` block did not judge because its source block
    failed or skipped them. Computed from the records alone, so ``lmms-eval score`` reports the
    same numbers.
    """
    summary: dict[str, Any] = {"samples": 0, **dict.fromkeys(SUMMARY_COUNTS, 0)}
    summary.update(samples_with_judge_error=0, error_examples=[], blocks={})
    for record in records:
        info = record.judge
        if not isinstance(info, dict):
            continue
        summary["samples"] += 1
        if info.get("status") == JUDGE_ERROR:
            summary["samples_with_judge_error"] += 1
            if len(summary["error_examples"]) < 5:
                summary["error_examples"].append({"doc_id": record.doc_id, "error": record.error})
        for metric, entry in block_entries(info).items():
            counts = summary["blocks"].setdefault(metric, {"samples": 0, **dict.fromkeys(SUMMARY_COUNTS, 0)})
            counts["samples"] += 1
            _count_block(counts, entry)
    for counts in summary["blocks"].values():
        for key in SUMMARY_COUNTS:
            summary[key] += counts[key]
    return summary
