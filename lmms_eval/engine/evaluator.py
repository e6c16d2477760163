"""The evaluator: requests -> batches -> model -> sample log -> metrics -> results.

Every finished sample is appended to its task's sample log before the next batch starts, so
a run killed at any moment resumes from where it stopped; results are always computed from
the logs, in document order, so an interrupted-and-resumed run reports exactly what an
uninterrupted one does.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import LmmsEvalError, UsageError
from lmms_eval.api.messages import Audio, Image, Video
from lmms_eval.api.model import Model
from lmms_eval.api.registry import MODELS
from lmms_eval.api.request import Request, Response, estimate_cost, stable_id
from lmms_eval.engine import aggregate as agg
from lmms_eval.engine.distributed import DistContext, assign_by_cost
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.engine.sample_store import SampleStore, rank_log_paths, read_task_logs, samples_path
from lmms_eval.engine.scheduler import make_batches
from lmms_eval.reporting.redact import redact
from lmms_eval.tasks import TaskSelection, load_selection
from lmms_eval.tasks.task import Task

log = logging.getLogger("lmms_eval")

GENERATED = ("ok", "judge_error")
RUN_FILE = "run.json"
RESULTS_FILE = "results.json"


@dataclass
class _Job:
    """One pending (task, document, repeat). ``request`` is kept only if it holds no decoded media."""

    task: Task
    index: int
    repeat: int
    id: str
    cost: float
    request: Request | None


@dataclass
class RunOutcome:
    """What :func:`evaluate` hands back: the results dict, where it lives, and the exit code."""

    results: dict[str, Any]
    run_dir: str
    exit_code: int = 0
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def json_safe(value: Any, depth: int = 0) -> Any:
    """The JSON-representable part of a document (media and arrays are left out)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > 4:
        return None
    if isinstance(value, (list, tuple)):
        items = [json_safe(v, depth + 1) for v in value]
        return items if all(i is not None or v is None for i, v in zip(items, value)) else None
    if isinstance(value, dict):
        out = {str(k): json_safe(v, depth + 1) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None or value.get(k) is None}
    return None


def _doc_for_record(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ((k, json_safe(v)) for k, v in doc.items()) if v is not None or doc[k] is None}


def _has_decoded_media(request: Request) -> bool:
    for msg in request.messages:
        for part in msg.content:
            if isinstance(part, Image) and part.data is not None:
                return True
            if isinstance(part, Audio) and part.array is not None and part.path is None:
                return True
            if isinstance(part, Video) and part.frames is not None:
                return True
    return False


def _refine_costs(jobs: list[_Job]) -> None:
    """Re-estimate the cost of jobs whose media are known only by path, from file headers."""
    for job in jobs:
        if job.request is not None and (job.request.images() or job.request.audios()):
            job.cost = job.request.cost = estimate_cost(job.request.messages, probe_files=True)


def model_dir_name(cfg: RunConfig) -> str:
    """``<model>`` or ``<model>__<pretrained basename>``, safe as a folder name."""
    name = cfg.model
    pretrained = cfg.model_args.get("pretrained") or cfg.model_args.get("model")
    if pretrained:
        name += "__" + str(pretrained).rstrip("/").split("/")[-1]
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name)


def find_run_dir(cfg: RunConfig) -> tuple[str, bool]:
    """The run directory and whether it resumes an earlier run.

    ``--output_path`` that is itself a run directory is resumed; with ``--resume`` the newest
    run under ``OUTPUT/<model>/`` whose configuration matches is resumed; otherwise a new
    ``OUTPUT/<model>/<timestamp>/`` is made.
    """
    key = cfg.resume_key()
    own = os.path.join(cfg.output_path, RUN_FILE)
    if os.path.exists(own):
        with open(own, encoding="utf-8") as fh:
            previous = json.load(fh)
        if previous.get("resume_key") != key:
            raise UsageError(
                f"{cfg.output_path} holds a run with a different configuration; "
                "give another --output_path or the same model/tasks/limits/gen_kwargs as that run"
            )
        return cfg.output_path, True
    parent = os.path.join(cfg.output_path, model_dir_name(cfg))
    if cfg.resume and os.path.isdir(parent):
        for name in sorted(os.listdir(parent), reverse=True):
            path = os.path.join(parent, name, RUN_FILE)
            try:
                with open(path, encoding="utf-8") as fh:
                    if json.load(fh).get("resume_key") == key:
                        return os.path.dirname(path), True
            except (OSError, ValueError):
                continue
    stamp = time.strftime("%Y%m%d_%H%M%S")
    run_dir = os.path.join(parent, stamp)
    n = 1
    while os.path.exists(run_dir):
        n += 1
        run_dir = os.path.join(parent, f"{stamp}_{n}")
    return run_dir, False


