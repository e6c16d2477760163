"""The base of every ``transformers`` adapter, and the one batching path they all share.

:class:`HFModel` resolves placement (device, dtype, attention), loads the processor and the
model, and implements :meth:`~HFModel.generate` once for every adapter:

1. :meth:`~HFModel.request_jobs` turns each request into one or more :class:`Job` (a prompt
   with its decoded media; an audio request split into windows gives several). A request that
   cannot be prepared fails alone (``Response.error``), its neighbours keep going.
2. Jobs are grouped by generation parameters (and an adapter's own ``Job.group``), each group
   sorted longest first (less padding), and cut into chunks of at most ``max_batch_size``
   (the ``batch_size`` model argument; unset: the whole batch the engine handed over).
3. :meth:`~HFModel.run_batch` runs one chunk through the processor and ``generate``.
4. Each request's pieces are joined in order; its response records the size of the
   ``generate`` call it ran in (``Response.batch_size``) and its share of that call's time.

The batch itself is ``--batch_size``: the engine hands over that many requests per call.

Likelihood scoring (``output_type: multiple_choice``) is :meth:`~HFModel.score_choices`, for
adapters that set ``scores_choices`` and implement :meth:`~HFModel.choice_job` and
:meth:`~HFModel.encode_choice_texts`; the scoring is :mod:`lmms_eval.models.hf.choices`.

A call that raises (a processor that refuses one sample's input, an out-of-memory batch) makes
the engine retry its requests one by one. What such a call may leave behind is undone by
:meth:`~HFModel.reset` before the next call runs: the tokenizer's padding side is put back and
the memory the failed batch held (its tensors are freed only once its exception is gone) is
returned to the GPU, so the retries and every later batch run as in a run without the failure.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import torch
from pydantic import Field

from lmms_eval.api.errors import SampleError
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.model import Model, ModelConfig, parse_kv_string
from lmms_eval.api.request import Request, Response
from lmms_eval.models.families import GENERIC, ModelFamily
from lmms_eval.models.hf.generation import Completion
from lmms_eval.models.hf.placement import (
    describe_load,
    input_device,
    load_or_explain,
    place_model,
    pretrained_kwargs,
    release_memory,
    resolve_attn_implementation,
    resolve_device,
    resolve_dtype,
)


class HFModelConfig(ModelConfig):
    """Arguments every ``transformers`` adapter takes (``--model_args k=v,...``)."""

    pretrained: str
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    device_map: str | dict[str, Any] | None = None
    attn_implementation: str | None = None
    batch_size: int | None = Field(None, ge=1)
    """A cap on the requests per ``generate`` call (the batch is ``--batch_size``); unset: no cap."""
    trust_remote_code: bool = False
    max_new_tokens: int | None = Field(None, ge=1)
    """Used when a task's generation parameters give no ``max_new_tokens`` (None: the checkpoint's own limit)."""


ConfigT = TypeVar("ConfigT", bound=HFModelConfig)


@dataclass
class Job:
    """One prompt for one row of a ``generate`` call."""

    request: int
    """Position of the request in the batch."""
    piece: int
    """Order among the request's jobs (a request split into windows runs one job per window)."""
    params: GenerationParams
    cost: float
    """Sort key within a group: longest first, so each chunk pads least."""
    inputs: Any
    """The adapter's own payload (prompt text, decoded media, features)."""
    group: Hashable = None
    """What else must be equal for jobs to share a ``generate`` call (e.g. Whisper's long vs short form)."""


def batch_groups(jobs: Sequence[Job], cap: int | None) -> list[list[Job]]:
    """Chunks of jobs that can share a ``generate`` call (see the module docstring, step 2)."""
    groups: dict[tuple[Any, Hashable], list[Job]] = {}
    for job in jobs:
        groups.setdefault((job.params, job.group), []).append(job)
    chunks: list[list[Job]] = []
    for group in groups.values():
        group = sorted(group, key=lambda j: -j.cost)
        size = cap or len(group)
        chunks.extend(group[start : start + size] for start in range(0, len(group), size))
    return chunks


AdapterT = TypeVar("AdapterT", bound="HFModel[Any]")


