"""Helpers shared by the Hugging Face audio adapters (``qwen2_audio``, ``aero``, ``whisper``).

What lives here:

* :class:`HFAudioConfig`: the arguments every audio adapter takes (checkpoint, dtype, device, ...).
* loading helpers: device/dtype choice and ``from_pretrained`` keyword arguments.
* generation helpers: task ``gen_kwargs`` -> ``generate`` keyword arguments, stop strings,
  new-token counting.
* audio helpers: loading a request's audio at the feature extractor's rate, splitting long
  audio, the ``long_audio`` policy.
* chat-LM helpers for processors that take ``text`` with audio placeholders plus a list of
  clips (Qwen2-Audio, Aero): :class:`AudioJob`, :func:`run_audio_jobs`, :func:`gather_responses`.

Model adapters may import torch at module import time (the registry loads them lazily).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.messages import Audio, Image, Message, Text, Video, resample
from lmms_eval.api.model import ModelConfig
from lmms_eval.api.request import Request, Response

log = logging.getLogger(__name__)

LongAudioPolicy = Literal["chunk", "truncate", "error"]


class HFAudioConfig(ModelConfig):
    """Arguments shared by the Hugging Face audio adapters (``--model_args k=v,...``)."""

    pretrained: str
    revision: str | None = None
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    device: str = "auto"
    device_map: str | dict[str, Any] | None = None
    attn_implementation: str | None = None
    batch_size: int = Field(1, ge=1)
    trust_remote_code: bool = False
    max_new_tokens: int | None = Field(
        None, ge=1, description="used when the task's gen_kwargs give no max_new_tokens"
    )


# ---- loading --------------------------------------------------------------------------------


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; anything else as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str = "auto", device: str = "cpu") -> torch.dtype:
    """``"auto"`` -> bfloat16 on a GPU, float32 on the CPU; else the named dtype."""
    if dtype == "auto":
        return torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[dtype]


def pretrained_kwargs(cfg: HFAudioConfig, dtype: torch.dtype) -> dict[str, Any]:
    """Keyword arguments for ``*.from_pretrained`` built from the adapter's config."""
    kwargs: dict[str, Any] = {"revision": cfg.revision, "dtype": dtype, "trust_remote_code": cfg.trust_remote_code}
    if cfg.device_map is not None:
        kwargs["device_map"] = cfg.device_map
    if cfg.attn_implementation:
        kwargs["attn_implementation"] = cfg.attn_implementation
    return kwargs


def load_or_explain(what: str, pretrained: str, loader: Callable[[], Any]) -> Any:
    """Run ``loader``; turn a missing checkpoint or package into one clear UsageError."""
    try:
        return loader()
    except (OSError, ValueError, ImportError) as exc:
        raise UsageError(
            f"cannot load the {what} of {pretrained!r}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
            f"(check pretrained=/revision=, that the checkpoint is downloaded or the hub reachable, and "
            f"trust_remote_code=true for models that need it)"
        ) from exc


def place_model(model: Any, cfg: HFAudioConfig, device: str) -> Any:
    """Move the model to ``device`` unless ``device_map`` already placed it; eval mode."""
    if cfg.device_map is None:
        model = model.to(device)
    return model.eval()


def release_memory() -> None:
    """Return cached GPU memory after an adapter drops its model."""
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def input_device(model: Any) -> torch.device:
    """Where the model's inputs must go (its first parameter's device)."""
    return next(model.parameters()).device


def describe_load(cfg: HFAudioConfig, device: str, dtype: torch.dtype) -> dict[str, Any]:
    """The resolved loading choices, for ``describe()``."""
    return {"device": device if cfg.device_map is None else f"device_map={cfg.device_map}", "dtype": str(dtype)}


# ---- generation parameters ------------------------------------------------------------------

_SAMPLING_KEYS = ("top_p", "top_k")
_PASSED_KEYS = ("num_beams", "repetition_penalty", "length_penalty", "no_repeat_ngram_size", "min_new_tokens")
_KNOWN_KEYS = frozenset({"max_new_tokens", "temperature", "do_sample", "until", *_SAMPLING_KEYS, *_PASSED_KEYS})


