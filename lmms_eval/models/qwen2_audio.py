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

Every response records the decoded duration (``extra["audio_seconds"]``) and, when the policy
acted, ``extra["long_audio_policy"]``.

Example: ``lmms-eval --model qwen2_audio --model_args pretrained=Qwen/Qwen2-Audio-7B-Instruct --batch_size 8``
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from lmms_eval.api.errors import SampleError
from lmms_eval.api.model import ModelConfig
from lmms_eval.api.request import Request
from lmms_eval.models.families import FAMILIES, ModelFamily
from lmms_eval.models.hf.audio import AudioPrompt, ChatAudioConfig, ChatAudioModel, apply_long_audio_policy
from lmms_eval.models.hf.base import Job
from lmms_eval.models.hf.chat import chat_conversation
from lmms_eval.models.hf.choices import ChoiceJob, audio_choice_job, encode_audio_texts


class Qwen2AudioConfig(ChatAudioConfig):
    """``--model_args`` of ``qwen2_audio``."""

    pretrained: str = "Qwen/Qwen2-Audio-7B-Instruct"
    max_new_tokens: int | None = Field(1024, ge=1)


class Qwen2Audio(ChatAudioModel[Qwen2AudioConfig]):
    """Qwen2-Audio-Instruct: batched, left-padded greedy (or task-specified) generation."""

    name: ClassVar[str] = "qwen2_audio"
    Config: ClassVar[type[ModelConfig]] = Qwen2AudioConfig
    family: ClassVar[ModelFamily] = FAMILIES["qwen2_audio"]
    scores_choices: ClassVar[bool] = True

    def model_class(self) -> Any:
        from transformers import Qwen2AudioForConditionalGeneration

        return Qwen2AudioForConditionalGeneration

    def request_jobs(self, index: int, request: Request) -> tuple[list[Job], dict[str, Any]]:
        cfg = self.config
        waves, extra = self.read_request(request)
        windows, too_long = self.split_long(request, waves, cfg.chunk_seconds, extra)
        if too_long:
            where = request.label()
            if cfg.long_audio != "truncate":
                raise SampleError(
                    f"{where}: audio {too_long[0]} is longer than {cfg.chunk_seconds:g}s in a prompt with "
                    f"{len(waves)} clips; only single-audio prompts can be chunked. Use long_audio=truncate "
                    f"or shorter clips"
                )
            cut = 0.0
            for n in too_long:
                pieces, info = apply_long_audio_policy(
                    waves[n], self.rate, cfg.chunk_seconds, "truncate", where, self.name
                )
                waves[n] = pieces[0]
                cut += info["truncated_audio_s"]
            extra.update(truncated_audio_s=round(cut, 3), long_audio_policy="truncate")
        conversation = self.conversation(request)
        prompt = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        return self.jobs_of(index, request, [AudioPrompt(prompt, clips) for clips in windows]), extra

    def conversation(self, request: Request) -> list[dict[str, Any]]:
        """The request as the chat template's conversation (one audio slot per audio part)."""
        return chat_conversation(request.messages, lambda n: [{"type": "audio", "audio_url": f"audio_{n}"}])

    # likelihood scoring (output_type: multiple_choice): see lmms_eval.models.hf.choices
    def choice_job(self, index: int, request: Request) -> ChoiceJob:
        jobs, extra = self.request_jobs(index, request)
        return audio_choice_job(self, index, request, [job.inputs for job in jobs], self.conversation(request), extra)

    def encode_choice_texts(self, texts: list[str], media: list[Any]) -> Any:
        return encode_audio_texts(self, texts, media)
