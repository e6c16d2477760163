"""Offline vLLM engine adapter (``--model vllm``): images, video and audio via ``multi_modal_data``.

Each request is rendered to a prompt with the checkpoint's own chat template (through its
``transformers`` processor) and handed to ``vllm.LLM.generate`` as ``{"prompt", "multi_modal_data",
"mm_processor_kwargs"}``: images as PIL images, videos as sampled ``(T, H, W, 3)`` uint8 frames
(with their timing metadata, so the model's processor does not sample again), audio as
``(waveform, sampling_rate)`` resampled to the processor's rate. Media are decoded by
:mod:`lmms_eval.media` exactly as the ``transformers`` adapters decode them, with the model
family's traits (:mod:`lmms_eval.models.families`, from the checkpoint's ``model_type`` or
``family=``): a Qwen2.5-VL checkpoint gets the same frames here as through ``qwen2_5_vl``.
Generation parameters map through ``GenerationParams.to_vllm``: greedy unless asked otherwise,
sent as ``temperature=0``; beam search is refused.

Long audio is never cut silently: vLLM's processors for Whisper-style audio encoders
(Qwen2-Audio, Qwen2.5-Omni, Whisper, ...) pad or cut every clip to the feature extractor's window
(``n_samples`` / ``sampling_rate``: 30 s), so that window, read from the checkpoint's processor
(or the ``max_audio_seconds`` model arg), is the longest clip sent. Every response with audio
records ``extra["audio_seconds"]`` (decoded duration of all its clips); a longer clip gets the
explicit ``long_audio`` policy, recorded as ``extra["long_audio_policy"]``: ``error`` (default:
that sample's error record, naming its duration and the limit), ``truncate`` (the first
``max_audio_seconds`` only; ``extra["truncated_audio_s"]``) or ``chunk`` (single-clip prompts: equal
windows answered separately and joined with a space; ``extra["audio_windows"]``).

``tensor_parallel_size`` shards one engine over GPUs; ``data_parallel_size`` > 1 starts that many
independent engine processes, each on its own ``tensor_parallel_size`` GPUs, and splits every
batch between them (:mod:`lmms_eval.models.vllm_replicas`: a failed batch leaves nothing queued in
an engine, and a replica a sample crashed is started again).

vLLM is optional: this module imports without it, and constructing the adapter without it
raises a one-line :class:`~lmms_eval.api.errors.UsageError`. The conversion functions here are
pure and testable without vLLM or a GPU.

Example: ``--model vllm --model_args pretrained=Qwen/Qwen2.5-VL-7B-Instruct,tensor_parallel_size=2,
limit_mm_per_prompt={"image":4}``
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import FrameSampling, MediaSpec, VideoClip, load_audio, load_image, load_video
from lmms_eval.models.families import GENERIC, ModelFamily, family, family_of_model_type
from lmms_eval.models.hf.chat import to_hf_chat
from lmms_eval.models.hf.hub import hub_kwargs
from lmms_eval.models.vllm_replicas import (  # noqa: F401 - re-exported: the engines' public names
    Generated,
    LocalEngine,
    ReplicaPool,
    discard_unfinished,
    output_to_generated,
    run_engine,
    score_choice_requests,
)

log = logging.getLogger(__name__)

INSTALL_HINT = "vllm is not installed: pip install 'lmms_eval[vllm]'"

LongAudio = Literal["error", "truncate", "chunk"]


def require_vllm() -> Any:
    """Import ``vllm`` or raise the one-line install hint."""
    try:
        return importlib.import_module("vllm")
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


# --------------------------------------------------------------------------- pure conversion


def video_input(clip: VideoClip, fps_fallback: float | None = None, with_metadata: bool = True) -> Any:
    """A sampled :class:`~lmms_eval.media.VideoClip` as vLLM video data.

    With ``with_metadata``: ``(frames, metadata)`` where metadata tells the model's processor
    the source frame count, rate (the family's fallback for frames given without one) and which
    frames these are (and not to sample again).
    """
    if not with_metadata:
        return clip.frames
    meta: dict[str, Any] = {
        "total_num_frames": int(clip.total_frames),
        "frames_indices": list(clip.indices),
        "video_backend": clip.backend,
        "do_sample_frames": False,
    }
    rate = clip.native_fps or fps_fallback
    if rate:
        meta["fps"] = float(rate)
        meta["duration"] = float(clip.total_frames / rate)
    return clip.frames, meta


def frame_sampling(traits: ModelFamily, fps: float | None, max_frames: int | None) -> FrameSampling:
    """How a family samples videos, with the ``fps``/``max_frames`` model args."""
    return FrameSampling(fps=fps, max_frames=max_frames, multiple_of=traits.frame_multiple, mode=traits.sampling_mode)


def vllm_media_spec(cfg: VLLMConfig, traits: ModelFamily, processor: Any) -> MediaSpec:
    """What the vllm adapter decodes (ahead of time, in the engine): images, audio at the
    processor's rate, videos by the family's rule with the ``fps``/``max_frames`` args."""
    extractor = getattr(processor, "feature_extractor", None)
    rate = getattr(extractor, "sampling_rate", None)
    return MediaSpec(
        images=True,
        audio=True,
        audio_rate=int(rate) if rate else None,
        video=frame_sampling(traits, cfg.fps or traits.default_fps, cfg.max_frames or traits.default_max_frames),
        video_backend=cfg.video_backend,
    )


def audio_limit_seconds(processor: Any) -> float | None:
    """The longest clip the checkpoint's audio encoder takes, from its processor's feature extractor.

    Whisper-style extractors (Qwen2-Audio, Qwen2.5-Omni, Whisper) pad or cut every clip to
    ``n_samples`` samples (``chunk_length`` seconds, 30): that is the limit. None when the
    processor has no such extractor (nothing known; the engine's processor decides).
    """
    extractor = next(
        (e for e in (getattr(processor, a, None) for a in ("feature_extractor", "audio_processor")) if e is not None),
        None,
    )
    if extractor is None:
        return None
    rate = getattr(extractor, "sampling_rate", None)
    samples = getattr(extractor, "n_samples", None)
    if isinstance(samples, int) and samples > 0 and rate:
        return samples / float(rate)
    chunk = getattr(extractor, "chunk_length", None)
    return float(chunk) if isinstance(chunk, (int, float)) and chunk > 0 else None


def fit_long_audio(
    clips: list[tuple[np.ndarray, int]],
    limit_s: float | None,
    policy: LongAudio,
    where: str,
    model_name: str = "vllm",
) -> tuple[list[list[tuple[np.ndarray, int]]], dict[str, Any]]:
    """Apply the ``long_audio`` policy to a request's decoded clips ``(waveform, rate)``.

    Returns the clip lists to send (one prompt each: several only under ``chunk``) and what to
    record in the response's ``extra``: always ``audio_seconds`` (all clips); when a clip is
    longer than ``limit_s``, ``long_audio_policy`` and ``truncated_audio_s`` / ``audio_windows``.
    Under ``error`` (and ``chunk`` with several clips) a :class:`SampleError` names the sample,
    the clip's duration and the limit.
    """
    extra: dict[str, Any] = {"audio_seconds": round(sum(len(w) / r for w, r in clips), 3)}
    too_long = [n for n, (w, r) in enumerate(clips) if limit_s is not None and len(w) > limit_s * r]
    if not too_long or limit_s is None:
        return [clips], extra
    first = too_long[0]
    seconds = len(clips[first][0]) / clips[first][1]
    if policy == "error":
        raise SampleError(
            f"{where}: audio {first} is {seconds:.1f}s, longer than the {limit_s:g}s the audio encoder of "
            f"model {model_name!r} takes (its processor would cut the rest unrecorded); set long_audio=chunk "
            f"(windows answered separately and joined) or long_audio=truncate (first {limit_s:g}s only), or use "
            f"an adapter that reads long audio (aero, whisper, qwen2_audio)"
        )
    if policy == "truncate":
        kept, cut = [], 0.0
        for wave, rate in clips:
            keep = int(limit_s * rate)
            cut += max(0, len(wave) - keep) / rate
            kept.append((wave[:keep], rate))
        return [kept], {**extra, "long_audio_policy": "truncate", "truncated_audio_s": round(cut, 3)}
    if len(clips) > 1:
        raise SampleError(
            f"{where}: audio {first} is {seconds:.1f}s, longer than the {limit_s:g}s model {model_name!r} takes, "
            f"in a prompt with {len(clips)} clips; only single-audio prompts can be chunked. Use "
            f"long_audio=truncate or shorter clips"
        )
    wave, rate = clips[0]
    pieces = max(1, math.ceil(len(wave) / int(limit_s * rate)))
    bounds = np.linspace(0, len(wave), pieces + 1).round().astype(int)
    windows = [[(wave[a:b], rate)] for a, b in zip(bounds[:-1], bounds[1:])]
    return windows, {**extra, "long_audio_policy": "chunk", "audio_windows": len(windows)}


def request_to_vllm_input(
    request: Request,
    render: Callable[[list[dict[str, Any]], bool], str],
    spec: MediaSpec,
    *,
    traits: ModelFamily = GENERIC,
    system_prompt: str | None = None,
) -> dict[str, Any]:
    """Convert one request to a vLLM prompt dict ``{"prompt", "multi_modal_data"?, "mm_processor_kwargs"?}``.

    ``render(messages, continue_final)`` applies the model's chat template to HF-format chat
    messages (media parts as ``{"type": "image"|"video"|"audio"}`` placeholders, in order). Media
    are decoded by :mod:`lmms_eval.media` with ``spec`` (the same calls the engine makes ahead of
    time): videos sampled by the family's rule, audio resampled to the processor's rate. No
    audio limit applies here (see :func:`request_to_vllm_inputs`).
    """
    return request_to_vllm_inputs(request, render, spec, traits=traits, system_prompt=system_prompt)[0][0]


def request_to_vllm_inputs(
    request: Request,
    render: Callable[[list[dict[str, Any]], bool], str],
    spec: MediaSpec,
    *,
    traits: ModelFamily = GENERIC,
    system_prompt: str | None = None,
    audio_limit_s: float | None = None,
    long_audio: LongAudio = "error",
    model_name: str = "vllm",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """:func:`request_to_vllm_input` with the ``long_audio`` policy (:func:`fit_long_audio`) for
    clips longer than ``audio_limit_s``: (the prompt dicts, one per audio window; the response's
    ``extra``: ``audio_seconds`` and what the policy did)."""
    chat = to_hf_chat(request.messages, system_prompt)
    continue_final = bool(chat.messages) and chat.messages[-1]["role"] == "assistant"
    out: dict[str, Any] = {"prompt": render(chat.messages, continue_final)}
    mm: dict[str, list[Any]] = {}
    where = request.label()
    if chat.images:
        mm["image"] = [load_image(p) for p in chat.images]
    if chat.videos:
        sampling = spec.video or frame_sampling(traits, None, traits.default_max_frames)
        clips = [load_video(v, sampling, spec.video_backend, where) for v in chat.videos]
        mm["video"] = [video_input(c, traits.frames_fps_fallback, traits.video_metadata) for c in clips]
        if traits.video_metadata:
            out["mm_processor_kwargs"] = {"do_sample_frames": False}
    if not chat.audios:
        if mm:
            out["multi_modal_data"] = mm
        return [out], {}
    waves = [load_audio(a, spec.audio_rate, f"{where}, audio {n}") for n, a in enumerate(chat.audios)]
    windows, extra = fit_long_audio(waves, audio_limit_s, long_audio, where, model_name)
    return [{**out, "multi_modal_data": {**mm, "audio": window}} for window in windows], extra


def join_generated(pieces: Sequence[Generated], params: GenerationParams) -> Generated:
    """The outputs of a request's audio windows as one: texts (each cut at its stop string) joined
    in order with a space, token counts summed, the last window's finish reason."""
    if len(pieces) == 1:
        return pieces[0]
    texts = (params.cut(p.text).strip() for p in pieces)
    prompt = [p.prompt_tokens for p in pieces]
    completion = [p.completion_tokens for p in pieces]
    return Generated(
        text=" ".join(t for t in texts if t),
        prompt_tokens=None if None in prompt else sum(t for t in prompt if t is not None),
        completion_tokens=None if None in completion else sum(t for t in completion if t is not None),
        finish_reason=pieces[-1].finish_reason,
    )


def generated_to_response(gen: Generated, params: GenerationParams, latency_s: float, batch_size: int) -> Response:
    """Build the :class:`Response`; text is cut at the first stop string (vLLM already drops it)."""
    return Response(
        text=params.cut(gen.text),
        prompt_tokens=gen.prompt_tokens,
        completion_tokens=gen.completion_tokens,
        latency_s=latency_s,
        batch_size=batch_size,
        extra={"finish_reason": gen.finish_reason} if gen.finish_reason else {},
    )


def engine_kwargs(cfg: VLLMConfig) -> dict[str, Any]:
    """``vllm.LLM(**kwargs)`` from the adapter config: only what the user set, plus the model."""
    out: dict[str, Any] = {
        "model": cfg.pretrained,
        "tensor_parallel_size": cfg.tensor_parallel_size,
        "trust_remote_code": cfg.trust_remote_code,
    }
    optional = {
        "revision": cfg.revision,
        "dtype": None if cfg.dtype == "auto" else cfg.dtype,
        "gpu_memory_utilization": cfg.gpu_memory_utilization,
        "max_model_len": cfg.max_model_len,
        "max_num_seqs": cfg.max_num_seqs,
        "seed": cfg.seed,
        "limit_mm_per_prompt": cfg.limit_mm_per_prompt,
        "mm_processor_kwargs": cfg.mm_processor_kwargs,
        "enforce_eager": cfg.enforce_eager or None,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    clash = set(out) & set(cfg.engine_kwargs or {})
    if clash:
        raise UsageError(f"engine_kwargs repeats {sorted(clash)}; set them as model args instead")
    out.update(cfg.engine_kwargs or {})
    return out


def dp_device_groups(dp: int, tp: int, visible: str | None) -> list[str]:
    """``CUDA_VISIBLE_DEVICES`` value for each data-parallel replica (``tp`` GPUs each)."""
    ids = [d.strip() for d in visible.split(",") if d.strip()] if visible else None
    if ids is None:
        try:
            import torch

            ids = [str(i) for i in range(torch.cuda.device_count())]
        except Exception:
            ids = []
    if len(ids) < dp * tp:
        raise UsageError(
            f"data_parallel_size={dp} x tensor_parallel_size={tp} needs {dp * tp} GPUs, {len(ids)} visible"
        )
    return [",".join(ids[r * tp : (r + 1) * tp]) for r in range(dp)]


# --------------------------------------------------------------------------- engines


def make_vllm_engine(kwargs: dict[str, Any]) -> Any:
    """Default engine factory: a real ``vllm.LLM``."""
    vllm = require_vllm()
    return vllm.LLM(**kwargs)


# --------------------------------------------------------------------------- adapter


class VLLMConfig(ModelConfig):
    """Model args of :class:`VLLM` (engine args left unset keep vLLM's own defaults)."""

    pretrained: str
    revision: str | None = None
    dtype: str = "auto"
    tensor_parallel_size: int = Field(1, ge=1)
    data_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float | None = None
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    seed: int | None = None
    trust_remote_code: bool = False
    enforce_eager: bool = False
    limit_mm_per_prompt: dict[str, int] | None = None
    mm_processor_kwargs: dict[str, Any] | None = None
    engine_kwargs: dict[str, Any] | None = None
    batch_size: int | None = Field(256, ge=1)
    """A cap on the requests per engine call (``--batch_size auto`` takes it)."""
    system_prompt: str | None = None
    chat_template: str | None = None
    max_new_tokens: int | None = Field(1024, ge=1)
    """Used when a task's generation parameters give no ``max_new_tokens``."""
    family: str = "auto"
    """Model-family traits (frame multiple, sampling rule, fps fallback): auto = from the checkpoint's model_type."""
    max_frames: int | None = Field(None, ge=1)
    """At most this many frames per video (None: the family's default, 32)."""
    fps: float | None = Field(None, gt=0)
    video_backend: str | None = None
    long_audio: LongAudio = "error"
    """A clip longer than the audio encoder takes: error (that sample's error record), truncate or chunk."""
    max_audio_seconds: float | None = Field(None, gt=0)
    """The longest clip sent whole (None: the processor's feature-extractor window, e.g. 30 s)."""


class VLLM(Model[VLLMConfig]):
    """Offline ``vllm.LLM`` engine for image/video/audio chat models (options scored by ``prompt_logprobs``)."""

    name: ClassVar[str] = "vllm"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video", "audio"})
    Config: ClassVar[type[ModelConfig]] = VLLMConfig
    renamed_args: ClassVar[dict[str, str]] = {"frame_multiple": "family"}
    scores_choices: ClassVar[bool] = True
    score_choices = score_choice_requests  # likelihood scoring through prompt_logprobs (see there)

    def __init__(self, config: VLLMConfig | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.vllm = require_vllm()
        hub = hub_kwargs(cfg.pretrained, cfg.revision)  # a hub id neither cached nor reachable fails now, in one line
        self.template = self._load_template(cfg, hub)
        self.traits = self._family(cfg, hub)
        self.audio_limit_s = cfg.max_audio_seconds or audio_limit_seconds(self.template)
        kwargs = engine_kwargs(cfg)
        if cfg.data_parallel_size > 1:
            groups = dp_device_groups(
                cfg.data_parallel_size, cfg.tensor_parallel_size, os.environ.get("CUDA_VISIBLE_DEVICES")
            )
            self.engine: Any = ReplicaPool(cfg.data_parallel_size, kwargs, groups)
        else:
            self.engine = LocalEngine(kwargs)

    def _family(self, cfg: VLLMConfig, hub: dict[str, Any]) -> ModelFamily:
        if cfg.family != "auto":
            return family(cfg.family)
        from transformers import AutoConfig

        try:
            hf_config = AutoConfig.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code, **hub
            )
        except Exception:  # noqa: BLE001 - no readable config: no family traits
            return GENERIC
        return family_of_model_type(getattr(hf_config, "model_type", None))

    @staticmethod
    def _load_template(cfg: VLLMConfig, hub: dict[str, Any]) -> Any:
        """The checkpoint's processor (or tokenizer) to render chat templates with."""
        from transformers import AutoProcessor, AutoTokenizer

        try:
            proc = AutoProcessor.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code, **hub
            )
        except Exception:
            proc = AutoTokenizer.from_pretrained(
                cfg.pretrained, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code, **hub
            )
        if cfg.chat_template:
            text = cfg.chat_template
            if os.path.isfile(text):
                with open(text, encoding="utf-8") as fh:
                    text = fh.read()
            proc.chat_template = text
        if not getattr(proc, "chat_template", None):
            raise UsageError(f"{cfg.pretrained}: no chat template; pass chat_template=<path to .jinja>")
        return proc

    @property
    def media_spec(self) -> MediaSpec:
        return vllm_media_spec(self.config, self.traits, self.template)

    def render(self, messages: list[dict[str, Any]], continue_final: bool, close_reply: bool = False) -> str:
        return str(
            self.template.apply_chat_template(
                messages,
                tokenize=False,
                add_generation_prompt=not continue_final and not close_reply,  # close_reply: a finished reply
                continue_final_message=continue_final and not close_reply,
            )
        )

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        cfg = self.config
        spec = self.media_spec
        results: list[Response | None] = [None] * len(requests)
        prompts: list[dict[str, Any]] = []
        sampling: list[dict[str, Any]] = []
        # request index -> (its generation params, its response extra, how many prompts it sent)
        sent: dict[int, tuple[GenerationParams, dict[str, Any], int]] = {}
        for i, request in enumerate(requests):
            try:
                own, extra = request_to_vllm_inputs(
                    request,
                    self.render,
                    spec,
                    traits=self.traits,
                    system_prompt=cfg.system_prompt,
                    audio_limit_s=self.audio_limit_s,
                    long_audio=cfg.long_audio,
                    model_name=self.name,
                )
            except (SampleError, OSError, ValueError) as exc:
                results[i] = Response.failed(f"{type(exc).__name__}: {exc}")
                continue
            request_params = request.params.with_default_max_new_tokens(self.default_max_new_tokens)
            prompts.extend(own)
            sampling.extend([request_params.to_vllm(self.default_max_new_tokens or 1024)] * len(own))
            sent[i] = (request_params, extra, len(own))
        if prompts:
            start = time.perf_counter()
            generated = self.engine.generate(prompts, sampling)
            share = (time.perf_counter() - start) / len(prompts)
            at = 0
            for i, (request_params, extra, count) in sent.items():
                gen = join_generated(generated[at : at + count], request_params)
                at += count
                response = generated_to_response(gen, request_params, round(share * count, 4), len(prompts))
                response.extra = {**extra, **response.extra}
                results[i] = response
        return [r if r is not None else Response.failed("no output") for r in results]

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["resolved"] = {
            "vllm": getattr(self.vllm, "__version__", None),
            "engine_kwargs": engine_kwargs(self.config),
            "family": self.traits.name,
            "audio_limit_s": self.audio_limit_s,
        }
        return out

    def close(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()
            self.engine = None
