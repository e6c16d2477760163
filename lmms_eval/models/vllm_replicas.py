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
    prompt_token_ids: list[int] | None = None
    """The prompt's token ids as the engine encoded it (only when ``prompt_logprobs`` was asked)."""
    prompt_logprobs: list[float | None] | None = None
    """Per prompt position, the log-prob of the ACTUAL prompt token given the tokens before it
    (None at position 0, which nothing predicts); only when ``prompt_logprobs`` was asked."""


def actual_prompt_logprobs(prompt_ids: Sequence[int], entries: Sequence[Any]) -> list[float | None]:
    """vLLM's ``RequestOutput.prompt_logprobs`` (per position: None or a dict token id ->
    ``Logprob``, holding the top ones plus the actual token) -> the actual token's log-prob per
    position (None where the entry is None or lacks that token)."""
    out: list[float | None] = []
    for token, entry in zip(prompt_ids, entries):
        found = entry.get(int(token)) if entry else None
        value = getattr(found, "logprob", found)
        out.append(float(value) if value is not None else None)
    return out


def output_to_generated(output: Any) -> Generated:
    """A ``vllm.RequestOutput`` -> :class:`Generated` (first completion; with the actual prompt
    tokens' log-probs when the request asked for ``prompt_logprobs``)."""
    first = output.outputs[0]
    prompt_ids = getattr(output, "prompt_token_ids", None)
    token_ids = getattr(first, "token_ids", None)
    entries = getattr(output, "prompt_logprobs", None)
    scored = entries is not None and prompt_ids is not None
    ids = [int(t) for t in prompt_ids] if scored and prompt_ids is not None else None
    return Generated(
        text=first.text,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        completion_tokens=len(token_ids) if token_ids is not None else None,
        finish_reason=getattr(first, "finish_reason", None),
        prompt_token_ids=ids,
        prompt_logprobs=actual_prompt_logprobs(ids, entries or []) if ids is not None else None,
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


# ---- likelihood scoring (output_type: multiple_choice) ---------------------------------------

#: SamplingParams of a likelihood row: the prompt's own tokens' log-probs, one throwaway token.
CHOICE_SAMPLING: dict[str, Any] = {"max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 1}


def continuation_ids(
    tokenize: Callable[[str], list[int]], prompt: str, reply: str, label: str, option: int
) -> list[int]:
    """The tokens the reply text adds after the prompt text (both tokenised without special
    tokens); a prompt whose tokens are not a prefix of the reply's is that sample's error."""
    from lmms_eval.api.errors import SampleError
    from lmms_eval.models.hf.choices import prefix_error

    prompt_ids, reply_ids = tokenize(prompt), tokenize(reply)
    reason = prefix_error(label, option, prompt_ids, reply_ids)
    if reason is not None:
        raise SampleError(reason)
    return reply_ids[len(prompt_ids) :]


def continuation_logprob(gen: Generated, continuation: Sequence[int], label: str, option: int) -> float:
    """The summed log-prob of the last ``len(continuation)`` prompt tokens of an engine output
    (those must be exactly ``continuation``: the engine encoded the same tokens)."""
    from lmms_eval.api.errors import SampleError

    ids, logprobs, k = gen.prompt_token_ids, gen.prompt_logprobs, len(continuation)
    if ids is None or logprobs is None:
        raise SampleError(f"{label}: the vllm engine returned no prompt_logprobs for option {option}")
    if k == 0 or len(ids) <= k or ids[-k:] != list(continuation):
        raise SampleError(
            f"{label}: option {option}: the engine's last tokens {ids[-k:]} are not the option's "
            f"{list(continuation)} (its tokenizer or template differs from the processor's)"
        )
    tail = logprobs[-k:]
    if any(value is None for value in tail):
        raise SampleError(f"{label}: option {option}: the engine gave no log-prob for some of its tokens")
    return float(sum(value for value in tail if value is not None))


def score_choice_requests(adapter: Any, requests: Sequence[Any]) -> list[Any]:
    """``VLLM.score_choices``: per request, one engine prompt per option (the chat rendered with
    the option as the closed assistant reply, the request's media), ``prompt_logprobs`` read back
    for the option's tokens (:func:`continuation_logprob`); the same contract and winner rule as
    the ``transformers`` adapters (:meth:`lmms_eval.api.model.Model.score_choices`)."""
    import time

    from lmms_eval.api.errors import SampleError
    from lmms_eval.api.model import choice_response
    from lmms_eval.api.request import Response
    from lmms_eval.models.hf.chat import to_hf_chat
    from lmms_eval.models.hf.choices import reply_messages
    from lmms_eval.models.vllm_engine import request_to_vllm_inputs

    cfg, tokenizer = adapter.config, getattr(adapter.template, "tokenizer", adapter.template)

    def tokenize(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    results: list[Any] = [None] * len(requests)
    prompts: list[dict[str, Any]] = []
    rows: list[tuple[int, list[list[int]], dict[str, Any]]] = []  # request, continuations, extra
    for i, request in enumerate(requests):
        label = request.label()
        try:
            if not request.choices:
                raise SampleError(f"{label}: a multiple_choice request has no options")
            own, extra = request_to_vllm_inputs(
                request,
                adapter.render,
                adapter.media_spec,
                traits=adapter.traits,
                system_prompt=cfg.system_prompt,
                audio_limit_s=adapter.audio_limit_s,
                long_audio=cfg.long_audio,
                model_name=adapter.name,
            )
            if len(own) != 1:
                raise SampleError(f"{label}: options cannot be scored over {len(own)} audio windows")
            chat = to_hf_chat(request.messages, cfg.system_prompt)
            replies = [adapter.render(reply_messages(chat.messages, o), False, True) for o in request.choices]
            conts = [continuation_ids(tokenize, own[0]["prompt"], r, label, k) for k, r in enumerate(replies)]
        except (SampleError, OSError, ValueError) as exc:
            results[i] = Response.failed(str(exc) if isinstance(exc, SampleError) else f"{label}: {exc}")
            continue
        prompts.extend({**own[0], "prompt": reply} for reply in replies)
        rows.append((i, conts, extra))
    if prompts:
        start = time.perf_counter()
        generated = adapter.engine.generate(prompts, [dict(CHOICE_SAMPLING) for _ in prompts])
        share = (time.perf_counter() - start) / len(prompts)
        at = 0
        for i, conts, extra in rows:
            outputs, at = generated[at : at + len(conts)], at + len(conts)
            label = requests[i].label()
            try:
                sums = [continuation_logprob(g, c, label, k) for k, (g, c) in enumerate(zip(outputs, conts))]
            except SampleError as exc:
                results[i] = Response.failed(str(exc))
                continue
            first = outputs[0].prompt_token_ids or []
            response = choice_response(
                sums,
                [len(c) for c in conts],
                prompt_tokens=len(first) - len(conts[0]),
                latency_s=round(share * len(conts), 4),
                batch_size=len(rows),
            )
            response.extra = {**extra, **response.extra}
            results[i] = response
    return [r if r is not None else Response.failed("no output") for r in results]