@dataclass
class GenPlan:
    """How one request's ``gen_kwargs`` map onto ``generate``: keyword arguments + stop strings."""

    kwargs: dict[str, Any]
    stops: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()

    def key(self) -> tuple:
        """Hashable identity: requests with equal keys can share one ``generate`` call."""
        return (tuple(sorted((k, repr(v)) for k, v in self.kwargs.items())), self.stops)


def stop_strings(until: Any) -> tuple[str, ...]:
    """The task's ``until`` (a string, a list of strings, or nothing) as a tuple of non-empty strings."""
    if until is None:
        return ()
    if isinstance(until, str):
        return (until,) if until else ()
    return tuple(str(s) for s in until if s)


def map_gen_kwargs(gen_kwargs: Mapping[str, Any], default_max_new_tokens: int | None) -> GenPlan:
    """Map a task's ``gen_kwargs`` onto Hugging Face ``generate`` arguments.

    * ``max_new_tokens``: as given, else ``default_max_new_tokens`` (the adapter's ``max_new_tokens``
      argument; ``None`` leaves the checkpoint's own generation config in charge).
    * ``temperature`` > 0 (or ``do_sample=True``) samples, with ``top_p``/``top_k`` when given;
      otherwise decoding is greedy (``do_sample=False``), whatever the checkpoint's
      ``generation_config.json`` says, so scores never depend on sampling luck unless the task asks.
    * ``num_beams``, ``repetition_penalty``, ``length_penalty``, ``no_repeat_ngram_size``,
      ``min_new_tokens`` pass through. ``until`` becomes stop strings. Other keys are reported in
      ``GenPlan.ignored`` (and in each response's ``extra``), not silently used or dropped.
    """
    kwargs: dict[str, Any] = {}
    max_new = gen_kwargs.get("max_new_tokens", default_max_new_tokens)
    if max_new is not None:
        kwargs["max_new_tokens"] = int(max_new)
    temperature = gen_kwargs.get("temperature")
    do_sample = gen_kwargs.get("do_sample")
    sample = bool(do_sample) if do_sample is not None else (temperature is not None and float(temperature) > 0)
    kwargs["do_sample"] = sample
    if sample:
        if temperature is not None and float(temperature) > 0:
            kwargs["temperature"] = float(temperature)
        for key in _SAMPLING_KEYS:
            if gen_kwargs.get(key) is not None:
                kwargs[key] = gen_kwargs[key]
    else:
        # Neutral values so a checkpoint's sampling defaults neither apply nor warn.
        kwargs.update(temperature=1.0, top_p=1.0, top_k=None)
    for key in _PASSED_KEYS:
        if gen_kwargs.get(key) is not None:
            kwargs[key] = gen_kwargs[key]
    ignored = tuple(sorted(k for k in gen_kwargs if k not in _KNOWN_KEYS))
    return GenPlan(kwargs=kwargs, stops=stop_strings(gen_kwargs.get("until")), ignored=ignored)


def truncate_at_stop(text: str, stops: Sequence[str]) -> str:
    """Cut ``text`` at the earliest occurrence of any stop string."""
    cut = len(text)
    for stop in stops:
        at = text.find(stop)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]


def completion_lengths(new_tokens: torch.Tensor, eos_ids: Sequence[int]) -> list[int]:
    """Per row of generated ids: tokens up to and including the first end-of-sequence token.

    Padding after an early stop is not counted, so the count does not depend on the batch.
    """
    out: list[int] = []
    eos = torch.tensor(sorted(set(eos_ids)), dtype=new_tokens.dtype) if eos_ids else None
    for row in new_tokens.cpu():
        if eos is not None and row.numel():
            hits = torch.nonzero(torch.isin(row, eos), as_tuple=False)
            if hits.numel():
                out.append(int(hits[0, 0]) + 1)
                continue
        out.append(int(row.numel()))
    return out


def eos_token_ids(model: Any, tokenizer: Any, extra_tokens: Sequence[str] = ()) -> list[int]:
    """End-of-sequence ids: the generation config's, plus named chat tokens present in the vocab."""
    ids: list[int] = []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if configured is None:
        configured = tokenizer.eos_token_id
    if configured is not None:
        ids.extend(configured if isinstance(configured, (list, tuple)) else [configured])
    vocab = tokenizer.get_vocab()
    for token in extra_tokens:
        if token in vocab and vocab[token] not in ids:
            ids.append(vocab[token])
    return [int(i) for i in ids]


