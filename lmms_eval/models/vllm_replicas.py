"""The engines behind the ``vllm`` adapter: one in-process ``vllm.LLM``, or data-parallel replicas.

* :class:`LocalEngine`: one engine in this process.
* :class:`ReplicaPool`: ``n`` spawned processes, each with its own engine on its own GPUs; a
  batch is split into contiguous shards, one per live replica.

Both keep nothing from a failed batch: a ``generate`` that raises leaves no request queued in
the engine (:func:`discard_unfinished`), and the pool always reads every reply it asked for, so
a reply can never be taken for the next batch's. A replica that dies is started again (its
batch fails and the engine retries it sample by sample); one that cannot be restarted is
dropped, and when none is left the run stops with a one-line error.
The engine factory is named by a ``module:function`` string (tests pass stand-in engines).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lmms_eval.api.errors import LmmsEvalError, UsageError

log = logging.getLogger(__name__)

DEFAULT_FACTORY = "lmms_eval.models.vllm_engine:make_vllm_engine"


@dataclass
class Generated:
    """What one engine returned for one prompt (plain data, so it crosses process boundaries)."""

    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None = None


def output_to_generated(output: Any) -> Generated:
    """A ``vllm.RequestOutput`` -> :class:`Generated` (first completion)."""
    first = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    token_ids = getattr(first, "token_ids", None)
    return Generated(
        text=first.text,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        completion_tokens=len(token_ids) if token_ids is not None else None,
        finish_reason=getattr(first, "finish_reason", None),
    )


def discard_unfinished(engine: Any) -> None:
    """Drop what a failed ``generate`` left queued in a ``vllm.LLM``-like engine.

    vLLM adds a batch's prompts one by one; where a refused prompt does not abort the ones added
    before it, they stay queued and their outputs come back with the next call, shifting every
    later answer. Stepping the engine (``llm_engine.has_unfinished_requests()``/``step()``, its
    public API) until nothing is left finishes and drops them.
    """
    inner = getattr(engine, "llm_engine", None)
    if inner is None or not hasattr(inner, "has_unfinished_requests"):
        return
    try:
        while inner.has_unfinished_requests():
            inner.step()
    except Exception as exc:  # noqa: BLE001 - reported; the output count check below still guards
        log.warning("vllm: could not clear the requests a failed batch left queued: %s", exc)


def run_engine(engine: Any, prompts: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[Generated]:
    """Generate with a ``vllm.LLM``-like engine; ``params`` are ``SamplingParams`` kwargs per prompt.

    On failure the engine's queue is cleared (:func:`discard_unfinished`) before the error is
    raised; an engine that returns another number of outputs than prompts is an error too."""
    try:
        from vllm import SamplingParams
    except ImportError:  # test engines take plain dicts
        sampling = params
    else:
        sampling = [SamplingParams(**p) for p in params]
    try:
        outputs = list(engine.generate(prompts, sampling, use_tqdm=False))
    except BaseException:
        discard_unfinished(engine)
        raise
    if len(outputs) != len(prompts):
        discard_unfinished(engine)
        raise RuntimeError(f"the vllm engine returned {len(outputs)} outputs for {len(prompts)} prompts")
    return [output_to_generated(o) for o in outputs]


def load_factory(spec: str) -> Callable[[dict[str, Any]], Any]:
    """The engine factory named by ``module:function``."""
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _replica_main(conn: Any, factory: str, kwargs: dict[str, Any], devices: str | None) -> None:
    """Body of one data-parallel replica process: build an engine, then serve generate calls."""
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    try:
        engine = load_factory(factory)(kwargs)
    except BaseException as exc:  # report start-up failure to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        msg = conn.recv()
        if msg is None:
            break
        prompts, params = msg
        try:
            conn.send(("ok", run_engine(engine, prompts, params)))
        except BaseException as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    conn.close()


class ReplicaPool:
    """``n`` engine processes (spawned), each on its own GPU group; a batch is split in contiguous
    shards, one per replica. A replica that dies (e.g. a sample crashed its process) is started
    again; one that cannot be restarted is dropped and the others carry on."""

    def __init__(
        self, n: int, kwargs: dict[str, Any], devices: Sequence[str | None], factory: str = DEFAULT_FACTORY
    ) -> None:
        import multiprocessing as mp

        self._ctx = mp.get_context("spawn")
        self._start_args = (factory, kwargs)
        self.devices = list(devices[:n])
        self.procs: list[Any] = [None] * n
        self.conns: list[Any] = [None] * n
        for rank in range(n):
            self._spawn(rank)
        self.alive = [True] * n
        for rank in range(n):
            detail = self._wait_ready(rank)
            if detail is not None:
                self.close()
                raise UsageError(f"vllm data-parallel replica {rank} failed to start: {detail}")

    def _spawn(self, rank: int) -> None:
        parent, child = self._ctx.Pipe()
        factory, kwargs = self._start_args
        proc = self._ctx.Process(target=_replica_main, args=(child, factory, kwargs, self.devices[rank]), daemon=True)
        proc.start()
        self.procs[rank], self.conns[rank] = proc, parent

    def _wait_ready(self, rank: int) -> str | None:
        """None once the replica reports ready, else why it did not start."""
        try:
            status, detail = self.conns[rank].recv()
        except (OSError, EOFError) as exc:
            return f"{type(exc).__name__}: the process exited"
        return None if status == "ready" else str(detail)

    def _lost(self, rank: int, exc: BaseException, errors: list[str]) -> None:
        """Replica ``rank`` died: start it again (a fresh process and pipe), or drop it."""
        log.warning("vllm data-parallel replica %d died (%s); starting it again", rank, type(exc).__name__)
        self.procs[rank].join(timeout=5)
        self._spawn(rank)
        detail = self._wait_ready(rank)
        if detail is not None:
            self.alive[rank] = False
            log.warning("vllm data-parallel replica %d did not restart (%s); the others carry on", rank, detail)
        errors.append(f"replica {rank} died ({type(exc).__name__}) while running this batch")

    def generate(self, prompts: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[Generated]:
        """Outputs in prompt order. Every reply asked for is read, even when a replica fails, so
        no reply is left to be taken for the next batch's."""
        live = [rank for rank, ok in enumerate(self.alive) if ok]
        if not live:
            raise LmmsEvalError("every vllm data-parallel replica has died (see the log above); rerun with --resume")
        size = -(-len(prompts) // len(live)) if prompts else 0
        busy: list[int] = []
        errors: list[str] = []
        for k, rank in enumerate(live):
            shard = slice(k * size, (k + 1) * size)
            if not prompts[shard]:
                continue
            try:
                self.conns[rank].send((prompts[shard], params[shard]))
            except (OSError, EOFError) as exc:
                self._lost(rank, exc, errors)
                continue
            busy.append(rank)
        out: list[Generated] = []
        for rank in busy:
            try:
                status, payload = self.conns[rank].recv()
            except (OSError, EOFError) as exc:
                self._lost(rank, exc, errors)
                continue
            if status == "ok":
                out.extend(payload)
            else:
                errors.append(f"replica {rank}: {payload}")
        if errors:
            raise RuntimeError("; ".join(errors))
        return out

    def close(self) -> None:
        """Stop every replica (those that do not stop within 30 s are terminated)."""
        for conn in self.conns:
            try:
                if conn is not None:
                    conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for proc in self.procs:
            if proc is None:
                continue
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        self.procs, self.conns, self.alive = [], [], []


class LocalEngine:
    """One in-process engine."""

    def __init__(self, kwargs: dict[str, Any], factory: str = DEFAULT_FACTORY) -> None:
        self.engine = load_factory(factory)(kwargs)

    def generate(self, prompts: list[dict[str, Any]], params: list[dict[str, Any]]) -> list[Generated]:
        """Outputs in prompt order (a failed call leaves nothing queued, see :func:`run_engine`)."""
        return run_engine(self.engine, prompts, params)

    def close(self) -> None:
        """Drop the engine."""
        self.engine = None
