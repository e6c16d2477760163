"""Leaderboard records from a finished run: one flat record per task and group of ``results.json``.

:func:`load_run` reads a run folder (or its ``results.json``); :func:`build_records` turns it into
records that match ``docs/schemas/leaderboard_record.schema.json`` (see docs/export.md for every
field). Secrets are redacted again on the way out, whatever the run folder holds.

The headline metric of a task (:func:`headline`), in this order:

1. the metric of the task's first ``judge:`` block, when the run computed it: a task with a judge
   reports its official score through the judge, and its ``metric_list`` holds rule-only
   fallbacks (MathVista ``mathvista_acc`` vs ``mathvista_acc_rule``);
2. else the first metric of its ``metric_list``;
3. else the first metric results.json records for it.

Under the task's first ``filter_list`` pipeline (``none`` when it has none), else the first filter
the metric was recorded under. A group's headline is the first metric of its entry (the first of
its ``aggregate_metric_list``).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from lmms_eval.api.errors import LmmsEvalError, UsageError
from lmms_eval.reporting.redact import add_secrets, collect_secrets, redact

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class Run:
    """A finished run: its folder and its parsed ``results.json``."""

    run_dir: str
    results: dict[str, Any]


@dataclass(frozen=True)
class Headline:
    """The metric a leaderboard shows for a task, and the rule that chose it."""

    metric: str | None
    filter: str | None
    source: str


def load_run(path: str) -> Run:
    """The run at ``path`` (a run folder or its ``results.json``), or a one-line error with the fix."""
    results_path = path if os.path.isfile(path) else os.path.join(path, RESULTS_FILE)
    if not os.path.exists(results_path):
        if os.path.exists(os.path.join(path, "run.json")):
            raise UsageError(
                f"{path} holds no {RESULTS_FILE}: the run has not finished; finish it with --resume "
                f"or write results from its samples with `lmms-eval score {path}`"
            )
        raise UsageError(f"{path} is not a run folder (no {RESULTS_FILE}); give the folder that holds results.json")
    try:
        with open(results_path, encoding="utf-8") as fh:
            results = json.load(fh)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {results_path}: {exc}; give a results.json written by lmms-eval") from None
    if not isinstance(results, dict) or not isinstance(results.get("results"), dict) or not results["results"]:
        raise UsageError(f"{results_path} has no per-task results; give a results.json written by lmms-eval")
    if not isinstance(results.get("config"), dict) or not results["config"].get("model"):
        raise UsageError(f"{results_path} does not record the model (config.model); give a results.json of lmms-eval")
    return Run(os.path.dirname(os.path.abspath(results_path)), results)


# ---- headline metric ----------------------------------------------------------------------------
def _metric_keys(entry: dict[str, Any]) -> list[str]:
    """``metric,filter`` keys of a results entry, in order (no stderrs, no breakdown labels)."""
    keys = []
    for key in entry:
        metric, sep, filt = key.partition(",")
        if sep and "," not in filt and "_stderr" not in metric:
            keys.append(key)
    return keys


def _first_judge_metric(config: dict[str, Any]) -> str | None:
    judge = config.get("judge")
    block = judge[0] if isinstance(judge, list) and judge else judge
    metric = block.get("metric") if isinstance(block, dict) else None
    return str(metric) if metric else None


def _first_listed_metric(config: dict[str, Any]) -> str | None:
    for item in config.get("metric_list") or []:
        metric = item.get("metric") if isinstance(item, dict) else None
        if isinstance(metric, str) and metric and not metric.startswith("!function"):
            return metric
        return None  # a metric given as a function: its name is what results.json records
    return None


def _filter_names(config: dict[str, Any]) -> list[str]:
    names = [str(f["name"]) for f in config.get("filter_list") or [] if isinstance(f, dict) and f.get("name")]
    return names or ["none"]


def _pick_filter(metric: str, entry: dict[str, Any], filters: list[str]) -> str:
    for filt in filters:
        if f"{metric},{filt}" in entry:
            return filt
    for key in _metric_keys(entry):
        if key.partition(",")[0] == metric:
            return key.partition(",")[2]
    return filters[0]


def headline(entry: dict[str, Any], config: dict[str, Any] | None) -> Headline:
    """The headline metric of one results entry (see the module docstring for the rule);
    ``config`` is the task's merged config from results.json (None for a group)."""
    keys = _metric_keys(entry)
    if config is None:
        if not keys:
            return Headline(None, None, "none")
        metric, _, filt = keys[0].partition(",")
        return Headline(metric, filt, "group")
    filters = _filter_names(config)
    judged = _first_judge_metric(config)
    if judged and any(k.partition(",")[0] == judged and entry.get(k) is not None for k in keys):
        return Headline(judged, _pick_filter(judged, entry, filters), "judge")
    listed = _first_listed_metric(config)
    if listed:
        return Headline(listed, _pick_filter(listed, entry, filters), "metric_list")
    if judged:
        return Headline(judged, _pick_filter(judged, entry, filters), "judge")
    if keys:
        metric, _, filt = keys[0].partition(",")
        return Headline(metric, filt, "results")
    return Headline(None, None, "none")


