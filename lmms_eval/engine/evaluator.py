"""The evaluator: plan -> batches -> (decode ahead) -> model -> sample log -> tallies -> results.

Every finished sample is appended to its task's sample log before the next batch starts, so a
run killed at any moment resumes from where it stopped; results are computed from the records
in document order, so an interrupted-and-resumed run reports exactly what an uninterrupted one
does.

Per-sample cost is kept flat: planning reads each document once (in chunks) to give it an id
and a cost and keeps only four numbers per pending sample; generation reads the documents of
the coming batches again in windows (one dataset read per window and task), builds their
requests, and decodes their media in worker threads while the model runs the batch before
(``--decode_workers``, at most ``--decode_ahead`` batches ahead). Scores stream into per-task
tallies (:mod:`lmms_eval.engine.tally`); no record is kept once written.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from lmms_eval.api.errors import LmmsEvalError, SampleError
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.messages import MEDIA_KINDS
from lmms_eval.api.model import Model
from lmms_eval.api.record import SampleRecord
from lmms_eval.api.registry import MODELS
from lmms_eval.api.request import Request, Response
from lmms_eval.engine.agent_loop import AgentRunner
from lmms_eval.engine.aggregate import build_results, mean_latency, new_tally, tally_records
from lmms_eval.engine.cost import estimate_cost
from lmms_eval.engine.distributed import DistContext, assign_by_cost
from lmms_eval.engine.judging import run_judges
from lmms_eval.engine.outcome import RunOutcome, error_verdict
from lmms_eval.engine.plan import Built, Plan, doc_id_of, safe_id, task_kinds
from lmms_eval.engine.preflight import call_isolated, check_modalities, open_data, warn_unused_judge
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.engine.run_dir import (
    RESULTS_FILE,
    check_unchanged_data,
    check_unchanged_tasks,
    discard_if_empty,
    find_run_dir,
    make_run_dir,
    output_error,
    write_json,
    write_run_file,
)
from lmms_eval.engine.sample_store import (
    SampleStore,
    iter_task_logs,
    ordered,
    rank_log_paths,
    read_task_logs,
    samples_path,
)
from lmms_eval.engine.scheduler import make_batches
from lmms_eval.engine.scoring import make_record
from lmms_eval.engine.shards import ShardSlice
from lmms_eval.engine.shared_fs import check_shared_run_dir
from lmms_eval.engine.submission import submission_errors, write_submissions
from lmms_eval.engine.tally import TaskTally
from lmms_eval.judge.config import default_cache_path
from lmms_eval.reporting.phase import announce
from lmms_eval.tasks import TaskSelection, apply_prompt_variant, load_selection
from lmms_eval.tasks.task import Task

log = logging.getLogger("lmms_eval")

PLAN_CHUNK = 512  # documents read together while planning
READ_WINDOW = 256  # pending samples whose documents are read together while generating


class Evaluator:
    """Runs one :class:`RunConfig` end to end."""

    def __init__(
        self,
        cfg: RunConfig,
        model: Model[Any] | None = None,
        selection: TaskSelection | None = None,
        dist: DistContext | None = None,
    ) -> None:
        from lmms_eval.reporting.redact import add_secrets, collect_secrets, install_console_redaction

        add_secrets(collect_secrets(cfg))  # every key the run reads is scrubbed from files and console
        install_console_redaction()
        self.model_cls = type(model) if model is not None else MODELS.get(cfg.model)
        preset = getattr(self.model_cls, "default_prompt_variant", None)
        if cfg.prompt_variant is None and preset:  # an agent preset's protocol, recorded as if given
            cfg = cfg.model_copy(update={"prompt_variant": preset})
        self.cfg = cfg
        self.dist = dist or DistContext()
        self._model = model
        self.selection = selection or load_selection(cfg.tasks, cfg.include_path)
        apply_prompt_variant(self.selection, cfg.prompt_variant)
        self.tasks = list(self.selection.tasks.values())
        # The name that selects per-model prompt overrides: the registry key, or the class's own
        # name when the model was given as ``module:Class``.
        self.model_name = getattr(self.model_cls, "name", cfg.model) if ":" in cfg.model else cfg.model
        self.stores: dict[str, SampleStore] = {}
        self.tallies: dict[str, TaskTally] = {}
        self._params: dict[str, GenerationParams] = {}
        self.shard = ShardSlice.of(cfg.shard)  # --shard K/N: this run's slice of the samples
        self.agents = AgentRunner(cfg.tools)
        """Agent tasks' toolbox and loop (its cache lives in the run folder, known once it exists)."""

    # ---- the model ----------------------------------------------------------------------
    @property
    def model(self) -> Model[Any]:
        """The adapter, built only when there is something to generate."""
        if self._model is None:
            self._model = self.model_cls.from_args(self.cfg.model_args)
        return self._model

    def batch_size(self) -> int:
        """Requests per model call: ``--batch_size`` capped by the adapter's ``max_batch_size``;
        ``auto`` = that cap; API adapters get at least their ``max_concurrency``."""
        model = self.model
        cap, concurrency = model.max_batch_size, model.max_concurrency
        size = (cap or concurrency or 1) if self.cfg.batch_size == "auto" else int(self.cfg.batch_size)
        if concurrency:
            size = max(size, concurrency)
        return max(1, min(size, cap) if cap else size)

    def params(self, task: Task) -> GenerationParams:
        """The task's generation parameters with ``--gen_kwargs`` and the adapter's default length."""
        if task.name not in self._params:
            default = self.model.default_max_new_tokens
            self._params[task.name] = task.generation_params(self.cfg.gen_kwargs).with_default_max_new_tokens(default)
        return self._params[task.name]

    # ---- the run ------------------------------------------------------------------------
    def run(self) -> RunOutcome:
        """Run (or resume) the whole evaluation. Whatever stops it before the first sample is
        written (bad model args, a dataset that cannot load, an interrupt) leaves no run folder."""
        cfg, dist = self.cfg, self.dist
        if self._model is None:  # bad --model_args fail now (naming the key, never the value), before any run folder
            self.model_cls.validate_args(cfg.model_args)
        random.seed(cfg.seed)
        for task in self.tasks:  # a bad --gen_kwargs fails now, not after loading the model
            task.generation_params(cfg.gen_kwargs)
        warn_unused_judge(self.tasks, cfg.judge)
        self.agents.check(self.tasks)
        # a dataset that cannot load fails before any run folder
        fingerprints = open_data(self.tasks, cfg.offset, self.model_name)
        run_dir, resumed = dist.broadcast(find_run_dir(cfg) if dist.is_main else None)
        if resumed:
            check_unchanged_tasks(run_dir, self.selection)
            check_unchanged_data(run_dir, fingerprints)
        self.agents.cache_path = getattr(cfg.judge, "cache_path", None) or default_cache_path(run_dir)
        if dist.is_main:
            make_run_dir(run_dir)
            write_run_file(run_dir, cfg, self.selection, "running", fingerprints)
        try:
            return self._run(run_dir, resumed, fingerprints)
        except BaseException:
            if dist.is_main and not resumed:
                discard_if_empty(run_dir)
            raise

    def _run(self, run_dir: str, resumed: bool, fingerprints: dict[str, str | None]) -> RunOutcome:
        cfg, dist = self.cfg, self.dist
        check_shared_run_dir(dist, run_dir)  # every rank sees the run folder (includes the first barrier)
        started = time.time()
        plan, kinds = self._plan(run_dir, resumed)
        counts = {"planned": sum(t.n_samples for t in self.tallies.values()) + len(plan), "generated": 0}
        counts["resumed"] = counts["planned"] - len(plan)
        dist.barrier()  # every rank has read the logs before any rank appends to them
        if len(plan):
            check_modalities(self.model_cls, self.model_name, self.tasks, kinds)
            self._status(f"loading model {self.model_name}")
            _ = self.model  # build it here: a model that cannot load fails the run, not each sample
        if dist.enabled:
            owner = assign_by_cost(plan.cost, dist.world_size)
            plan = plan.keep([j for j, rank in enumerate(owner) if rank == dist.rank])
        gen_seconds = 0.0
        if len(plan):
            gen_started = time.time()
            counts["generated"] = self._generate(plan)
            gen_seconds = time.time() - gen_started
        for store in self.stores.values():
            try:
                store.close()
            except OSError as exc:
                raise output_error(store.path, exc) from None
        self.agents.close()
        if self._model is not None:
            self._model.close()
        dist.barrier()
        if not dist.is_main:
            dist.close()
            return RunOutcome({}, run_dir, 0, "", counts)
        if dist.enabled or any(rank_log_paths(run_dir, t.name) for t in self.tasks):  # a killed DP run too
            self._merge_rank_logs(run_dir)
        judge_info = run_judges(self.selection, cfg, run_dir, self.tallies)
        results = build_results(self.selection, cfg, self.tallies)
        if judge_info is not None:
            results["judge"] = judge_info
        results.update(self.shard.results_entry())
        submissions = write_submissions(self.selection, run_dir)
        if submissions is not None:
            results["submissions"] = submissions
        results["timing"] = {
            "total_seconds": round(time.time() - started, 3),
            "generation_seconds": round(gen_seconds, 3),
            "samples_per_second": round(counts["generated"] / gen_seconds, 3) if gen_seconds > 0 else None,
            "world_size": dist.world_size,
            "mean_latency_s": mean_latency(self.tallies.values()),
        }
        results["date"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        write_json(os.path.join(run_dir, RESULTS_FILE), results)
        write_run_file(run_dir, cfg, self.selection, "finished", fingerprints)
        dist.close()
        exit_code, message = error_verdict(results, cfg.max_error_rate)
        if not exit_code and submission_errors(submissions):
            exit_code, message = 1, submission_errors(submissions)
        return RunOutcome(results, run_dir, exit_code, message, counts)

    def _status(self, message: str) -> None:
        """Say which phase the run is in, on a terminal (logs get the progress bar's description)."""
        announce(message, self.cfg.show_progress and self.dist.is_main)

    def _merge_rank_logs(self, run_dir: str) -> None:
        """Rank 0: fold every rank's log into ``samples_<task>.jsonl`` (document order)."""
        for task in self.tasks:
            records = ordered(read_task_logs(run_dir, task.name).values())
            SampleStore(samples_path(run_dir, task.name)).rewrite(records)
            for path in rank_log_paths(run_dir, task.name):
                os.remove(path)
            self.tallies[task.name] = tally_records(task, records)

    # ---- planning -----------------------------------------------------------------------
    def _plan(self, run_dir: str, resumed: bool) -> tuple[Plan, dict[str, set[str]]]:
        """Every pending sample, with its cost; documents that fail to load become error records now.

        Costs order batches (``--batch_size`` > 1, ``--max_batch_tokens``) and balance ranks; a run
        that needs neither (batch 1, one process) skips them, and a fresh one then reads no document
        here at all: generation reads each once. Returns the plan and, per task, the content kinds
        its prompts hold (for the modality check).
        """
        cfg = self.cfg
        costs = cfg.batch_size != 1 or bool(cfg.max_batch_tokens) or self.dist.enabled or self.shard.active
        probe = costs  # media headers shape batches and shards: read them
        plan = Plan()
        kinds: dict[str, set[str]] = {}
        for number, task in enumerate(self.tasks):
            rank = self.dist.rank if self.dist.enabled else None
            self.stores[task.name] = SampleStore(samples_path(run_dir, task.name, rank))
            tally = self.tallies[task.name] = new_tally(task)
            finished: set[str] = set()
            if resumed:
                for record in iter_task_logs(run_dir, task.name, repair=self.dist.is_main):
                    tally.add(record)
                    self.shard.note(number, record)
                    # a sample that failed only in scoring or judging is generated: it needs no model
                    (finished.add if record.generated else finished.discard)(record.id)
            skip = self.shard.skip(finished)  # a shard plans its whole list, finished samples too
            seen = kinds.setdefault(task.name, set())
            indices = task.doc_ids(cfg.limit, cfg.offset)
            if not costs and not finished:
                seen.update(task_kinds(task, indices, self.model_name))
                for index in indices:
                    for repeat in range(task.config.repeats):
                        plan.add(number, index, repeat, 0.0)
                continue
            for start in range(0, len(indices), PLAN_CHUNK):
                chunk = indices[start : start + PLAN_CHUNK]
                for index, doc in zip(chunk, self._read(task, chunk)):
                    for repeat in range(task.config.repeats):
                        cost = self._plan_one(task, index, doc, repeat, skip, seen, probe, costs)
                        if cost is not None:
                            plan.add(number, index, repeat, cost)
        return self.shard.slice(plan), kinds

    def _read(self, task: Task, indices: Sequence[int]) -> list[dict[str, Any] | BaseException]:
        """Documents at ``indices``; a row that cannot be read is returned as its exception."""
        try:
            return list(task.docs(indices))
        except LmmsEvalError:
            raise
        except Exception:  # noqa: BLE001 - read one by one to find the broken rows
            out: list[dict[str, Any] | BaseException] = []
            for index in indices:
                try:
                    out.append(task.doc(index))
                except Exception as exc:  # noqa: BLE001 - a broken row is that sample's error
                    out.append(exc)
            return out

    def _plan_one(
        self,
        task: Task,
        index: int,
        doc: dict[str, Any] | BaseException,
        repeat: int,
        finished: set[str],
        kinds: set[str],
        probe: bool,
        costs: bool = True,
    ) -> float | None:
        """The cost of one pending sample (0 when ``costs`` is off), or None when it needs no generation."""
        request_id = None
        try:
            if isinstance(doc, BaseException):
                raise doc
            if finished:  # resuming: the id says whether this sample is done (a fresh run needs no id yet)
                request_id = task.request_id(index, doc, repeat)
                if request_id in finished:
                    return None
            if not costs:
                return 0.0
            messages = task.build_messages(doc, self.model_name)
        except LmmsEvalError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken document is that sample's error
            request_id = request_id or safe_id(task, index, doc, repeat)
            if request_id in finished:
                return None
            doc_id = task.doc_key(index, doc) if isinstance(doc, dict) else index
            reason = f"cannot build the prompt of {task.name} doc {doc_id}: {type(exc).__name__}: {exc}"
            log.warning(reason)
            if self.dist.is_main and self.shard.first:  # rank 0 (of shard 1) logs planning failures, once
                record = SampleRecord(id=request_id, task=task.name, doc_id=doc_id, index=index, repeat=repeat)
                self._append(task, record.fail("error", reason))
            return None
        for message in messages:
            for part in message.content:
                kinds.add(MEDIA_KINDS.get(type(part), "text"))
        return estimate_cost(messages, probe=probe)

    # ---- generation ---------------------------------------------------------------------
    def _generate(self, plan: Plan) -> int:
        from tqdm import tqdm

        from lmms_eval.media import prefetch, prepare_request, set_decoder_threads

        batches = make_batches(range(len(plan)), plan.cost, self.batch_size(), self.cfg.max_batch_tokens)
        spec = self.model.media_spec
        workers = self.cfg.decode_workers if spec is not None and not spec.empty else 0

        def prepare(item: Built) -> None:
            if spec is not None and item.request is not None:
                prepare_request(item.request, spec)

        bar = tqdm(
            total=len(plan),
            desc="generating",
            unit="sample",
            disable=not self.cfg.show_progress,
            dynamic_ncols=True,
            mininterval=0.5,
        )
        done = 0
        show = self.cfg.show_progress
        shown_task = ""
        built = self._build_batches(plan, batches)
        # N workers on C cores: C // N threads per decoder, not C each (see set_decoder_threads)
        threads = set_decoder_threads(max(1, (os.cpu_count() or 1) // workers)) if workers else None
        try:
            for items, failures in prefetch(built, prepare, workers, self.cfg.decode_ahead):
                if any(failures):
                    self._note_decode_failures(items, failures)
                ready = [item for item in items if item.error is None and item.request is not None]
                plain = [item for item in ready if item.task.agent_protocol is None]
                if plain:
                    responses = self._call_model([item.request for item in plain if item.request is not None])
                    for item, response in zip(plain, responses):
                        self._finish(item, response, len(plain))
                if len(plain) < len(ready):  # agent tasks: the loop, batched turn by turn
                    agents = [item for item in ready if item.task.agent_protocol is not None]
                    decode = (lambda r: prepare_request(r, spec)) if spec is not None else None
                    for item, response in self.agents.run(self.model, agents, decode):
                        self._finish(item, response, len(agents))
                if len(ready) < len(items):
                    for item in items:
                        if item.error is not None:
                            self._finish(item, Response.failed(item.error), None)
                for name in {item.task.name for item in items}:  # the batch is on disk before the next starts
                    self._flush(name)
                done += len(items)
                if show:
                    if items[0].task.name != shown_task:
                        shown_task = items[0].task.name
                        bar.set_description_str(f"generating {shown_task}", refresh=False)
                    bar.update(len(items))
        finally:
            built.close()
            bar.close()
            if threads is not None:
                set_decoder_threads(threads)
        return done

    @staticmethod
    def _note_decode_failures(items: list[Built], failures: list[BaseException | None]) -> None:
        """Samples whose media could not be decoded ahead fail alone (a usage error stops the run)."""
        for item, failure in zip(items, failures):
            if failure is not None and item.error is None:
                if isinstance(failure, LmmsEvalError):
                    raise failure
                item.error = (
                    str(failure)  # names the sample and the file
                    if isinstance(failure, SampleError)
                    else f"{item.task.name} doc {doc_id_of(item)}: cannot decode its media: {failure}"
                )

    def _build_batches(self, plan: Plan, batches: Iterator[list[int]]) -> Generator[list[Built], None, None]:
        """Each batch's samples with their documents and requests (main thread). Documents are read
        in windows of the coming batches' samples (one dataset read per window and task)."""
        docs: dict[int, dict[str, Any] | BaseException] = {}
        coming: deque[list[int]] = deque()
        queued = 0
        for batch in batches:
            coming.append(batch)
            queued += len(batch)
            if queued < READ_WINDOW:
                continue
            while coming:
                yield self._ready(plan, coming.popleft(), coming, docs)
            queued = 0
        while coming:
            yield self._ready(plan, coming.popleft(), coming, docs)

    def _ready(
        self, plan: Plan, batch: list[int], coming: deque[list[int]], docs: dict[int, dict[str, Any] | BaseException]
    ) -> list[Built]:
        if batch[0] not in docs:  # read this batch's documents and those of the batches queued behind it
            by_task: dict[int, list[int]] = {}
            for job in [*batch, *(j for b in coming for j in b)]:
                by_task.setdefault(plan.task[job], []).append(job)
            for number, jobs in by_task.items():
                docs.update(zip(jobs, self._read(self.tasks[number], [plan.index[j] for j in jobs])))
        return [self._build(plan, job, docs.pop(job)) for job in batch]

    def _build(self, plan: Plan, job: int, doc: dict[str, Any] | BaseException) -> Built:
        task = self.tasks[plan.task[job]]
        item = Built(job, task, plan.index[job], plan.repeat[job])
        try:
            if isinstance(doc, BaseException):
                raise doc
            item.doc = doc
            request_id = task.request_id(item.index, doc, item.repeat)
            item.request = task.build_request(
                item.index, doc, item.repeat, self.model_name, self.params(task), request_id
            )
        except LmmsEvalError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a row changed under a running job
            item.error = f"cannot build the prompt of {task.name} doc {doc_id_of(item)}: {type(exc).__name__}: {exc}"
        return item

    def _call_model(self, requests: list[Request]) -> list[Response]:
        return call_isolated(self.model, requests)

    def _finish(self, item: Built, response: Response, batch_size: int | None) -> None:
        task = item.task
        request_id = (
            item.request.id if item.request is not None else safe_id(item.task, item.index, item.doc, item.repeat)
        )
        doc_id = item.request.doc_id if item.request is not None else doc_id_of(item)
        record = make_record(
            task,
            item.index,
            doc_id,
            item.repeat,
            request_id,
            item.doc,
            item.request,
            response,
            batch_size,
            self.cfg.predict_only,
        )
        self._append(task, record, flush=False)

    def _append(self, task: Task, record: SampleRecord, flush: bool = True) -> None:
        """Log a finished sample and fold it into its task's tally."""
        store = self.stores[task.name]
        try:
            store.append(record, flush)
        except OSError as exc:
            raise output_error(store.path, exc) from None
        self.tallies[task.name].add(record)

    def _flush(self, task_name: str) -> None:
        store = self.stores[task_name]
        try:
            store.flush()
        except OSError as exc:
            raise output_error(store.path, exc) from None


__all__ = ["Evaluator", "RunOutcome", "error_verdict"]
