"""Generic adapter for any ``transformers`` chat model whose processor has a chat template.

Works with image-text-to-text models (``AutoModelForImageTextToText``), audio/omni models
(``AutoModelForMultimodalLM``, e.g. Qwen2-Audio, Voxtral) and text-only causal LMs
(``AutoModelForCausalLM``): with ``model_class=auto`` the first of these whose mapping knows
the checkpoint's config is used; name any ``transformers`` class (``model_class=
AutoModelForSpeechSeq2Seq``) to override. Images, videos and audio go to the processor as
content parts in order; what a given checkpoint accepts is up to its processor.

Long audio: the processor's feature extractor (Whisper-style: Qwen2-Audio, Voxtral, ...) pads or
cuts every clip to its window (30 s), so a longer clip follows the explicit ``long_audio``
argument: ``error`` (default: that sample's error record, naming its duration and the limit),
``truncate`` (the first window only; ``extra["truncated_audio_s"]``) or ``chunk`` (a single clip in
equal windows, each answered with the same prompt and joined with a space;
``extra["audio_windows"]``). Every response with audio records ``extra["audio_seconds"]`` and, when
the policy acted, ``extra["long_audio_policy"]``.

Example: ``--model hf_chat --model_args pretrained=HuggingFaceTB/SmolVLM2-2.2B-Instruct --batch_size 8``
"""

from __future__ import annotations

from typing import Any, ClassVar

from lmms_eval.api.errors import UsageError
from lmms_eval.api.model import ModelConfig
from lmms_eval.models.hf.audio import LongAudioPolicy
from lmms_eval.models.hf.hub import hub_kwargs
from lmms_eval.models.hf.vision import HFConfig, HFProcessorModel

AUTO_CLASSES = ("AutoModelForImageTextToText", "AutoModelForMultimodalLM", "AutoModelForCausalLM")


class HFChatConfig(HFConfig):
    """Model args of :class:`HFChat`."""

    model_class: str = "auto"
    long_audio: LongAudioPolicy = "error"
    """A clip longer than the processor's feature-extractor window: error, truncate or chunk."""


def pick_model_class(config: Any, trust_remote_code: bool = False) -> Any:
    """The first of :data:`AUTO_CLASSES` that can build ``config`` (a ``PretrainedConfig``)."""
    import transformers

    auto_map = getattr(config, "auto_map", None) or {}
    for name in AUTO_CLASSES:
        cls = getattr(transformers, name, None)
        if cls is None:
            continue
        if type(config) in cls._model_mapping or (trust_remote_code and name in auto_map):
            return cls
    return None


# Processor attribute -> the modality it handles.
PROCESSOR_PARTS = {"image_processor": "image", "video_processor": "video", "feature_extractor": "audio"}


class HFChat(HFProcessorModel[HFChatConfig]):
    """Any chat-templated ``transformers`` model with an ``AutoProcessor``.

    The media a checkpoint takes follow from its processor: an image processor means images,
    a video processor videos, a feature extractor audio; a bare tokenizer means text only.
    Requests with other media fail one by one with a clear error.
    """

    name: ClassVar[str] = "hf_chat"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "video", "audio"})
    Config: ClassVar[type[ModelConfig]] = HFChatConfig

    def __init__(self, config: HFChatConfig | None = None) -> None:
        super().__init__(config)
        self.accepts = {"text"} | {
            kind for attr, kind in PROCESSOR_PARTS.items() if getattr(self.processor, attr, None) is not None
        }

    def long_audio_policy(self) -> LongAudioPolicy:
        return self.config.long_audio

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if "audio" in getattr(self, "accepts", ()):
            out["resolved"]["audio_limit_s"] = self.audio_limit_seconds()
        out["resolved"]["accepts"] = sorted(getattr(self, "accepts", ()))
        return out

    def model_class(self) -> Any:
        import transformers

        cfg = self.config
        if cfg.model_class != "auto":
            cls = getattr(transformers, cfg.model_class, None)
            if cls is None:
                raise UsageError(
                    f"model_class={cfg.model_class!r} is not a transformers class; "
                    f"use auto or one of {', '.join(AUTO_CLASSES)}"
                )
            return cls
        try:
            config = transformers.AutoConfig.from_pretrained(
                cfg.pretrained,
                revision=cfg.revision,
                trust_remote_code=cfg.trust_remote_code,
                **hub_kwargs(cfg.pretrained, cfg.revision),
            )
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the config of {cfg.pretrained!r}: {str(exc).splitlines()[0]}") from None
        cls = pick_model_class(config, cfg.trust_remote_code)
        if cls is None:
            raise UsageError(
                f"{cfg.pretrained!r} ({type(config).__name__}) is not a model type that "
                f"{', '.join(AUTO_CLASSES)} know; set model_class=<transformers class name>"
            )
        return cls