# ---- run-level facts ----------------------------------------------------------------------------
def _sha16(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def config_hash(results: dict[str, Any]) -> str:
    """16 hex digits identifying what was evaluated: the run configuration (model, model args with
    secrets redacted, generation settings, limit, seed...), every task's config hash and prompt
    variant, and the judge's configuration. Timing, dates and versions are left out."""
    configs = results.get("configs") or {}
    judge = (results.get("judge") or {}).get("config")
    return _sha16(
        {
            "config": redact(results.get("config") or {}),
            "task_hashes": results.get("task_hashes") or {},
            "prompt_variants": {n: c.get("prompt_variant") for n, c in configs.items() if isinstance(c, dict)},
            "judge": redact(judge) if judge else None,
        }
    )


def judge_prompt_hashes(run_dir: str, task: str) -> dict[str, str]:
    """``{judge block metric: template hash}`` of a task, read from its sample log ({} when none)."""
    path = os.path.join(run_dir, f"samples_{task}.jsonl")
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                info = json.loads(line).get("judge") if line.strip() else None
                if not isinstance(info, dict):
                    continue
                blocks = info.get("blocks")
                if not isinstance(blocks, dict):
                    blocks = {info.get("metric"): info}
                for metric, block in blocks.items():
                    if isinstance(block, dict) and block.get("template_hash"):
                        found.setdefault(str(metric), str(block["template_hash"]))
    except (OSError, ValueError):
        return found
    return found


def _judge_fields(run: Run, task: str, metric: str | None) -> tuple[str | None, str | None]:
    judge = run.results.get("judge") or {}
    config = judge.get("config") or {}
    if not config or task not in (judge.get("summary") or {}):
        return None, None
    hashes = judge_prompt_hashes(run.run_dir, task)
    if metric in hashes:
        prompt_hash: str | None = hashes[str(metric)]
    else:
        prompt_hash = "+".join(sorted(set(hashes.values()))) or None
    model = config.get("model")
    return (str(model) if model else None), prompt_hash


def _submission(run: Run, task: str) -> tuple[str | None, str | None]:
    entry = (run.results.get("submissions") or {}).get(task)
    if not isinstance(entry, str):
        return None, None
    try:
        with open(os.path.join(run.run_dir, entry), "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return entry, None
    return entry, digest


def _member_errors(results: dict[str, Any], group: str, seen: frozenset[str] = frozenset()) -> int | None:
    total, known = 0, False
    for member in (results.get("group_subtasks") or {}).get(group, []):
        if member in seen:
            continue
        if member in (results.get("group_subtasks") or {}):
            sub = _member_errors(results, member, seen | {group})
        else:
            sub = (results["results"].get(member) or {}).get("n_errors")
        if isinstance(sub, int):
            total, known = total + sub, True
    return total if known else None


def _number(value: Any) -> float | int | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ---- records ------------------------------------------------------------------------------------
def build_records(run: Run) -> list[dict[str, Any]]:
    """One record per task and group of the run, in results order (see the schema for the fields).

    The secrets the environment holds (the usual credential variables, ``$LMMS_EVAL_REDACT``, and
    those the run's ``*_env`` settings name) are registered, and every record is redacted.
    """
    res = run.results
    cfg = res["config"]
    judge_cfg = (res.get("judge") or {}).get("config")
    add_secrets(
        collect_secrets(
            SimpleNamespace(
                model_args=cfg.get("model_args"), gen_kwargs=cfg.get("gen_kwargs"), judge=judge_cfg, redact_env=[]
            )
        )
    )
    configs = res.get("configs") or {}
    groups = res.get("group_subtasks") or {}
    packages = (res.get("environment") or {}).get("packages") or {}
    common = {
        "schema_version": SCHEMA_VERSION,
        "model": str(cfg["model"]),
        "model_args": cfg.get("model_args") if isinstance(cfg.get("model_args"), dict) else {},
        "tasks": list(res["results"]),
        "config_hash": config_hash(res),
        "harness_version": packages.get("lmms_eval"),
        "git_revision": res.get("git_hash"),
        "limit": _number(cfg.get("limit")),
        "date": res.get("date"),
    }
    records = []
    for name, entry in res["results"].items():
        if not isinstance(entry, dict):
            raise UsageError(f"results[{name!r}] of {run.run_dir}/{RESULTS_FILE} is not an object; re-run or re-score")
        is_group = name in groups and name not in configs
        config = None if is_group else (configs.get(name) or {})
        head = headline(entry, config)
        key = f"{head.metric},{head.filter}"
        stderr_key = f"{head.metric}_stderr,{head.filter}"
        dataset = {} if is_group else ((res.get("dataset") or {}).get(name) or {})
        judge_model, prompt_hash = (None, None) if is_group else _judge_fields(run, name, head.metric)
        sub_file, sub_hash = (None, None) if is_group else _submission(run, name)
        record = {
            **common,
            "kind": "group" if is_group else "task",
            "task": name,
            "alias": entry.get("alias"),
            "metric": head.metric,
            "filter": head.filter,
            "value": _number(entry.get(key)) if head.metric else None,
            "stderr": _number(entry.get(stderr_key)) if head.metric else None,
            "higher_is_better": ((res.get("higher_is_better") or {}).get(name) or {}).get(head.metric),
            "unit": ((res.get("units") or {}).get(name) or {}).get(head.metric),
            "headline_source": head.source,
            "task_hash": None if is_group else (res.get("task_hashes") or {}).get(name),
            "task_version": (res.get("versions") or {}).get(name),
            "dataset_id": dataset.get("path"),
            "dataset_name": dataset.get("name"),
            "dataset_split": dataset.get("split"),
            "dataset_revision": dataset.get("revision"),
            "dataset_fingerprint": dataset.get("fingerprint"),
            "judge_model": judge_model,
            "judge_prompt_hash": prompt_hash,
            "n_samples": _count(entry.get("n_samples")),
            "n_errors": _member_errors(res, name) if is_group else _count(entry.get("n_errors")),
            "prompt_variant": None if config is None else config.get("prompt_variant"),
            "submission_file": sub_file,
            "submission_sha256": sub_hash,
        }
        records.append(redact(record))
    if not records:
        raise LmmsEvalError(f"{run.run_dir}/{RESULTS_FILE} lists no task; nothing to export")
    return records
