"""Whisper speech recognition (``openai/whisper-*``) through Hugging Face transformers.

Whisper transcribes audio; the request's text prompt is not used (an ASR task's instruction
such as "Transcribe the audio" is not something Whisper reads). Each request must hold exactly
one audio part, resampled to the feature extractor's rate (16 kHz).

Long audio is transcribed in full, never cut at 30 s: clips longer than 30 s are converted to
log-mel features without truncation and decoded with transformers' long-form sequential
algorithm (``WhisperForConditionalGeneration.generate`` with an attention mask over the
un-truncated features): the decoder runs on consecutive 30 s windows, each window starting
where the previous one's last predicted timestamp ended, and the windows' tokens are joined.
Long-form decoding always predicts timestamps (the seek rule needs them). Responses record
``extra["audio_seconds"]`` (decoded duration) and, for long clips, ``long_audio_policy:
"sequential"``, ``covered_s`` (end of the last segment) and ``n_segments``. Clips of up to 30 s
use ordinary short-form decoding. Short and long clips are never mixed in one ``generate``
call, and features are computed per clip, so a clip's transcript does not depend on what it is
batched with.

Arguments: ``language`` (``en``/``english``/``<|en|>``; unset = detected per clip by
multilingual checkpoints), ``task`` (``transcribe`` or ``translate`` into English),
``return_timestamps`` (also record ``extra["segments"]`` with start/end seconds and text),
``condition_on_prev_tokens`` (long-form: prompt each window with the previous text).
``max_new_tokens`` (from the task's ``gen_kwargs`` or the adapter argument) is per 30 s window
and is capped to what the decoder's positions allow; unset leaves the checkpoint's own limit.

Example: ``lmms-eval --model whisper --model_args pretrained=openai/whisper-large-v3,language=en``
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from transformers.models.whisper.tokenization_whisper import LANGUAGES, TO_LANGUAGE_CODE

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.model import ModelConfig
from lmms_eval.api.request import Request
from lmms_eval.media import MediaSpec
from lmms_eval.models.hf.audio import reject_other_media, request_audio
from lmms_eval.models.hf.base import HFModel, HFModelConfig, Job
from lmms_eval.models.hf.generation import Completion, to_device
from lmms_eval.models.hf.placement import input_device

INIT_TOKENS = 4  # <|startoftranscript|> <|lang|> <|task|> <|notimestamps|>


class _QuietWindowLengthWarning(logging.Filter):
    """Long-form decoding stores each window's ``max_length`` in the generation config, so
    transformers warns "Both `max_new_tokens` and `max_length` seem to have been set" on every
    later window. The warning is about transformers' own bookkeeping; drop just that record."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Both `max_new_tokens`")


def _install_warning_filter() -> None:
    target = logging.getLogger("transformers.generation.utils")
    if not any(isinstance(f, _QuietWindowLengthWarning) for f in target.filters):
        target.addFilter(_QuietWindowLengthWarning())


class WhisperArgs(HFModelConfig):
    """``--model_args`` of ``whisper``."""

    pretrained: str = "openai/whisper-large-v3"
    language: str | None = None
    task: Literal["transcribe", "translate"] = "transcribe"
    return_timestamps: bool = False
    condition_on_prev_tokens: bool = False


@dataclass
class _Clip:
    """One request's audio as log-mel features (computed per clip, so batching cannot change them)."""

    features: np.ndarray
    seconds: float
    long: bool


