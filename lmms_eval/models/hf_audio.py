"""Audio-specific helpers of the Hugging Face audio adapters (``qwen2_audio``, ``aero``, ``whisper``).

The generic ``transformers`` parts (device/dtype choice, loading, gen_kwargs mapping, stop
strings, left-padded batched ``generate``, token counting) live in
:mod:`lmms_eval.models.hf_common`, shared with the vision adapters. What lives here:

* audio helpers: loading a request's audio at the feature extractor's rate, splitting long
  audio, the ``long_audio`` policy.
* chat-LM helpers for processors that take ``text`` with audio placeholders plus a list of
  clips (Qwen2-Audio, Aero): :class:`AudioJob`, :class:`ChatAudioRunner`,
  :func:`gather_responses`, and the adapter base :class:`ChatAudioModel`.

Model adapters may import torch at module import time (the registry loads them lazily).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.messages import Message, resample
from lmms_eval.api.request import Request, Response
from lmms_eval.models.hf_common import (
    Completion,
    GenSettings,
    HFModel,
    HFModelConfig,
    eos_token_ids,
    generate_completions,
    map_gen_kwargs,
    pad_token_id,
    to_hf_chat,
)

log = logging.getLogger(__name__)

LongAudioPolicy = Literal["chunk", "truncate", "error"]


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


def split_fixed(
    wave: np.ndarray, rate: int, seconds: float, min_tail_seconds: float = 0.0
) -> tuple[list[np.ndarray], float]:
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

    Built on :func:`~lmms_eval.models.hf_common.to_hf_chat`; the ``n``-th audio part (counting
    across turns) is replaced by ``audio_entries(n)``: one placeholder dict per clip the
    processor will receive for it (Aero: one per 30 s chunk). Assistant/system turns with only
    text become plain strings, as chat templates expect.
    """
    chat = to_hf_chat(messages)
    if chat.images or chat.videos:
        raise SampleError(f"{'image' if chat.images else 'video'} parts are not supported by audio models")
    conversation: list[dict[str, Any]] = []
    audio_index = 0
    for message in chat.messages:
        content: list[dict[str, Any]] = []
        for part in message["content"]:
            if part["type"] == "audio":
                content.extend(audio_entries(audio_index))
                audio_index += 1
            else:
                content.append(part)
        if message["role"] in ("system", "assistant") and all(c["type"] == "text" for c in content):
            content = "".join(c["text"] for c in content)  # type: ignore[assignment]
        conversation.append({"role": message["role"], "content": content})
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
    settings: GenSettings


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
    dtype: torch.dtype | None = None
    calls: list[int] = field(default_factory=list)  # batch sizes of each generate call (for tests/logs)

    def run(self, jobs: Sequence[AudioJob]) -> dict[tuple[int, int], Completion]:
        """Generate for every job; returns outputs keyed by ``(request_index, piece)``.

        Jobs are grouped by generation settings, sorted by audio length (less padding), and run
        in batches of ``batch_size``. An exception propagates: the engine then retries the
        requests one by one, so one bad sample cannot take its neighbours down.
        """
        out: dict[tuple[int, int], Completion] = {}
        groups: dict[GenSettings, list[AudioJob]] = {}
        for job in jobs:
            groups.setdefault(job.settings, []).append(job)
        for group in groups.values():
            group = sorted(group, key=lambda j: -sum(len(c) for c in j.clips))
            for start in range(0, len(group), self.batch_size):
                batch = group[start : start + self.batch_size]
                for job, result in zip(batch, self._generate(batch)):
                    out[(job.request_index, job.piece)] = result
        return out

    def _generate(self, batch: Sequence[AudioJob]) -> list[Completion]:
        clips = [clip for job in batch for clip in job.clips]
        audio_kw = {processor_audio_keyword(self.processor): clips} if clips else {}
        inputs = self.processor(
            text=[job.prompt for job in batch], sampling_rate=self.rate, padding=True, return_tensors="pt", **audio_kw
        )
        self.calls.append(len(batch))
        return generate_completions(
            self.model,
            self.processor.tokenizer,
            inputs,
            batch[0].settings,
            dtype=self.dtype,
            eos_ids=self.eos_ids,
            pad_id=self.pad_id,
        )


def gather_responses(
    n_requests: int,
    failures: Mapping[int, str],
    jobs: Sequence[AudioJob],
    outputs: Mapping[tuple[int, int], Completion],
    extras: Mapping[int, dict[str, Any]],
    started: float,
    joiner: str = " ",
) -> list[Response]:
    """One :class:`Response` per request, in request order.

    Requests in ``failures`` get ``Response.failed(reason)``; the others join their jobs'
    texts in piece order (``joiner`` between pieces) and sum token counts. Latency is the
    batch's wall time shared evenly.
    """
    pieces: dict[int, list[tuple[int, Completion]]] = {}
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


# ---- adapter base for chat audio LMs --------------------------------------------------------


