"""The base of the chat-template ``transformers`` adapters that take images, video (and audio).

:class:`HFProcessorModel` renders each request with the processor's chat template (media parts
as placeholders in order), decodes its media through :mod:`lmms_eval.media` with the adapter's
:attr:`~HFProcessorModel.media_spec` (the same call the engine makes ahead of time, so frames
decoded by the worker pool are found in the parts' caches), and batches through
:class:`~lmms_eval.models.hf.base.HFModel`'s one batching path.

Video sampling is ``fps``/``max_frames`` (model args) with the family's traits
(:mod:`lmms_eval.models.families`: frame multiple, uniform or LLaVA-Video stride sampling).
A video part's own hints win where they apply (see :class:`~lmms_eval.api.messages.Video`).

Audio (``hf_chat``) is never cut silently: the processor's Whisper-style feature extractor pads
or cuts every clip to its window (``n_samples`` / ``sampling_rate``, 30 s for real checkpoints),
so every response with audio records ``extra["audio_seconds"]`` and a longer clip gets the
adapter's explicit long-audio policy (:meth:`HFProcessorModel.long_audio_policy`; ``error`` unless
the adapter lets the user choose), recorded as ``extra["long_audio_policy"]``.

Likelihood scoring (``output_type: multiple_choice``): :meth:`HFProcessorModel.choice_job` renders
the prompt as generation does and each option as the closed assistant reply; the scoring itself
is :mod:`lmms_eval.models.hf.choices` (through :meth:`HFModel.score_choices`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
from pydantic import Field

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.model import ModelConfig
from lmms_eval.api.request import Request
from lmms_eval.media import FrameSampling, MediaSpec, VideoClip, load_audio, load_image, load_video
from lmms_eval.models.hf.audio import LongAudioPolicy, audio_feature_extractor, split_even
from lmms_eval.models.hf.base import HFModel, HFModelConfig, Job
from lmms_eval.models.hf.chat import ChatInput, to_hf_chat
from lmms_eval.models.hf.choices import ChoiceJob, reply_messages
from lmms_eval.models.hf.generation import Completion, eos_token_ids, generate_completions, pad_token_id


class HFConfig(HFModelConfig):
    """Arguments of the vision/chat adapters: :class:`HFModelConfig` plus prompt and video settings."""

    system_prompt: str | None = None
    max_new_tokens: int | None = Field(1024, ge=1)
    """Used when a task's generation parameters give no ``max_new_tokens``."""
    max_frames: int | None = Field(32, ge=1)
    """At most this many frames per video."""
    fps: float | None = Field(None, gt=0)
    """Frames per second of video time to sample (None: ``max_frames`` spread over the video)."""
    video_backend: str | None = None
    """Video reader: av (default), decord, torchcodec or opencv."""


VisionConfigT = TypeVar("VisionConfigT", bound=HFConfig)


@dataclass
class Prepared:
    """One request ready for the processor: prompt text and decoded media."""

    prompt: str
    images: list[Any]
    videos: list[VideoClip]
    audios: list[np.ndarray]