def pad_token_id(model: Any, tokenizer: Any, eos_ids: Sequence[int]) -> int | None:
    """The id ``generate`` pads finished rows with: tokenizer's pad, generation config's, or EOS."""
    for candidate in (tokenizer.pad_token_id, getattr(model.generation_config, "pad_token_id", None)):
        if candidate is not None:
            return int(candidate)
    return int(eos_ids[0]) if eos_ids else None


# ---- audio ----------------------------------------------------------------------------------


def resample_audio(wave: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Resample a mono waveform; uses ``soxr`` (band-limited) when installed, else linear."""
    if source_rate == target_rate or len(wave) == 0:
        return wave.astype(np.float32, copy=False)
    try:
        import soxr
    except ImportError:
        return resample(wave, source_rate, target_rate)
    return np.asarray(soxr.resample(wave, source_rate, target_rate, quality="HQ"), dtype=np.float32)


def request_label(request: Request) -> str:
    """``task doc <id>``: how errors name the sample."""
    return f"{request.task or 'request'} doc {request.doc_id}"


def load_request_audio(request: Request, rate: int) -> list[np.ndarray]:
    """All audio parts of ``request`` as float32 mono waveforms at ``rate`` Hz.

    Raises :class:`SampleError` naming the sample and the clip when one cannot be decoded,
    is empty, or contains non-finite values.
    """
    waves: list[np.ndarray] = []
    for n, part in enumerate(request.audios()):
        where = f"{request_label(request)}, audio {n}" + (f" ({part.path})" if part.path else "")
        try:
            wave, native = part.load()
            wave = resample_audio(np.asarray(wave, dtype=np.float32), int(native), rate)
        except Exception as exc:  # noqa: BLE001 - decoders raise many types
            raise SampleError(f"{where}: cannot read the audio: {type(exc).__name__}: {exc}") from exc
        if wave.ndim != 1 or wave.size == 0:
            raise SampleError(f"{where}: the audio is empty; fix or drop this sample")
        if not np.isfinite(wave).all():
            raise SampleError(f"{where}: the audio holds NaN/inf samples; fix or drop this sample")
        waves.append(np.ascontiguousarray(wave, dtype=np.float32))
    return waves


def reject_other_media(request: Request, model_name: str) -> None:
    """Raise SampleError if the request carries images or videos (audio adapters take neither)."""
    if request.images() or request.videos():
        raise SampleError(
            f"{request_label(request)}: model {model_name!r} takes text and audio only, but the prompt "
            f"has images/videos; run this task with a vision model"
        )


def split_even(wave: np.ndarray, rate: int, max_seconds: float) -> list[np.ndarray]:
    """Split into the fewest pieces no longer than ``max_seconds``, all of (nearly) equal length.

    Equal pieces avoid a tiny trailing piece that would carry almost no audio.
    """
    limit = int(max_seconds * rate)
    if limit <= 0:
        raise ValueError("max_seconds must be positive")
    n = max(1, math.ceil(len(wave) / limit))
    bounds = np.linspace(0, len(wave), n + 1).round().astype(int)
    return [wave[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def split_fixed(wave: np.ndarray, rate: int, seconds: float, min_tail_seconds: float = 0.0) -> tuple[list[np.ndarray], float]:
    """Split into consecutive ``seconds``-long pieces (the last one shorter).

    A last piece shorter than ``min_tail_seconds`` is dropped; returns (pieces, dropped seconds)
    so callers can record it.
    """
    size = int(seconds * rate)
    if size <= 0:
        raise ValueError("seconds must be positive")
    pieces = [wave[i : i + size] for i in range(0, len(wave), size)]
    dropped = 0.0
    if len(pieces) > 1 and len(pieces[-1]) < min_tail_seconds * rate:
        dropped = len(pieces[-1]) / rate
        pieces = pieces[:-1]
    return pieces, dropped


def apply_long_audio_policy(
    wave: np.ndarray, rate: int, limit_seconds: float, policy: LongAudioPolicy, where: str, model_name: str
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Apply the ``long_audio`` policy to a clip longer than the model's ``limit_seconds``.

    Returns the windows to process in order and what to record in the response's ``extra``:

    * ``chunk``: equal windows of at most ``limit_seconds``, each processed separately and the
      outputs joined in order (``extra["audio_windows"]``).
    * ``truncate``: the first ``limit_seconds`` only (``extra["truncated_audio_s"]`` says how much
      was cut).
    * ``error``: a SampleError naming the sample.
    """
    seconds = len(wave) / rate
    if seconds <= limit_seconds:
        return [wave], {}
    if policy == "chunk":
        windows = split_even(wave, rate, limit_seconds)
        return windows, {"audio_windows": len(windows)}
    if policy == "truncate":
        keep = int(limit_seconds * rate)
        return [wave[:keep]], {"truncated_audio_s": round(seconds - keep / rate, 3)}
    raise SampleError(
        f"{where}: audio is {seconds:.1f}s, longer than the {limit_seconds:g}s model {model_name!r} takes; "
        f"set long_audio=chunk (process in windows and join) or long_audio=truncate"
    )


# ---- chat prompts ---------------------------------------------------------------------------


def chat_conversation(
    messages: Sequence[Message], audio_entries: Callable[[int], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Convert typed messages into the list-of-dicts chat format of Hugging Face processors.

    The ``n``-th audio part (counting across turns) is replaced by ``audio_entries(n)``: one
    placeholder dict per clip the processor will receive for it (Aero: one per 30 s chunk).
    Assistant/system turns with only text become plain strings, as chat templates expect.
    """
    conversation: list[dict[str, Any]] = []
    audio_index = 0
    for message in messages:
        content: list[dict[str, Any]] = []
        for part in message.content:
            if isinstance(part, Text):
                content.append({"type": "text", "text": part.text})
            elif isinstance(part, Audio):
                content.extend(audio_entries(audio_index))
                audio_index += 1
            elif isinstance(part, (Image, Video)):
                raise SampleError(f"{part.type} parts are not supported by audio models")
        if message.role in ("system", "assistant") and all(c["type"] == "text" for c in content):
            conversation.append({"role": message.role, "content": "".join(c["text"] for c in content)})
        else:
            conversation.append({"role": message.role, "content": content})
    return conversation


def check_no_placeholder_text(request: Request, placeholders: Sequence[str]) -> None:
    """Reject prompt text that contains the processor's audio placeholder tokens literally
    (they would be counted as audio slots and misalign the clips)."""
    for part in request.texts():
        for token in placeholders:
            if token and token in part.text:
                raise SampleError(
                    f"{request_label(request)}: the prompt text contains the audio placeholder {token!r}; "
                    f"remove it from the task's prompt (audio goes in audio parts)"
                )


# ---- batched generation for chat audio LMs --------------------------------------------------


@dataclass
class AudioJob:
    """One prompt for the model: chat-template text with audio placeholders + the clips for them.

    ``request_index`` is the position of the request the job belongs to and ``piece`` its order
    among that request's jobs (a request whose audio was split runs one job per window).
    """

    request_index: int
    piece: int
    prompt: str
    clips: list[np.ndarray]
    plan: GenPlan


@dataclass
class JobOutput:
    """What one job produced: decoded new text (stop strings applied) and its token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int


def processor_audio_keyword(processor: Any) -> str:
    """``"audios"`` for processors whose ``__call__`` names it so (Aero's remote code), else ``"audio"``."""
    try:
        params = inspect.signature(processor.__call__).parameters
    except (TypeError, ValueError):
        return "audio"
    return "audios" if "audios" in params and "audio" not in params else "audio"


@dataclass
class ChatAudioRunner:
    """Runs :class:`AudioJob` lists through a processor + ``generate`` in left-padded batches."""

    model: Any
    processor: Any
    rate: int
    batch_size: int
    eos_ids: list[int]
    pad_id: int | None
    calls: list[int] = field(default_factory=list)  # batch sizes of each generate call (for tests/logs)

    def run(self, jobs: Sequence[AudioJob]) -> dict[tuple[int, int], JobOutput]:
        """Generate for every job; returns outputs keyed by ``(request_index, piece)``.

        Jobs are grouped by generation plan, sorted by audio length (less padding), and run in
        batches of ``batch_size``. An exception propagates: the engine then retries the requests
        one by one, so one bad sample cannot take its neighbours down.
        """
        out: dict[tuple[int, int], JobOutput] = {}
        groups: dict[tuple, list[AudioJob]] = {}
        for job in jobs:
            groups.setdefault(job.plan.key(), []).append(job)
        for group in groups.values():
            group = sorted(group, key=lambda j: -sum(len(c) for c in j.clips))
            for start in range(0, len(group), self.batch_size):
                batch = group[start : start + self.batch_size]
                for job, result in zip(batch, self._generate(batch)):
                    out[(job.request_index, job.piece)] = result
        return out

    def _generate(self, batch: Sequence[AudioJob]) -> list[JobOutput]:
        tokenizer = self.processor.tokenizer
        clips = [clip for job in batch for clip in job.clips]
        audio_kw = {processor_audio_keyword(self.processor): clips} if clips else {}
        inputs = self.processor(
            text=[job.prompt for job in batch], sampling_rate=self.rate, padding=True, return_tensors="pt", **audio_kw
        )
        device = input_device(self.model)
        dtype = next(self.model.parameters()).dtype
        model_inputs = {
            k: (v.to(device, dtype=dtype) if torch.is_floating_point(v) else v.to(device))
            for k, v in inputs.items()
            if isinstance(v, torch.Tensor)
        }
        plan = batch[0].plan
        kwargs = dict(plan.kwargs)
        if plan.stops:
            kwargs.update(stop_strings=list(plan.stops), tokenizer=tokenizer)
        if self.pad_id is not None:
            kwargs["pad_token_id"] = self.pad_id
        if self.eos_ids:
            kwargs["eos_token_id"] = list(self.eos_ids)
        self.calls.append(len(batch))
        with torch.inference_mode():
            sequences = self.model.generate(**model_inputs, **kwargs)
        prompt_len = model_inputs["input_ids"].shape[1]
        new_tokens = sequences[:, prompt_len:]
        lengths = completion_lengths(new_tokens, self.eos_ids)
        prompt_counts = model_inputs["attention_mask"].sum(dim=1).tolist()
        results = []
        for row, n, n_prompt in zip(new_tokens, lengths, prompt_counts):
            text = tokenizer.decode(row[:n].tolist(), skip_special_tokens=True)
            results.append(JobOutput(truncate_at_stop(text, plan.stops), int(n_prompt), n))
        return results


def gather_responses(
    n_requests: int,
    failures: Mapping[int, str],
    jobs: Sequence[AudioJob],
    outputs: Mapping[tuple[int, int], JobOutput],
    extras: Mapping[int, dict[str, Any]],
    started: float,
    joiner: str = " ",
) -> list[Response]:
    """One :class:`Response` per request, in request order.

    Requests in ``failures`` get ``Response.failed(reason)``; the others join their jobs'
    texts in piece order (``joiner`` between pieces) and sum token counts. Latency is the
    batch's wall time shared evenly.
    """
    pieces: dict[int, list[tuple[int, JobOutput]]] = {}
    for job in jobs:
        pieces.setdefault(job.request_index, []).append((job.piece, outputs[(job.request_index, job.piece)]))
    share = (time.time() - started) / max(1, n_requests)
    responses: list[Response] = []
    for i in range(n_requests):
        if i in failures:
            responses.append(Response.failed(failures[i]))
            continue
        parts = [o for _, o in sorted(pieces.get(i, []), key=lambda p: p[0])]
        texts = [o.text.strip() for o in parts] if len(parts) > 1 else [o.text for o in parts]
        responses.append(
            Response(
                text=joiner.join(t for t in texts if t) if len(parts) > 1 else (texts[0] if texts else ""),
                prompt_tokens=sum(o.prompt_tokens for o in parts),
                completion_tokens=sum(o.completion_tokens for o in parts),
                latency_s=round(share, 4),
                extra=dict(extras.get(i, {})),
            )
        )
    return responses


def prepare_each(
    requests: Sequence[Request], prepare: Callable[[int, Request], list[AudioJob]]
) -> tuple[list[AudioJob], dict[int, str]]:
    """Build every request's jobs; a SampleError (bad audio, bad prompt) fails only that request."""
    jobs: list[AudioJob] = []
    failures: dict[int, str] = {}
    for i, request in enumerate(requests):
        try:
            jobs.extend(prepare(i, request))
        except SampleError as exc:
            log.warning("%s", exc)
            failures[i] = str(exc)
    return jobs, failures