class ChatAudioConfig(HFModelConfig):
    """Arguments of the chat audio adapters: :class:`HFModelConfig` plus clip length and long-audio policy."""

    chunk_seconds: float = Field(30.0, gt=0, description="longest clip one audio placeholder takes")
    long_audio: LongAudioPolicy = "chunk"


class ChatAudioModel(HFModel):
    """Base of chat audio LMs whose processor takes chat-template text plus a list of clips.

    Loads the processor (left padding) and model, checks ``chunk_seconds`` against the audio
    encoder's window, and batches every request's :class:`AudioJob` list through a
    :class:`ChatAudioRunner`. Subclasses implement :meth:`request_jobs`.
    """

    modalities: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    Config: ClassVar[type[ChatAudioConfig]] = ChatAudioConfig
    #: Chat tokens that also end an answer (added to the checkpoint's end-of-sequence ids).
    end_tokens: ClassVar[tuple[str, ...]] = ("<|im_end|>",)

    def __init__(self, config: ChatAudioConfig | None = None) -> None:
        super().__init__(config)
        cfg: ChatAudioConfig = self.config  # type: ignore[assignment]
        self.processor = self.load_processor()
        tokenizer = getattr(self.processor, "tokenizer", None)
        if tokenizer is None or not getattr(self.processor, "chat_template", None):
            raise UsageError(
                f"the processor of {cfg.pretrained!r} has no tokenizer or chat template; model {self.name!r} needs "
                f"the checkpoint's own processor (trust_remote_code=true for remote-code checkpoints)"
            )
        tokenizer.padding_side = "left"
        extractor = getattr(self.processor, "feature_extractor", None)
        self.rate = int(getattr(extractor, "sampling_rate", 16000))
        encoder_seconds = getattr(extractor, "n_samples", 30 * self.rate) / self.rate
        if cfg.chunk_seconds > encoder_seconds:
            raise UsageError(
                f"model {self.name!r} argument 'chunk_seconds': {cfg.chunk_seconds:g} is longer than the "
                f"{encoder_seconds:g}s the audio encoder takes; use chunk_seconds<={encoder_seconds:g}"
            )
        self.model = self.load_model()
        eos = eos_token_ids(self.model, tokenizer, extra_tokens=self.end_tokens)
        self.runner = ChatAudioRunner(
            self.model,
            self.processor,
            self.rate,
            cfg.batch_size,
            eos,
            pad_token_id(self.model, tokenizer, eos),
            dtype=self.dtype,
        )
        self._placeholders = [
            p
            for p in (
                getattr(self.processor, attr, None) for attr in ("audio_token", "audio_bos_token", "audio_eos_token")
            )
            if p
        ]

    def request_jobs(self, index: int, request: Request) -> tuple[list[AudioJob], dict[str, Any]]:
        """The jobs of one request and what to record in its response's ``extra``."""
        raise NotImplementedError

    def read_request(self, request: Request) -> tuple[GenSettings, list[np.ndarray], dict[str, Any]]:
        """Check the request, map its gen_kwargs, load its audio: (settings, waveforms, extra)."""
        reject_other_media(request, self.name)
        check_no_placeholder_text(request, self._placeholders)
        settings = map_gen_kwargs(request.gen_kwargs, self.config.max_new_tokens)
        waves = load_request_audio(request, self.rate)
        extra: dict[str, Any] = {"ignored_gen_kwargs": list(settings.ignored)} if settings.ignored else {}
        return settings, waves, extra

    def split_long(
        self, request: Request, waves: list[np.ndarray], limit_seconds: float, extra: dict[str, Any]
    ) -> tuple[list[list[np.ndarray]], list[int]]:
        """Apply the ``long_audio`` policy to a single-clip prompt longer than ``limit_seconds``.

        Returns the windows (one list of clips per job) and, for prompts with several clips,
        the indices of clips still longer than the limit (the caller decides what to do).
        """
        too_long = [n for n, w in enumerate(waves) if len(w) > limit_seconds * self.rate]
        if too_long and len(waves) == 1:
            pieces, info = apply_long_audio_policy(
                waves[0], self.rate, limit_seconds, self.config.long_audio, request_label(request), self.name
            )
            extra.update(info)
            return [[p] for p in pieces], []
        return [waves], too_long

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One response per request, in order; a request whose audio cannot be read fails alone."""
        started = time.time()
        jobs: list[AudioJob] = []
        failures: dict[int, str] = {}
        extras: dict[int, dict[str, Any]] = {}
        for i, request in enumerate(requests):
            try:
                own, extras[i] = self.request_jobs(i, request)
            except SampleError as exc:
                log.warning("%s", exc)
                failures[i] = str(exc)
                continue
            jobs.extend(own)
        outputs = self.runner.run(jobs)
        return gather_responses(len(requests), failures, jobs, outputs, extras, started)

    def close(self) -> None:
        self.runner = None
        super().close()
