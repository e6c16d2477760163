"""Aero-1-Audio (``lmms-lab/Aero-1-Audio-1.5B``) through Hugging Face transformers remote code.

Aero is a Qwen2.5-1.5B language model with a Whisper-style audio encoder. Its checkpoint ships
its own modelling and processor code, so it loads through ``AutoModelForCausalLM`` and
``AutoProcessor`` with ``trust_remote_code=True`` (the default here).

Long audio, as the model card describes: Aero reads continuous audio of up to 15 minutes in one
prompt. The waveform (16 kHz) is cut into consecutive 30 s chunks (``chunk_seconds``); every
chunk becomes one audio placeholder of the chat template, in place of the request's audio part,
and the processor receives the list of chunks in placeholder order, so the language model sees
the whole recording at once. A trailing piece shorter than 50 ms (too short to hold a word or
to give the encoder one frame) is dropped and recorded as ``extra["dropped_tail_s"]``.

Audio longer than ``max_audio_seconds`` (900 s by default) is handled by the explicit
``long_audio`` argument: ``chunk`` (default) splits it into equal windows of at most
``max_audio_seconds``, answers each with the same prompt and joins the answers in order
(``extra["audio_windows"]``); ``truncate`` keeps the first ``max_audio_seconds``
(``extra["truncated_audio_s"]``); ``error`` fails the sample.

Batching: all requests of a batch are processed in one ``generate`` call with left padding; a
request whose audio cannot be read gets ``Response.error`` and the others keep their own
outputs (outputs are matched to requests by index, never by position in a shortened list).

Example: ``lmms-eval --model aero --model_args pretrained=lmms-lab/Aero-1-Audio-1.5B,batch_size=4``
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import Field
from transformers import AutoModelForCausalLM, AutoProcessor

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
    split_fixed,
)

MIN_TAIL_SECONDS = 0.05


class AeroConfig(HFAudioConfig):
    """``--model_args`` of ``aero``."""

    pretrained: str = "lmms-lab/Aero-1-Audio-1.5B"
    trust_remote_code: bool = True
    max_new_tokens: int | None = Field(4096, ge=1)
    chunk_seconds: float = Field(30.0, gt=0, description="length of each audio placeholder's clip")
    max_audio_seconds: float = Field(900.0, gt=0, description="longest audio read in one prompt")
    long_audio: LongAudioPolicy = "chunk"


class Aero(Model):
    """Aero-1-Audio: whole long recordings in one prompt as a list of 30 s chunks."""

    name: ClassVar[str] = "aero"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "audio"})
    Config: ClassVar[type[AeroConfig]] = AeroConfig

    def __init__(self, config: AeroConfig | None = None) -> None:
        super().__init__(config)
        cfg: AeroConfig = self.config
        self.max_batch_size = cfg.batch_size
        self.device = resolve_device(cfg.device)
        self.dtype = resolve_dtype(cfg.dtype, self.device)
        self.processor = load_or_explain(
            "processor", cfg.pretrained,
            lambda: AutoProcessor.from_pretrained(cfg.pretrained, revision=cfg.revision,
                                                  trust_remote_code=cfg.trust_remote_code),
        )
        tokenizer = getattr(self.processor, "tokenizer", None)
        if tokenizer is None or not getattr(self.processor, "chat_template", None):
            raise UsageError(
                f"the processor of {cfg.pretrained!r} has no tokenizer or chat template; aero needs the "
                f"checkpoint's own processor (trust_remote_code=true)"
            )
        tokenizer.padding_side = "left"
        extractor = getattr(self.processor, "feature_extractor", None)
        self.rate = int(getattr(extractor, "sampling_rate", 16000))
        encoder_seconds = getattr(extractor, "n_samples", 30 * self.rate) / self.rate
        if cfg.chunk_seconds > encoder_seconds:
            raise UsageError(
                f"model 'aero' argument 'chunk_seconds': {cfg.chunk_seconds:g} is longer than the "
                f"{encoder_seconds:g}s each audio placeholder takes; use chunk_seconds<={encoder_seconds:g}"
            )
        if cfg.max_audio_seconds < cfg.chunk_seconds:
            raise UsageError("model 'aero': max_audio_seconds must be at least chunk_seconds")
        self.model = place_model(
            load_or_explain(
                "model", cfg.pretrained,
                lambda: AutoModelForCausalLM.from_pretrained(cfg.pretrained, **pretrained_kwargs(cfg, self.dtype)),
            ),
            cfg, self.device,
        )
        eos = eos_token_ids(self.model, tokenizer, extra_tokens=("<|im_end|>",))
        self.runner = ChatAudioRunner(
            self.model, self.processor, self.rate, cfg.batch_size, eos, pad_token_id(self.model, tokenizer, eos)
        )
        self._placeholders = [
            getattr(self.processor, attr, None) for attr in ("audio_token", "audio_bos_token", "audio_eos_token")
        ]

    def _chunks(self, wave: np.ndarray) -> tuple[list[np.ndarray], float]:
        return split_fixed(wave, self.rate, self.config.chunk_seconds, MIN_TAIL_SECONDS)

    def _jobs(self, index: int, request: Request, extras: dict[int, dict[str, Any]]) -> list[AudioJob]:
        cfg: AeroConfig = self.config
        reject_other_media(request, self.name)
        check_no_placeholder_text(request, [p for p in self._placeholders if p])
        plan = map_gen_kwargs(request.gen_kwargs, cfg.max_new_tokens)
        waves = load_request_audio(request, self.rate)
        where = request_label(request)
        extra: dict[str, Any] = {"ignored_gen_kwargs": list(plan.ignored)} if plan.ignored else {}
        # windows[k] = the clips of job k, one list of waveforms per audio part.
        windows: list[list[np.ndarray]] = [waves]
        too_long = [n for n, w in enumerate(waves) if len(w) > cfg.max_audio_seconds * self.rate]
        if too_long and len(waves) == 1:
            pieces, info = apply_long_audio_policy(
                waves[0], self.rate, cfg.max_audio_seconds, cfg.long_audio, where, self.name
            )
            windows = [[p] for p in pieces]
            extra.update(info)
        elif too_long:
            raise SampleError(
                f"{where}: audio {too_long[0]} is longer than max_audio_seconds={cfg.max_audio_seconds:g} in a "
                f"prompt with {len(waves)} clips; shorten the clips or raise max_audio_seconds"
            )
        jobs: list[AudioJob] = []
        dropped = 0.0
        for k, parts in enumerate(windows):
            chunked = []
            for wave in parts:
                chunks, lost = self._chunks(wave)
                chunked.append(chunks)
                dropped += lost
            conversation = chat_conversation(
                request.messages,
                lambda n, chunked=chunked: [{"type": "audio_url", "audio": "placeholder"} for _ in chunked[n]],
            )
            prompt = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            clips = [chunk for chunks in chunked for chunk in chunks]
            jobs.append(AudioJob(index, k, prompt, clips, plan))
        if dropped:
            extra["dropped_tail_s"] = round(dropped, 4)
        extra["audio_chunks"] = sum(len(j.clips) for j in jobs)
        extras[index] = extra
        return jobs

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
