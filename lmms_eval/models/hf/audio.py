"""Audio chat models through ``transformers`` (``qwen2_audio``, ``aero``), and long-audio policies.

Audio is decoded, mixed to mono and resampled to the feature extractor's rate by
:mod:`lmms_eval.media` (soxr, the one resampler of the project). What lives here:

* long audio: :func:`split_even`, :func:`split_fixed`, :func:`apply_long_audio_policy` (the
  explicit ``long_audio`` argument: ``chunk`` / ``truncate`` / ``error``). Audio is never cut
  silently: every response records ``extra["audio_seconds"]`` (the decoded duration of all its
  audio parts) and, when a clip was longer than the model takes, ``extra["long_audio_policy"]``
  with what the policy did (``audio_windows`` or ``truncated_audio_s``);
* :class:`ChatAudioModel`, the base of adapters whose processor takes chat-template text with
  audio placeholders plus a list of clips. Each request becomes one job per audio window, all
  batched through :class:`~lmms_eval.models.hf.base.HFModel`'s one batching path.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import ModelConfig
from lmms_eval.api.request import Request
from lmms_eval.media import MediaSpec, load_audio
from lmms_eval.models.hf.base import HFModel, HFModelConfig, Job
from lmms_eval.models.hf.generation import Completion, eos_token_ids, generate_completions, pad_token_id

LongAudioPolicy = Literal["chunk", "truncate", "error"]


# ---- audio ------------------------------------------------------------------------------------


def request_audio(request: Request, rate: int) -> list[np.ndarray]:
    """All audio parts of ``request`` as float32 mono waveforms at ``rate`` Hz (via the media layer;
    a part that cannot be read, is empty (also once resampled to ``rate``) or holds NaN raises
    :class:`SampleError` naming the sample)."""
    label = request.label()
    return [load_audio(part, rate, f"{label}, audio {n}")[0] for n, part in enumerate(request.audios())]


def reject_other_media(request: Request, model_name: str) -> None:
    """Raise SampleError if the request carries images or videos (audio adapters take neither)."""
    if request.images() or request.videos():
        raise SampleError(
            f"{request.label()}: model {model_name!r} takes text and audio only, but the prompt "
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


def check_no_placeholder_text(request: Request, placeholders: Sequence[str]) -> None:
    """Reject prompt text that contains the processor's audio placeholder tokens literally
    (they would be counted as audio slots and misalign the clips)."""
    for part in request.texts():
        for token in placeholders:
            if token and token in part.text:
                raise SampleError(
                    f"{request.label()}: the prompt text contains the audio placeholder {token!r}; "
                    f"remove it from the task's prompt (audio goes in audio parts)"
                )


def audio_feature_extractor(processor: Any) -> Any:
    """The processor's audio feature extractor: ``feature_extractor`` (transformers' own audio
    processors) or ``audio_processor`` (Aero's remote-code ``AeroProcessor``); None if neither."""
    for attr in ("feature_extractor", "audio_processor"):
        extractor = getattr(processor, attr, None)
        if extractor is not None:
            return extractor
    return None


def processor_audio_keyword(processor: Any) -> str:
    """``"audios"`` for processors whose ``__call__`` names it so (Aero's remote code), else ``"audio"``."""
    try:
        params = inspect.signature(processor.__call__).parameters
    except (TypeError, ValueError):
        return "audio"
    return "audios" if "audios" in params and "audio" not in params else "audio"


# ---- adapter base for chat audio LMs ------------------------------------------------------------


class ChatAudioConfig(HFModelConfig):
    """Arguments of the chat audio adapters: :class:`HFModelConfig` plus clip length and long-audio policy."""

    chunk_seconds: float = Field(30.0, gt=0, description="longest clip one audio placeholder takes")
    long_audio: LongAudioPolicy = "chunk"


AudioConfigT = TypeVar("AudioConfigT", bound=ChatAudioConfig)


@dataclass
class AudioPrompt:
    """A job's payload: chat-template text with audio placeholders + the clips for them, in order."""

    prompt: str
    clips: list[np.ndarray]


class ChatAudioModel(HFModel[AudioConfigT]):
    """Base of chat audio LMs whose processor takes chat-template text plus a list of clips.

    Loads the processor (left padding) and model, checks ``chunk_seconds`` against the audio
    encoder's window, and runs every request's jobs (:meth:`request_jobs`, one per audio
    window) through the shared batching path.
    """

    modalities: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    Config: ClassVar[type[ModelConfig]] = ChatAudioConfig

    def __init__(self, config: AudioConfigT | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.processor = self.load_processor()
        tokenizer = getattr(self.processor, "tokenizer", None)
        if tokenizer is None or not getattr(self.processor, "chat_template", None):
            raise UsageError(
                f"the processor of {cfg.pretrained!r} has no tokenizer or chat template; model {self.name!r} needs "
                f"the checkpoint's own processor (trust_remote_code=true for remote-code checkpoints)"
            )
        tokenizer.padding_side = "left"
        self.tokenizer = tokenizer
        extractor = audio_feature_extractor(self.processor)
        self.rate = int(getattr(extractor, "sampling_rate", 16000))
        encoder_seconds = getattr(extractor, "n_samples", 30 * self.rate) / self.rate
        if cfg.chunk_seconds > encoder_seconds:
            raise UsageError(
                f"model {self.name!r} argument 'chunk_seconds': {cfg.chunk_seconds:g} is longer than the "
                f"{encoder_seconds:g}s the audio encoder takes; use chunk_seconds<={encoder_seconds:g}"
            )
        self.model = self.load_model()
        self.eos_ids = eos_token_ids(self.model, tokenizer, extra_tokens=self.family.end_tokens)
        self.pad_id = pad_token_id(self.model, tokenizer, self.eos_ids)
        self.audio_keyword = processor_audio_keyword(self.processor)
        self._placeholders = [
            p
            for p in (
                getattr(self.processor, attr, None) for attr in ("audio_token", "audio_bos_token", "audio_eos_token")
            )
            if p
        ]

    @property
    def media_spec(self) -> MediaSpec:
        return MediaSpec(audio=True, audio_rate=self.rate)

    def read_request(self, request: Request) -> tuple[list[np.ndarray], dict[str, Any]]:
        """Check the request and load its audio: (waveforms at the model's rate, extra with the
        total decoded duration as ``audio_seconds``)."""
        reject_other_media(request, self.name)
        check_no_placeholder_text(request, self._placeholders)
        waves = request_audio(request, self.rate)
        return waves, {"audio_seconds": round(sum(len(w) for w in waves) / self.rate, 3)}

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
                waves[0], self.rate, limit_seconds, self.config.long_audio, request.label(), self.name
            )
            extra.update(info, long_audio_policy=self.config.long_audio)
            return [[p] for p in pieces], []
        return [waves], too_long

    def jobs_of(self, index: int, request: Request, prompts: list[AudioPrompt]) -> list[Job]:
        """One job per window prompt, longest audio first within a batch."""
        params = self.params_of(request)
        return [Job(index, k, params, float(sum(len(c) for c in p.clips)), p) for k, p in enumerate(prompts)]

    def run_batch(self, jobs: Sequence[Job]) -> list[Completion]:
        prompts: list[AudioPrompt] = [job.inputs for job in jobs]
        clips = [clip for p in prompts for clip in p.clips]
        audio_kw = {self.audio_keyword: clips} if clips else {}
        inputs = self.processor(
            text=[p.prompt for p in prompts], sampling_rate=self.rate, padding=True, return_tensors="pt", **audio_kw
        )
        return generate_completions(
            self.model,
            self.tokenizer,
            inputs,
            jobs[0].params,
            dtype=self.dtype,
            eos_ids=self.eos_ids,
            pad_id=self.pad_id,
        )