class HFModel(Model[ConfigT], Generic[ConfigT]):
    """Base of every ``transformers`` adapter (see the module docstring).

    Subclasses implement :meth:`model_class`, :meth:`request_jobs` and :meth:`run_batch`, and
    call :meth:`load_processor` / :meth:`load_model` in ``__init__``. :meth:`from_loaded` builds
    any of them around a model and processor already in memory instead.
    """

    Config: ClassVar[type[ModelConfig]] = HFModelConfig
    family: ClassVar[ModelFamily] = GENERIC
    #: How the texts of a request's pieces are joined (audio windows: a space).
    piece_joiner: ClassVar[str] = " "

    def __init__(self, config: ConfigT | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.device = resolve_device(cfg.device)
        self.dtype = resolve_dtype(cfg.dtype, self.device)
        self.attn_implementation = resolve_attn_implementation(cfg.attn_implementation, self.device, self.dtype)
        self.processor: Any = None
        self.model: Any = None
        self._failed = False
        self._padding_side: str | None = None

    # ---- loading --------------------------------------------------------------------------
    #: The ``(model, processor)`` that :meth:`from_loaded` gave: :meth:`load_model` and
    #: :meth:`load_processor` hand these back instead of loading ``pretrained``.
    _loaded: tuple[Any, Any] | None = None

    @classmethod
    def from_loaded(
        cls: type[AdapterT], model: Any, processor: Any, args: str | dict[str, Any] | None = None
    ) -> AdapterT:
        """This adapter around a ``transformers`` model and processor already in memory (a
        training job's live checkpoint): nothing is read from disk, the model is neither moved,
        cast nor switched to eval mode, and the adapter holds references only, so it sees later
        weight updates.

        ``args`` are the adapter's model args; ``pretrained`` is then only a label recorded with
        the run (default: the model's ``name_or_path``), and ``device``/``dtype`` default to where
        the model lives and its dtype (inputs are cast to that dtype).
        """
        values = parse_kv_string(args) if isinstance(args, str) or args is None else dict(args)
        values.setdefault("pretrained", str(getattr(model, "name_or_path", "") or "in-memory"))
        values.setdefault("device", str(input_device(model)))
        values.setdefault("dtype", str(getattr(model, "dtype", "auto")).replace("torch.", ""))
        config = cls.validate_args(values)
        adapter = cls.__new__(cls)
        adapter._loaded = (model, processor)
        adapter.__init__(config)  # type: ignore[misc]  # the adapter's own __init__, with _loaded set
        return adapter

    def load_processor(self) -> Any:
        """``AutoProcessor.from_pretrained`` with the adapter's revision/trust settings (the hub
        check of :func:`load_or_explain` runs before ``transformers`` is even imported)."""
        if self._loaded is not None:
            return self._loaded[1]
        cfg = self.config

        def load(hub: dict[str, Any]) -> Any:
            from transformers import AutoProcessor

            return AutoProcessor.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code, **hub
            )

        return load_or_explain("processor", cfg.pretrained, load, cfg.revision)

    def model_class(self) -> Any:
        """The ``transformers`` class to load."""
        raise NotImplementedError

    def load_model(self) -> Any:
        """Load :meth:`model_class` with the resolved dtype/attention, placed on the device, in eval mode."""
        if self._loaded is not None:
            return self._loaded[0]
        cfg = self.config
        cls = self.model_class()
        kwargs = pretrained_kwargs(cfg, self.dtype, self.attn_implementation)
        model = load_or_explain(
            f"model ({getattr(cls, '__name__', cls)})",
            cfg.pretrained,
            lambda hub: cls.from_pretrained(cfg.pretrained, **kwargs, **hub),
            cfg.revision,
        )
        return place_model(model, cfg.device_map, self.device)

    # ---- the batching path ----------------------------------------------------------------
    def params_of(self, request: Request) -> GenerationParams:
        """The request's generation parameters, with this adapter's default length when unset."""
        return request.params.with_default_max_new_tokens(self.default_max_new_tokens)

    def request_jobs(self, index: int, request: Request) -> tuple[list[Job], dict[str, Any]]:
        """The jobs of one request and what to record in its response's ``extra``.

        Raise :class:`SampleError` (or ``OSError``/``ValueError``) when this request cannot run.
        """
        raise NotImplementedError

    def run_batch(self, jobs: Sequence[Job]) -> list[Completion]:
        """One ``generate`` call for jobs of equal parameters and group, one completion each."""
        raise NotImplementedError

    def reset(self) -> None:
        """Undo what a failed :meth:`generate` call may have left: the tokenizer's padding side as
        it was before the first call, eval mode, and GPU memory cached for the failed batch."""
        tokenizer = getattr(self, "tokenizer", None)
        if tokenizer is not None and self._padding_side is not None:
            tokenizer.padding_side = self._padding_side
        if self.model is not None and getattr(self.model, "training", False):
            self.model.eval()
        release_memory()
        self._failed = False

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One response per request, in order (see the module docstring)."""
        return self._guarded(self._generate, requests)

    def _guarded(self, call: Any, requests: Sequence[Request]) -> list[Response]:
        """Run ``call(requests)`` after undoing what a failed call left (:meth:`reset`)."""
        if self._failed:
            self.reset()
        tokenizer = getattr(self, "tokenizer", None)
        if self._padding_side is None and tokenizer is not None:
            self._padding_side = getattr(tokenizer, "padding_side", None)
        try:
            return list(call(requests))
        except BaseException:
            self._failed = True
            raise

    # ---- likelihood scoring (output_type: multiple_choice) -----------------------------------
    def choice_job(self, index: int, request: Request) -> Any:
        """The :class:`~lmms_eval.models.hf.choices.ChoiceJob` of one ``multiple_choice`` request
        (adapters with ``scores_choices``). Raise :class:`SampleError` when it cannot be scored."""
        raise NotImplementedError

    def encode_choice_texts(self, texts: list[str], media: list[Any]) -> Any:
        """The processor's tensors for ``texts`` (each with its media), RIGHT padded."""
        raise NotImplementedError

    def score_choices(self, requests: Sequence[Request]) -> list[Response]:
        """Likelihood scoring (:meth:`Model.score_choices`, :mod:`~lmms_eval.models.hf.choices`)."""
        if not self.scores_choices:
            return super().score_choices(requests)
        return self._guarded(self._score_choices, requests)

    def _score_choices(self, requests: Sequence[Request]) -> list[Response]:
        from lmms_eval.api.model import choice_response
        from lmms_eval.models.hf.choices import score_jobs

        failures: dict[int, str] = {}
        jobs = []
        for i, request in enumerate(requests):
            try:
                if not request.choices:
                    raise SampleError(f"{request.label()}: a multiple_choice request has no options")
                jobs.append(self.choice_job(i, request))
            except SampleError as exc:
                failures[i] = str(exc)
            except (OSError, ValueError) as exc:
                failures[i] = f"{request.label()}: {type(exc).__name__}: {exc}"
        tallies = score_jobs(
            jobs, self.encode_choice_texts, self.model, lambda i: requests[i].label(), self.max_batch_size, self.dtype
        )
        extras = {job.request: job.extra for job in jobs}
        out: list[Response] = []
        for i in range(len(requests)):
            tally = tallies.get(i)
            if i in failures or tally is None or tally.error:
                out.append(Response.failed(failures.get(i) or (tally.error if tally else None) or "not scored"))
                continue
            options = range(len(requests[i].choices or []))
            response = choice_response(
                [tally.logprobs[k] for k in options],
                [tally.tokens[k] for k in options],
                prompt_tokens=len(tally.prompt_ids),
                latency_s=round(tally.latency_s, 4),
                batch_size=tally.batch_size,
            )
            response.extra = {**extras.get(i, {}), **response.extra}
            out.append(response)
        return out

    def _generate(self, requests: Sequence[Request]) -> list[Response]:
        failures: dict[int, str] = {}
        extras: dict[int, dict[str, Any]] = {}
        jobs: list[Job] = []
        for i, request in enumerate(requests):
            try:
                own, extras[i] = self.request_jobs(i, request)
            except SampleError as exc:
                failures[i] = str(exc)
                continue
            except (OSError, ValueError) as exc:
                failures[i] = f"{request.label()}: {type(exc).__name__}: {exc}"
                continue
            jobs.extend(own)
        done: dict[tuple[int, int], tuple[Completion, int, float]] = {}
        for chunk in batch_groups(jobs, self.max_batch_size):
            started = time.perf_counter()
            completions = self.run_batch(chunk)
            share = (time.perf_counter() - started) / len(chunk)
            for job, completion in zip(chunk, completions, strict=True):
                done[(job.request, job.piece)] = (completion, len(chunk), share)
        return [
            Response.failed(failures[i]) if i in failures else self._response(i, jobs, done, extras.get(i, {}))
            for i in range(len(requests))
        ]

    def _response(
        self,
        index: int,
        jobs: Sequence[Job],
        done: dict[tuple[int, int], tuple[Completion, int, float]],
        extra: dict[str, Any],
    ) -> Response:
        pieces = sorted((job.piece, done[(job.request, job.piece)]) for job in jobs if job.request == index)
        outputs = [p[1] for p in pieces]
        if len(outputs) == 1:
            text = outputs[0][0].text
            extra = {**extra, **outputs[0][0].extra}
        else:
            text = self.piece_joiner.join(t for t in (o[0].text.strip() for o in outputs) if t)
        return Response(
            text=text,
            prompt_tokens=sum(o[0].prompt_tokens for o in outputs),
            completion_tokens=sum(o[0].completion_tokens for o in outputs),
            latency_s=round(sum(o[2] for o in outputs), 4),
            batch_size=max((o[1] for o in outputs), default=None),
            extra=extra,
        )

    # ---- reporting ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Args plus the resolved loading choices (flat ``device``/``dtype`` and a ``resolved`` block)."""
        import transformers

        cfg = self.config
        out = {**super().describe(), **describe_load(cfg.device_map, self.device, self.dtype)}
        model = self.model
        out["resolved"] = {
            "dtype": str(getattr(model, "dtype", self.dtype)).replace("torch.", ""),
            "device": str(getattr(model, "device", self.device)),
            "attn_implementation": getattr(
                getattr(model, "config", None), "_attn_implementation", self.attn_implementation
            ),
            "model_class": type(model).__name__ if model is not None else None,
            "processor_class": type(self.processor).__name__,
            "family": self.family.name,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        }
        return out

    def close(self) -> None:
        self.model = None
        release_memory()
