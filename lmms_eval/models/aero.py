"""Aero-1-Audio (``lmms-lab/Aero-1-Audio-1.5B``) through Hugging Face transformers remote code.

Aero is a Qwen2.5-1.5B language model with a Whisper-style audio encoder. Its checkpoint ships
its own modelling and processor code, so it loads through ``AutoModelForCausalLM`` and
``AutoProcessor`` with ``trust_remote_code=True`` (the default here).

The real interface (``AeroProcessor`` in the checkpoint's remote code, checked against
EvolvingLMMs-Lab/lmms-engine ``src/lmms_engine/models/aero/processing_aero.py`` @7bb1e6d and
EvolvingLMMs-Lab/Aero-1 ``aero_timestamp_asr/transcribe.py`` @de72158): the processor takes the
clips as ``audios=`` with ``sampling_rate=16000``; its Whisper feature extractor sits at
``processor.audio_processor`` (not ``feature_extractor``) and pads *or cuts* every clip to 30 s
(``padding="max_length"``), so a clip longer than 30 s would lose its end silently. Each clip
fills one ``<|AUDIO|>`` placeholder, which the processor expands to
``((frames - 1) // 2 + 1 - 2) // 2 + 1`` audio tokens (750 for a full 30 s chunk). The chat
template writes ``<|AUDIO|>\n`` for every content entry with an ``audio``/``audio_url`` key and a
default ``You are a helpful assistant.`` system turn. Generation ends at ``<|im_end|>`` and pads
with ``<|endoftext|>``; the authors' own transcription example uses ``max_new_tokens=4096``.

Long audio, as the model card describes: Aero reads continuous audio of up to 15 minutes in one
prompt. The waveform (16 kHz) is cut into consecutive 30 s chunks (``chunk_seconds``, 480,000
samples, as the authors' ``split_audio``); every chunk becomes one audio placeholder of the chat
template, in place of the request's audio part, and the processor receives the list of chunks in
placeholder order, so the language model sees the whole recording at once. A trailing piece
shorter than 50 ms (at most one audio token by the formula above, none below 3 frames =
20 ms, which misaligns placeholders and features) is dropped and recorded as
``extra["dropped_tail_s"]``. Every response records ``extra["audio_seconds"]`` (decoded
duration), ``extra["audio_chunks"]`` and ``extra["long_audio_policy"]`` (``whole`` when the
recording fits in one prompt).

Audio longer than ``max_audio_seconds`` (900 s by default) is handled by the explicit
``long_audio`` argument, recorded as ``extra["long_audio_policy"]``: ``chunk`` (default) splits it
into equal windows of at most ``max_audio_seconds``, answers each with the same prompt and joins
the answers in order (``extra["audio_windows"]``); ``truncate`` keeps the first
``max_audio_seconds`` (``extra["truncated_audio_s"]``); ``error`` fails the sample.

Batching: all requests of a batch are processed in one ``generate`` call with left padding; a
request whose audio cannot be read gets ``Response.error`` and the others keep their own
outputs (outputs are matched to requests by index, never by position in a shortened list).

Example: ``lmms-eval --model aero --model_args pretrained=lmms-lab/Aero-1-Audio-1.5B --batch_size 4``
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import ModelConfig
from lmms_eval.api.request import Request
from lmms_eval.models.families import FAMILIES, ModelFamily
from lmms_eval.models.hf.audio import AudioPrompt, ChatAudioConfig, ChatAudioModel, split_fixed
from lmms_eval.models.hf.base import Job
from lmms_eval.models.hf.chat import chat_conversation
from lmms_eval.models.hf.choices import ChoiceJob, audio_choice_job, encode_audio_texts

MIN_TAIL_SECONDS = 0.05


class AeroConfig(ChatAudioConfig):
    """``--model_args`` of ``aero``."""

    pretrained: str = "lmms-lab/Aero-1-Audio-1.5B"
    trust_remote_code: bool = True
    max_new_tokens: int | None = Field(4096, ge=1)
    chunk_seconds: float = Field(30.0, gt=0, description="length of each audio placeholder's clip")
    max_audio_seconds: float = Field(900.0, gt=0, description="longest audio read in one prompt")


class Aero(ChatAudioModel[AeroConfig]):
    """Aero-1-Audio: whole long recordings in one prompt as a list of 30 s chunks."""

    name: ClassVar[str] = "aero"
    Config: ClassVar[type[ModelConfig]] = AeroConfig
    family: ClassVar[ModelFamily] = FAMILIES["aero"]
    scores_choices: ClassVar[bool] = True

    def __init__(self, config: AeroConfig | None = None) -> None:
        cfg = config if config is not None else AeroConfig()
        if cfg.max_audio_seconds < cfg.chunk_seconds:
            raise UsageError("model 'aero': max_audio_seconds must be at least chunk_seconds")
        super().__init__(cfg)

    def model_class(self) -> Any:
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM

    def _chunks(self, wave: np.ndarray) -> tuple[list[np.ndarray], float]:
        return split_fixed(wave, self.rate, self.config.chunk_seconds, MIN_TAIL_SECONDS)

    def request_jobs(self, index: int, request: Request) -> tuple[list[Job], dict[str, Any]]:
        prompts, extra = self.window_prompts(request)
        return self.jobs_of(index, request, [prompt for prompt, _ in prompts]), extra

    # likelihood scoring (output_type: multiple_choice): see lmms_eval.models.hf.choices
    def choice_job(self, index: int, request: Request) -> ChoiceJob:
        prompts, extra = self.window_prompts(request)
        return audio_choice_job(self, index, request, [p for p, _ in prompts], prompts[0][1], extra)

    def encode_choice_texts(self, texts: list[str], media: list[Any]) -> Any:
        return encode_audio_texts(self, texts, media)

    def window_prompts(self, request: Request) -> tuple[list[tuple[AudioPrompt, list[dict[str, Any]]]], dict[str, Any]]:
        """Per audio window: the prompt with its chunks and the conversation it was rendered from;
        and the response's ``extra``."""
        cfg = self.config
        waves, extra = self.read_request(request)
        # windows[k] = the clips of job k, one list of waveforms per audio part.
        windows, too_long = self.split_long(request, waves, cfg.max_audio_seconds, extra)
        if too_long:
            raise SampleError(
                f"{request.label()}: audio {too_long[0]} is longer than max_audio_seconds="
                f"{cfg.max_audio_seconds:g} in a prompt with {len(waves)} clips; shorten the clips or raise "
                f"max_audio_seconds"
            )
        prompts: list[tuple[AudioPrompt, list[dict[str, Any]]]] = []
        dropped = 0.0
        for parts in windows:
            chunked = []
            for wave in parts:
                chunks, lost = self._chunks(wave)
                chunked.append(chunks)
                dropped += lost

            def entries(n: int, chunked: list[list[np.ndarray]] = chunked) -> list[dict[str, Any]]:
                return [{"type": "audio_url", "audio": "placeholder"} for _ in chunked[n]]

            conversation = chat_conversation(request.messages, entries)
            prompt = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
            prompts.append((AudioPrompt(prompt, [chunk for chunks in chunked for chunk in chunks]), conversation))
        if dropped:
            extra["dropped_tail_s"] = round(dropped, 4)
        extra["audio_chunks"] = sum(len(p.clips) for p, _ in prompts)
        if "long_audio_policy" not in extra and len(windows) == 1:
            extra["long_audio_policy"] = "whole"  # every sample of the audio is in the one prompt
        return prompts, extra