class Whisper(HFModel[WhisperArgs]):
    """Whisper ASR with short-form and long-form (sequential, > 30 s) decoding."""

    name: ClassVar[str] = "whisper"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    Config: ClassVar[type[ModelConfig]] = WhisperArgs
    piece_joiner: ClassVar[str] = ""

    def __init__(self, config: WhisperArgs | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.processor = self.load_processor()
        self.extractor = self.processor.feature_extractor
        self.tokenizer = self.processor.tokenizer
        self.rate = int(self.extractor.sampling_rate)
        self.window_samples = int(self.extractor.n_samples)
        self.model = self.load_model()
        self.language, self.task = self._language_and_task(cfg)
        positions = int(self.model.config.max_target_positions)
        self.max_new_tokens_cap = positions - INIT_TOKENS - (positions // 2 if cfg.condition_on_prev_tokens else 0)
        _install_warning_filter()
        self.encoder_calls = 0  # windows the encoder ran on (tests and logs read it)
        self.model.get_encoder().register_forward_hook(self._count_encoder_call)

    def model_class(self) -> Any:
        from transformers import WhisperForConditionalGeneration

        return WhisperForConditionalGeneration

    def _count_encoder_call(self, module: Any, args: Any, output: Any) -> None:
        self.encoder_calls += 1

    def _language_and_task(self, cfg: WhisperArgs) -> tuple[str | None, str | None]:
        """Validate ``language``/``task`` against the checkpoint; return what to pass to generate."""
        gen = self.model.generation_config
        multilingual = bool(getattr(gen, "is_multilingual", False)) and hasattr(gen, "lang_to_id")
        language = cfg.language.strip().lower() if cfg.language else None
        if not multilingual:
            if (language and language not in ("en", "english", "<|en|>")) or cfg.task == "translate":
                raise UsageError(
                    f"{cfg.pretrained!r} is an English-only Whisper checkpoint: drop language=/task=translate "
                    f"or use a multilingual checkpoint (e.g. openai/whisper-large-v3)"
                )
            return None, None
        if language is not None:
            code = TO_LANGUAGE_CODE.get(language, language.strip("<|>"))
            if f"<|{code}|>" not in gen.lang_to_id:
                known = sorted(t.strip("<|>") for t in gen.lang_to_id)
                raise UsageError(
                    f"model 'whisper' argument 'language': {cfg.language!r} is not a language of "
                    f"{cfg.pretrained!r}; use a code or name such as "
                    f"{', '.join(f'{k} ({LANGUAGES.get(k, k)})' for k in known[:8])}"
                )
            language = code
        if cfg.task not in getattr(gen, "task_to_id", {}):
            raise UsageError(f"{cfg.pretrained!r} has no {cfg.task!r} task in its generation config")
        return language, cfg.task

    # ---- preparing ------------------------------------------------------------------------
    @property
    def media_spec(self) -> MediaSpec:
        return MediaSpec(audio=True, audio_rate=self.rate)

    def request_jobs(self, index: int, request: Request) -> tuple[list[Job], dict[str, Any]]:
        reject_other_media(request, self.name)
        waves = request_audio(request, self.rate)
        if len(waves) != 1:
            raise SampleError(f"{request.label()}: whisper transcribes exactly one audio per request, got {len(waves)}")
        wave = waves[0]
        long = len(wave) > self.window_samples
        if long:  # every frame, no 30 s cut
            feats = self.extractor(
                wave, sampling_rate=self.rate, truncation=False, padding="longest", return_tensors="np"
            )["input_features"][0]
        else:  # padded to the 30 s window, as in training
            feats = self.extractor(wave, sampling_rate=self.rate, return_tensors="np")["input_features"][0]
        clip = _Clip(feats, len(wave) / self.rate, long)
        return [Job(index, 0, self.params_of(request), float(feats.shape[-1]), clip, group=long)], {}

    def _generate_kwargs(self, params: GenerationParams, long: bool) -> tuple[dict[str, Any], int | None]:
        kwargs = params.to_transformers(self.default_max_new_tokens)
        # Whisper's generate reads ``temperature`` itself: 0 means greedy, > 0 sampling (and a
        # list means temperature fallback). ``do_sample`` follows from it.
        if kwargs.pop("do_sample", False):
            kwargs["temperature"] = float(kwargs.get("temperature") or 1.0)
        else:
            kwargs["temperature"] = 0.0
            kwargs.pop("top_p", None)
            kwargs.pop("top_k", None)
        clamped = None
        if kwargs.get("max_new_tokens") is not None and kwargs["max_new_tokens"] > self.max_new_tokens_cap:
            clamped = kwargs["max_new_tokens"] = self.max_new_tokens_cap
        kwargs.update(
            language=self.language,
            task=self.task,
            return_timestamps=True if long else self.config.return_timestamps,
            return_segments=True,
        )
        if long:
            kwargs["condition_on_prev_tokens"] = self.config.condition_on_prev_tokens
        return kwargs, clamped

    # ---- generating -----------------------------------------------------------------------
    def run_batch(self, jobs: Sequence[Job]) -> list[Completion]:
        clips: list[_Clip] = [job.inputs for job in jobs]
        long = clips[0].long
        frames = max(c.features.shape[-1] for c in clips)
        feats = np.zeros((len(clips), clips[0].features.shape[0], frames), dtype=np.float32)
        mask = np.zeros((len(clips), frames), dtype=np.int64)
        for row, clip in enumerate(clips):
            feats[row, :, : clip.features.shape[-1]] = clip.features
            mask[row, : clip.features.shape[-1]] = 1
        inputs: dict[str, Any] = {"input_features": torch.from_numpy(feats)}
        if long:
            inputs["attention_mask"] = torch.from_numpy(mask)
        params = jobs[0].params
        kwargs, clamped = self._generate_kwargs(params, long)
        if params.sampling and params.seed is not None:
            torch.manual_seed(params.seed)
        with torch.inference_mode():
            output = self.model.generate(**to_device(inputs, input_device(self.model), self.dtype), **kwargs)
        return [self._completion(clip, output["segments"][row], params, clamped) for row, clip in enumerate(clips)]

    def _completion(
        self, clip: _Clip, segments: list[dict[str, Any]], params: GenerationParams, clamped: int | None
    ) -> Completion:
        tokens = [int(t) for seg in segments for t in seg["tokens"].tolist()]
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        extra: dict[str, Any] = {"audio_seconds": round(clip.seconds, 3), "long_form": clip.long}
        if clip.long:
            extra["long_audio_policy"] = "sequential"
            extra["covered_s"] = round(max((float(s["end"]) for s in segments), default=0.0), 2)
            extra["n_segments"] = len(segments)
        if self.config.return_timestamps:
            extra["segments"] = [
                {
                    "start": round(float(s["start"]), 2),
                    "end": round(float(s["end"]), 2),
                    "text": self.tokenizer.decode(s["tokens"].tolist(), skip_special_tokens=True),
                }
                for s in segments
            ]
        if clamped is not None:
            extra["max_new_tokens_per_window"] = clamped
        return Completion(
            text=params.cut(text.strip()),
            prompt_tokens=math.ceil(clip.seconds * self.rate / self.extractor.hop_length / 2),
            completion_tokens=len(tokens),
            extra=extra,
        )

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "language": self.language,
            "task": self.task,
            "max_new_tokens_cap_per_window": self.max_new_tokens_cap,
        }
