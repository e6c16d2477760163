"""Qwen2-Audio (``Qwen/Qwen2-Audio-7B-Instruct``) through Hugging Face transformers.

Prompts go through the processor's chat template; each audio part becomes an
``Audio N: <|audio_bos|><|AUDIO|><|audio_eos|>`` slot that the processor expands to the clip's
audio tokens. Audio is resampled to the feature extractor's rate (16 kHz).

Long audio: Qwen2-Audio's encoder sees at most 30 s (its feature extractor pads/cuts every clip to
30 s). What happens to a longer clip is the explicit ``long_audio`` argument:

* ``chunk`` (default): the clip is split into the fewest equal windows of at most
  ``chunk_seconds``; the same prompt is answered once per window (all windows of all requests
  are batched together) and the answers are joined in order with a space. This suits
  transcription; for questions about a whole long recording each window is answered on its
  own. Responses record ``extra["audio_windows"]``. ``max_new_tokens`` applies per window.
  Only single-audio prompts can be chunked; a prompt with several clips, one too long, is a
  sample error under ``chunk``.
* ``truncate``: only the first ``chunk_seconds`` are used; ``extra["truncated_audio_s"]`` says
  how much was cut.
* ``error``: the sample fails with a message naming it.

Example: ``lmms-eval --model qwen2_audio --model_args pretrained=Qwen/Qwen2-Audio-7B-Instruct,batch_size=8``
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import Field
from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import Model
from lmms_eval.api.request import Request, Response
from lmms_eval.models.hf_audio import (
    AudioJob,
    ChatAudioRunner,
    HFAudioConfig,
    LongAudioPolicy,
    apply_long_audio_policy,
    chat_conversation,
    check_no_placeholder_text,
    describe_load,
    eos_token_ids,
    gather_responses,
    load_or_explain,
    load_request_audio,
    map_gen_kwargs,
    pad_token_id,
    place_model,
    prepare_each,
    release_memory,
    pretrained_kwargs,
    reject_other_media,
    request_label,
    resolve_device,
    resolve_dtype,
)


class Qwen2AudioConfig(HFAudioConfig):
    """``--model_args`` of ``qwen2_audio``."""

    pretrained: str = "Qwen/Qwen2-Audio-7B-Instruct"
    max_new_tokens: int | None = Field(1024, ge=1)
    long_audio: LongAudioPolicy = "chunk"
    chunk_seconds: float = Field(30.0, gt=0)


class Qwen2Audio(Model):
    """Qwen2-Audio-Instruct: batched, left-padded greedy (or task-specified) generation."""

    name: ClassVar[str] = "qwen2_audio"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    Config: ClassVar[type[Qwen2AudioConfig]] = Qwen2AudioConfig

    def __init__(self, config: Qwen2AudioConfig | None = None) -> None:
        super().__init__(config)
        cfg: Qwen2AudioConfig = self.config
        self.max_batch_size = cfg.batch_size
        self.device = resolve_device(cfg.device)
        self.dtype = resolve_dtype(cfg.dtype, self.device)
        self.processor = load_or_explain(
            "processor", cfg.pretrained,
            lambda: AutoProcessor.from_pretrained(cfg.pretrained, revision=cfg.revision,
                                                  trust_remote_code=cfg.trust_remote_code),
        )
        self.processor.tokenizer.padding_side = "left"
        extractor = self.processor.feature_extractor
        self.rate = int(extractor.sampling_rate)
        encoder_seconds = extractor.n_samples / self.rate
        if cfg.chunk_seconds > encoder_seconds:
            raise UsageError(
                f"model 'qwen2_audio' argument 'chunk_seconds': {cfg.chunk_seconds:g} is longer than the "
                f"{encoder_seconds:g}s the audio encoder takes; use chunk_seconds<={encoder_seconds:g}"
            )
        self.model = place_model(
            load_or_explain(
                "model", cfg.pretrained,
                lambda: Qwen2AudioForConditionalGeneration.from_pretrained(cfg.pretrained, **pretrained_kwargs(cfg, self.dtype)),
            ),
            cfg, self.device,
        )
        tokenizer = self.processor.tokenizer
        eos = eos_token_ids(self.model, tokenizer, extra_tokens=("<|im_end|>",))
        self.runner = ChatAudioRunner(
            self.model, self.processor, self.rate, cfg.batch_size, eos, pad_token_id(self.model, tokenizer, eos)
        )
        self._placeholders = [
            getattr(self.processor, attr, None) for attr in ("audio_token", "audio_bos_token", "audio_eos_token")
        ]

    def _jobs(self, index: int, request: Request, extras: dict[int, dict[str, Any]]) -> list[AudioJob]:
        cfg: Qwen2AudioConfig = self.config
        reject_other_media(request, self.name)
        check_no_placeholder_text(request, [p for p in self._placeholders if p])
        plan = map_gen_kwargs(request.gen_kwargs, cfg.max_new_tokens)
        waves = load_request_audio(request, self.rate)
        where = request_label(request)
        extra: dict[str, Any] = {"ignored_gen_kwargs": list(plan.ignored)} if plan.ignored else {}
        windows: list[list[np.ndarray]] = [waves]
        too_long = [n for n, w in enumerate(waves) if len(w) > cfg.chunk_seconds * self.rate]
        if too_long and len(waves) == 1:
            pieces, info = apply_long_audio_policy(waves[0], self.rate, cfg.chunk_seconds, cfg.long_audio, where, self.name)
            windows = [[p] for p in pieces]
            extra.update(info)
        elif too_long:
            if cfg.long_audio != "truncate":
                raise SampleError(
                    f"{where}: audio {too_long[0]} is longer than {cfg.chunk_seconds:g}s in a prompt with "
                    f"{len(waves)} clips; only single-audio prompts can be chunked. Use long_audio=truncate "
                    f"or shorter clips"
                )
            cut = 0.0
            for n in too_long:
                pieces, info = apply_long_audio_policy(waves[n], self.rate, cfg.chunk_seconds, "truncate", where, self.name)
                waves[n] = pieces[0]
                cut += info["truncated_audio_s"]
            extra["truncated_audio_s"] = round(cut, 3)
        conversation = chat_conversation(
            request.messages, lambda n: [{"type": "audio", "audio_url": f"audio_{n}"}]
        )
        prompt = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        extras[index] = extra
        return [AudioJob(index, k, prompt, clips, plan) for k, clips in enumerate(windows)]

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One response per request, in order; a request whose audio cannot be read fails alone."""
        started = time.time()
        extras: dict[int, dict[str, Any]] = {}
        jobs, failures = prepare_each(requests, lambda i, r: self._jobs(i, r, extras))
        outputs = self.runner.run(jobs)
        return gather_responses(len(requests), failures, jobs, outputs, extras, started)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **describe_load(self.config, self.device, self.dtype)}

    def close(self) -> None:
        self.model = None
        self.runner = None
        release_memory()