class Evaluator:
    """Runs one :class:`RunConfig` end to end."""

    def __init__(
        self,
        cfg: RunConfig,
        model: Model | None = None,
        selection: TaskSelection | None = None,
        dist: DistContext | None = None,
    ) -> None:
        self.cfg = cfg
        self.dist = dist or DistContext()
        self._model = model
        self.selection = selection or load_selection(cfg.tasks, cfg.include_path)
        self.model_cls = type(model) if model is not None else MODELS.get(cfg.model)
        # The name that selects per-model prompt overrides: the registry key, or the class's own
        # name when the model was given as ``module:Class``.
        self.model_name = getattr(self.model_cls, "name", cfg.model) if ":" in cfg.model else cfg.model
        self.stores: dict[str, SampleStore] = {}
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self._gen_kwargs_log: dict[str, dict[str, Any]] = {}

    # ---- the model ----------------------------------------------------------------------
    @property
    def model(self) -> Model:
        """The adapter, built only when there is something to generate."""
        if self._model is None:
            self._model = self.model_cls.from_args(self.cfg.model_args)
        return self._model

    def _batch_size(self) -> int:
        if self.cfg.batch_size == "auto":
            return max(1, int(getattr(self.model, "max_batch_size", 1) or 1))
        return max(1, int(self.cfg.batch_size))

    # ---- the run ------------------------------------------------------------------------
    def run(self) -> RunOutcome:
        cfg, dist = self.cfg, self.dist
        random.seed(cfg.seed)
        run_dir, resumed = dist.broadcast(find_run_dir(cfg) if dist.is_main else None)
        if resumed:
            self._check_unchanged_tasks(run_dir)
        if dist.is_main:
            os.makedirs(run_dir, exist_ok=True)
            self._write_run_file(run_dir, status="running")
        dist.barrier()
        started = time.time()
        jobs, done_records = self._plan(run_dir, resumed)
        counts = {"planned": sum(len(r) for r in done_records.values()) + len(jobs), "resumed": 0, "generated": 0}
        counts["resumed"] = counts["planned"] - len(jobs)
        dist.barrier()  # every rank has read the logs before any rank appends to them
        if jobs:
            _ = self.model  # build it here: a model that cannot load fails the run, not each sample
            if self._batch_size() > 1 or cfg.max_batch_tokens or dist.enabled:
                _refine_costs(jobs)  # costs now shape batches and shards: read media headers
        if dist.enabled:
            owner = assign_by_cost([j.cost for j in jobs], dist.world_size)
            jobs = [job for job, rank in zip(jobs, owner) if rank == dist.rank]
        gen_seconds = 0.0
        if jobs:
            gen_started = time.time()
            counts["generated"] = self._generate(jobs)
            gen_seconds = time.time() - gen_started
        for store in self.stores.values():
            store.close()
        if self._model is not None:
            self._model.close()
        dist.barrier()
        if not dist.is_main:
            dist.close()
            return RunOutcome({}, run_dir, 0, "", counts)
        if dist.enabled:
            self._merge_rank_logs(run_dir)
        judge_info = run_judges(self.selection, self.cfg, run_dir, self.records)
        results = self.build_results(run_dir)
        if judge_info is not None:
            results["judge"] = judge_info
        results["timing"] = {
            "total_seconds": round(time.time() - started, 3),
            "generation_seconds": round(gen_seconds, 3),
            "samples_per_second": round(counts["generated"] / gen_seconds, 3) if gen_seconds > 0 else None,
            "world_size": dist.world_size,
            "mean_latency_s": _mean_latency(self.records),
        }
        results["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        write_json(os.path.join(run_dir, RESULTS_FILE), results)
        self._write_run_file(run_dir, status="finished")
        dist.close()
        exit_code, message = error_verdict(results, cfg.max_error_rate)
        return RunOutcome(results, run_dir, exit_code, message, counts)

    def _check_unchanged_tasks(self, run_dir: str) -> None:
        """Refuse to resume into logs written under another version of a task's config.

        Sample ids hash the task config, so resuming after an edit would regenerate every
        sample and leave the old ones beside them in the log.
        """
        try:
            with open(os.path.join(run_dir, RUN_FILE), encoding="utf-8") as fh:
                before = json.load(fh).get("task_hashes", {})
        except (OSError, ValueError):
            return
        for name, task in self.selection.tasks.items():
            if name in before and before[name] != task.config_hash:
                raise UsageError(
                    f"task {name!r} changed since run {run_dir} started (config {before[name]} -> "
                    f"{task.config_hash}): start a new run, or re-score the old one with `lmms-eval score {run_dir}`"
                )

    def _merge_rank_logs(self, run_dir: str) -> None:
        """Rank 0: fold every rank's log into ``samples_<task>.jsonl`` (document order)."""
        for name in self.selection.tasks:
            records = read_task_logs(run_dir, name)
            ordered = sorted(records.values(), key=lambda r: (r["index"], r["repeat"]))
            SampleStore(samples_path(run_dir, name)).rewrite(ordered)
            for path in rank_log_paths(run_dir, name):
                os.remove(path)
            self.records[name] = {r["id"]: agg.slim(r) for r in ordered}

    def _write_run_file(self, run_dir: str, status: str) -> None:
        payload = {
            "status": status,
            "resume_key": self.cfg.resume_key(),
            "config": redact(self.cfg.model_dump(mode="json")),
            "tasks": sorted(self.selection.tasks),
            "task_hashes": {n: t.config_hash for n, t in sorted(self.selection.tasks.items())},
        }
        write_json(os.path.join(run_dir, RUN_FILE), payload)

    def _plan(self, run_dir: str, resumed: bool) -> tuple[list[_Job], dict[str, dict[str, Any]]]:
        """Build every pending job; documents that fail to load become error records now."""
        jobs: list[_Job] = []
        done: dict[str, dict[str, Any]] = {}
        for name, task in self.selection.tasks.items():
            rank = self.dist.rank if self.dist.enabled else None
            self.stores[name] = SampleStore(samples_path(run_dir, name, rank))
            previous = read_task_logs(run_dir, name, repair=self.dist.is_main) if resumed else {}
            self.records[name] = {k: agg.slim(v) for k, v in previous.items()}
            # a sample whose only failure was its judge is generated; re-judging needs no model
            finished = {k: v for k, v in previous.items() if v.get("status") in GENERATED}
            done[name] = finished
            for index in task.doc_ids(self.cfg.limit, self.cfg.offset):
                for repeat in range(task.config.repeats):
                    self._plan_one(task, index, repeat, finished, jobs)
        return jobs, done

    def _plan_one(self, task: Task, index: int, repeat: int, finished: dict[str, Any], jobs: list[_Job]) -> None:
        doc: dict[str, Any] | None = None
        request_id = None
        try:
            doc = task.doc(index)
            request_id = task.request_id(index, doc, repeat)
            if request_id in finished:
                return
            request = task.build_request(index, doc, repeat, self.model_name, self.cfg.gen_kwargs, request_id)
        except LmmsEvalError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken document is that sample's error
            request_id = request_id or stable_id(task.config_hash, index, repeat)
            if request_id in finished:
                return
            doc_id = task.doc_key(index, doc) if doc is not None else index
            reason = f"cannot build the prompt of {task.name} doc {doc_id}: {type(exc).__name__}: {exc}"
            log.warning(reason)
            if not self.dist.is_main:
                return  # rank 0 logs planning failures, once
            self._append(
                task, self._record(task, index, doc_id, repeat, request_id, doc, None, Response.failed(reason))
            )
            return
        keep = None if _has_decoded_media(request) else request
        jobs.append(_Job(task, index, repeat, request.id, request.cost, keep))

    def _logged_gen_kwargs(self, task: Task) -> dict[str, Any]:
        """The task's generation kwargs as logged (secrets redacted), computed once per task."""
        if task.name not in self._gen_kwargs_log:
            self._gen_kwargs_log[task.name] = redact(task.gen_kwargs(self.cfg.gen_kwargs))
        return self._gen_kwargs_log[task.name]

    def _append(self, task: Task, record: dict[str, Any]) -> None:
        """Log a finished sample, and keep what aggregation needs in memory."""
        self.stores[task.name].append(record)
        self.records[task.name][record["id"]] = agg.slim(record)

    def _materialise(self, job: _Job) -> tuple[Request, dict[str, Any]]:
        """The job's request and document, reading (and decoding) the document once."""
        doc = job.task.doc(job.index)
        if job.request is not None:
            return job.request, doc
        request = job.task.build_request(job.index, doc, job.repeat, self.model_name, self.cfg.gen_kwargs, job.id)
        return request, doc

    def _generate(self, jobs: list[_Job]) -> int:
        from tqdm import tqdm

        batch_size = self._batch_size()
        bar = tqdm(
            total=len(jobs),
            desc="samples",
            unit="sample",
            disable=not self.cfg.show_progress,
            dynamic_ncols=True,
            mininterval=0.5,
        )
        done = 0
        try:
            for batch in make_batches(jobs, [j.cost for j in jobs], batch_size, self.cfg.max_batch_tokens):
                built = [self._materialise(j) for j in batch]
                requests = [request for request, _ in built]
                responses = self._call_model(requests)
                for job, (request, doc), response in zip(batch, built, responses):
                    record = self._record(
                        job.task, job.index, request.doc_id, job.repeat, job.id, doc, request, response
                    )
                    self._append(job.task, record)
                done += len(batch)
                bar.update(len(batch))
        finally:
            bar.close()
        return done

    def _call_model(self, requests: list[Request]) -> list[Response]:
        """Generate for a batch; if the batch fails, retry one by one so one bad sample
        cannot take its neighbours down, and never misalign outputs with requests."""
        try:
            responses = self.model.generate(requests)
            if len(responses) != len(requests):
                raise RuntimeError(f"model returned {len(responses)} outputs for {len(requests)} requests")
            return responses
        except Exception as exc:  # noqa: BLE001 - adapters fail in many ways; isolate per request
            if len(requests) == 1:
                return [Response.failed(f"{type(exc).__name__}: {exc}")]
            log.debug("batch failed (%s); retrying one by one", exc)
        out = []
        for request in requests:
            try:
                single = self.model.generate([request])
                out.append(single[0] if len(single) == 1 else Response.failed("model returned no output"))
            except Exception as exc:  # noqa: BLE001
                out.append(Response.failed(f"{type(exc).__name__}: {exc}"))
        return out

    def _record(
        self,
        task: Task,
        index: int,
        doc_id: Any,
        repeat: int,
        request_id: str,
        doc: dict[str, Any] | None,
        request: Request | None,
        response: Response,
    ) -> dict[str, Any]:
        """The full sample record written to the log."""
        record: dict[str, Any] = {
            "id": request_id,
            "task": task.name,
            "doc_id": doc_id,
            "index": index,
            "repeat": repeat,
            "status": "ok",
            "error": None,
            "prompt": [m.describe() for m in request.messages] if request is not None else None,
            "gen_kwargs": self._logged_gen_kwargs(task) if request is not None else None,
            "raw_output": response.text,
            "filtered": None,
            "target": None,
            "scores": None,
            "usage": {
                "prompt_tokens": response.prompt_tokens,
                "completion_tokens": response.completion_tokens,
                "latency_s": response.latency_s,
            },
            "doc": _doc_for_record(doc) if doc is not None else None,
        }
        if response.extra:
            record["extra"] = json_safe(response.extra)
        if response.error is not None:
            record.update(status="error", error=response.error)
            return record
        assert doc is not None
        return score_record(record, task, doc, self.cfg.predict_only)

    # ---- results ------------------------------------------------------------------------
    def build_results(self, run_dir: str) -> dict[str, Any]:
        """Aggregate every task's sample log into the results dict (no timing fields)."""
        return agg.build_results(self.selection, self.cfg, run_dir, self.records)


def score_record(record: dict[str, Any], task: Task, doc: dict[str, Any], predict_only: bool) -> dict[str, Any]:
    """Fill a record's target, filtered answers and scores from its ``raw_output``."""
    record.update(status="ok", error=None, filtered=None, scores=None)
    try:
        target = task.target(doc)
        record["target"] = json_safe(target)
        record["filtered"] = task.apply_filters(record["raw_output"], doc)
        if not predict_only:
            record["scores"] = task.score(doc, record["filtered"], target)
    except Exception as exc:  # noqa: BLE001 - a scoring bug must not stop the run
        record.update(status="error", error=f"scoring failed: {type(exc).__name__}: {exc}")
    return record


def run_judges(
    selection: TaskSelection,
    cfg: RunConfig,
    run_dir: str,
    memory: dict[str, dict[str, dict[str, Any]]] | None = None,
) -> dict[str, Any] | None:
    """The judge stage: for each task with a ``judge:`` block, judge its logged samples.

    Runs after generation and before aggregation, from the sample logs (so ``lmms-eval score``
    can do the same without the model). Replies are cached, so re-running costs no calls.
    Returns what the results record about the judge, or None when no task asks for one.
    """
    tasks = {n: t for n, t in selection.tasks.items() if t.judge_spec is not None}
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
        records = agg.ordered_records(task, run_dir)
        loader = (lambda r, t=task: t.doc(r["index"])) if task.judge_spec.image else None
        judge_records_sync(
            records,
            task.judge_spec,
            cfg.judge,
            run_dir=run_dir,
            template_dir=task.yaml_dir,
            doc_loader=loader,
            show_progress=cfg.show_progress,
        )
        SampleStore(samples_path(run_dir, name)).rewrite(records)
        if memory is not None:
            memory[name] = {r["id"]: agg.slim(r) for r in records}
        summary[name] = judge_summary(records)
    return {"config": cfg.judge.describe(), "summary": summary}


def _mean_latency(records: dict[str, dict[str, dict[str, Any]]]) -> float | None:
    """Mean per-sample model latency over every logged sample that reported one."""
    values = [
        r["usage"]["latency_s"]
        for task in records.values()
        for r in task.values()
        if r.get("usage") and r["usage"].get("latency_s") is not None
    ]
    return round(sum(values) / len(values), 4) if values else None


def write_json(path: str, payload: Any) -> None:
    """Write JSON atomically (temp file + rename), secrets redacted."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(redact(payload), fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
    os.replace(tmp, path)


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