class HFProcessorModel(HFModel[VisionConfigT]):
    """Base adapter: ``AutoProcessor`` chat template + batched ``generate`` for vision (and audio) LMs.

    Subclasses choose the model class (:meth:`model_class`), the family traits (``family``) and
    extra processor kwargs (:meth:`images_kwargs`, :meth:`videos_kwargs`); everything else is shared.
    """

    name: ClassVar[str] = "hf_processor"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video"})
    Config: ClassVar[type[ModelConfig]] = HFConfig
    #: Tokenizer padding side for batches; left is what decoder-only generation needs.
    padding_side: str = "left"
    scores_choices: ClassVar[bool] = True

    def __init__(self, config: VisionConfigT | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.processor = self.load_processor()
        self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
        if not getattr(self.processor, "chat_template", None) and not getattr(self.tokenizer, "chat_template", None):
            raise UsageError(
                f"{cfg.pretrained}: its processor has no chat template; "
                "use a chat/instruct checkpoint or add chat_template.jinja to the folder"
            )
        self.model = self.load_model()
        self.eos_ids = eos_token_ids(self.model, self.tokenizer, extra_tokens=self.family.end_tokens)
        self.pad_id = pad_token_id(self.model, self.tokenizer, self.eos_ids)
        #: Modalities this checkpoint really takes (subclasses may narrow by the processor).
        self.accepts: set[str] = set(self.modalities)

    def model_class(self) -> Any:
        """The ``transformers`` class to load; default ``AutoModelForImageTextToText``."""
        from transformers import AutoModelForImageTextToText

        return AutoModelForImageTextToText

    # ---- media ----------------------------------------------------------------------------
    def frame_sampling(self) -> FrameSampling:
        """How videos are sampled: the ``fps``/``max_frames`` args with the family's traits."""
        cfg = self.config
        return FrameSampling(
            fps=cfg.fps,
            max_frames=cfg.max_frames,
            multiple_of=self.family.frame_multiple,
            mode=self.family.sampling_mode,
        )

    def audio_rate(self) -> int:
        fe = getattr(self.processor, "feature_extractor", None)
        return int(getattr(fe, "sampling_rate", 16000) or 16000)

    def audio_limit_seconds(self) -> float | None:
        """The longest clip the processor takes whole: its feature extractor's window
        (``n_samples`` / ``sampling_rate``, else ``chunk_length``); None when it has none."""
        extractor = audio_feature_extractor(self.processor)
        if extractor is None:
            return None
        samples, rate = getattr(extractor, "n_samples", None), getattr(extractor, "sampling_rate", None)
        if isinstance(samples, int) and samples > 0 and rate:
            return samples / float(rate)
        chunk = getattr(extractor, "chunk_length", None)
        return float(chunk) if isinstance(chunk, (int, float)) and chunk > 0 else None

    def long_audio_policy(self) -> LongAudioPolicy:
        """What to do with a clip longer than :meth:`audio_limit_seconds` (``error`` here)."""
        return "error"

    def fit_audio(self, request: Request, audios: list[np.ndarray], extra: dict[str, Any]) -> list[list[np.ndarray]]:
        """Record the audio duration and apply the long-audio policy: the clip lists to run, one
        job each (several only under ``chunk``). Raises SampleError under ``error``."""
        rate = self.audio_rate()
        extra["audio_seconds"] = round(sum(len(a) for a in audios) / rate, 3)
        limit = self.audio_limit_seconds()
        too_long = [n for n, a in enumerate(audios) if limit is not None and len(a) > limit * rate]
        if limit is None or not too_long:
            return [audios]
        policy = self.long_audio_policy()
        first, where = too_long[0], request.label()
        seconds = len(audios[first]) / rate
        if policy == "error" or (policy == "chunk" and len(audios) > 1):
            several = f" in a prompt with {len(audios)} clips (only one clip can be chunked)" if len(audios) > 1 else ""
            raise SampleError(
                f"{where}: audio {first} is {seconds:.1f}s, longer than the {limit:g}s the processor of "
                f"model {self.name!r} takes{several} (its feature extractor would cut the rest unrecorded); "
                f"set long_audio=truncate (first {limit:g}s only) or long_audio=chunk (windows answered "
                f"separately and joined), or use the qwen2_audio/aero adapters, which take long audio"
            )
        if policy == "truncate":
            keep = int(limit * rate)
            cut = sum(max(0, len(a) - keep) for a in audios) / rate
            extra.update(long_audio_policy="truncate", truncated_audio_s=round(cut, 3))
            return [[a[:keep] for a in audios]]
        windows = split_even(audios[0], rate, limit)
        extra.update(long_audio_policy="chunk", audio_windows=len(windows))
        return [[w] for w in windows]

    @property
    def media_spec(self) -> MediaSpec:
        accepts = self.accepts
        return MediaSpec(
            images="image" in accepts,
            audio="audio" in accepts,
            audio_rate=self.audio_rate() if "audio" in accepts else None,
            video=self.frame_sampling() if "video" in accepts else None,
            video_backend=self.config.video_backend,
        )

    # ---- per-request preparation (overridable hooks) ---------------------------------------
    def images_kwargs(self) -> dict[str, Any]:
        """Extra ``images_kwargs`` for the processor call."""
        return {}

    def videos_kwargs(self, clips: list[VideoClip]) -> dict[str, Any]:
        """Extra ``videos_kwargs`` for the processor call: frames are already sampled, so the
        processor must not sample again; metadata tells it their timing."""
        if not self.family.video_metadata:
            return {}
        from transformers.video_utils import VideoMetadata

        meta = []
        for c in clips:
            rate = c.native_fps or self.family.frames_fps_fallback
            meta.append(
                VideoMetadata(
                    total_num_frames=c.total_frames,
                    fps=rate,
                    duration=c.total_frames / rate if rate else None,
                    frames_indices=list(c.indices),
                    height=int(c.frames.shape[1]),
                    width=int(c.frames.shape[2]),
                )
            )
        return {"do_sample_frames": False, "video_metadata": meta}

    def edit_chat(self, chat: ChatInput, clips: list[VideoClip]) -> None:
        """Hook to adjust the chat messages once videos are sampled (e.g. add frame times)."""

    def render_prompt(self, chat: ChatInput, close_reply: bool = False) -> str:
        """Apply the processor's chat template (continuing a trailing assistant turn; with
        ``close_reply``, ending that turn as a finished reply, without a generation prompt)."""
        continue_final = bool(chat.messages) and chat.messages[-1]["role"] == "assistant" and not close_reply
        extra: dict[str, Any] = {}
        if not getattr(self.processor, "chat_template", None) and self.processor is not self.tokenizer:
            extra["chat_template"] = self.tokenizer.chat_template  # only the tokenizer carries one
        try:
            return str(
                self.processor.apply_chat_template(
                    chat.messages,
                    tokenize=False,
                    add_generation_prompt=not continue_final and not close_reply,
                    continue_final_message=continue_final,
                    **extra,
                )
            )
        except Exception as exc:
            raise SampleError(f"chat template failed: {exc}") from exc

    def prepare(self, request: Request) -> tuple[ChatInput, list[Prepared], float, dict[str, Any]]:
        """Decode a request's media and render its prompt: (the chat after :meth:`edit_chat`, one
        :class:`Prepared` per audio window, the sort cost, the response's ``extra``)."""
        chat = to_hf_chat(request.messages, self.config.system_prompt)
        for kind, parts in (("image", chat.images), ("video", chat.videos), ("audio", chat.audios)):
            if parts and kind not in self.accepts:
                raise SampleError(f"{request.label()}: model {self.name!r} does not take {kind} input")
        spec = self.media_spec
        where = request.label()
        images = [load_image(p) for p in chat.images]
        clips = [load_video(v, spec.video or self.frame_sampling(), spec.video_backend, where) for v in chat.videos]
        audios = [load_audio(a, spec.audio_rate, f"{where}, audio {n}")[0] for n, a in enumerate(chat.audios)]
        extra: dict[str, Any] = {"video_frames": [len(c.indices) for c in clips]} if clips else {}
        windows = self.fit_audio(request, audios, extra) if audios else [audios]
        self.edit_chat(chat, clips)
        prompt = self.render_prompt(chat)
        cost = (
            len(prompt) / 4
            + sum(i.size[0] * i.size[1] / 784 for i in images)
            + 200 * sum(len(c.indices) for c in clips)
        )
        return chat, [Prepared(prompt, images, clips, w) for w in windows], cost, extra

    def request_jobs(self, index: int, request: Request) -> tuple[list[Job], dict[str, Any]]:
        _, prepared, cost, extra = self.prepare(request)
        params = self.params_of(request)
        return [Job(index, k, params, cost, item) for k, item in enumerate(prepared)], extra

    # ---- likelihood scoring ---------------------------------------------------------------
    def choice_job(self, index: int, request: Request) -> ChoiceJob:
        """The prompt as generation renders it and, per option, the chat with the option as the
        closed assistant reply (see :mod:`lmms_eval.models.hf.choices`)."""
        chat, prepared, cost, extra = self.prepare(request)
        if len(prepared) != 1:
            raise SampleError(
                f"{request.label()}: options cannot be scored over {len(prepared)} audio windows; "
                f"use clips no longer than the processor's window or long_audio=truncate"
            )
        replies = []
        for option in request.choices or []:
            reply = ChatInput(reply_messages(chat.messages, option), chat.images, chat.videos, chat.audios)
            replies.append(self.render_prompt(reply, close_reply=True))
        return ChoiceJob(index, prepared[0].prompt, replies, prepared[0], cost * len(replies), extra)

    def encode_choice_texts(self, texts: list[str], media: list[Any]) -> Any:
        items = [Prepared(text, m.images, m.videos, m.audios) for text, m in zip(texts, media)]
        return self.processor_inputs(items, padding_side="right")

    # ---- generation -----------------------------------------------------------------------
    def processor_inputs(self, items: Sequence[Prepared], padding_side: str | None = None) -> Any:
        """Run the processor on a batch: padded token ids (on ``padding_side``, default the
        adapter's), pixel values, grids, masks."""
        call: dict[str, Any] = {"text": [it.prompt for it in items], "padding": True, "return_tensors": "pt"}
        if any(it.images for it in items):
            call["images"] = [list(it.images) for it in items]
            if ik := self.images_kwargs():
                call["images_kwargs"] = ik
        clips = [c for it in items for c in it.videos]
        if clips:
            call["videos"] = [c.frames for c in clips]
            if vk := self.videos_kwargs(clips):
                call["videos_kwargs"] = vk
        audios = [a for it in items for a in it.audios]
        if audios:
            call["audio"] = audios
            call["audio_kwargs"] = {"sampling_rate": self.audio_rate()}
        previous = self.tokenizer.padding_side
        self.tokenizer.padding_side = padding_side or self.padding_side
        try:
            return self.processor(**call)
        finally:
            self.tokenizer.padding_side = previous

    def run_batch(self, jobs: Sequence[Job]) -> list[Completion]:
        return generate_completions(
            self.model,
            self.tokenizer,
            self.processor_inputs([job.inputs for job in jobs]),
            jobs[0].params,
            dtype=self.dtype,
            eos_ids=self.eos_ids,
            pad_id=self.pad_id,
        )

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["resolved"]["padding_side"] = self.padding_side
        return out
