"""A scripted fake model for tests only: answers come from a table or a rule, never the product."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.media import FrameSampling, MediaSpec


class ScriptedConfig(ModelConfig):
    mode: str = "last_word"  # last_word | constant
    constant: str = "x"
    fail_on: str = ""  # comma-separated doc ids that raise
    sleep_s: float = 0.0
    batch: int = 4
    decode: bool = False  # ask the engine to decode media ahead (images, 16 kHz audio, 8-frame videos)


class ScriptedModel(Model[ScriptedConfig]):
    """Answers the prompt's last word (``last_word``) or a constant; raises for chosen doc ids."""

    name: ClassVar[str] = "scripted"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "audio", "video"})
    Config: ClassVar[type[ModelConfig]] = ScriptedConfig

    def __init__(self, config: ScriptedConfig | None = None) -> None:
        super().__init__(config)
        self.max_batch_size = self.config.batch
        self.calls: list[int] = []
        self.decoded_before: list[bool] = []  # per request: were its media decoded before generate()?

    @property
    def media_spec(self) -> MediaSpec | None:
        if not self.config.decode:
            return None
        return MediaSpec(images=True, audio=True, audio_rate=16000, video=FrameSampling(max_frames=8))

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append(len(requests))
        fail = {s for s in self.config.fail_on.split(",") if s}
        out = []
        for r in requests:
            media = [p for m in r.messages for p in m.content if hasattr(p, "cache")]
            self.decoded_before.append(bool(media) and all(p.cache for p in media))
            if str(r.doc_id) in fail:
                raise RuntimeError(f"scripted failure on doc {r.doc_id}")
            if self.config.sleep_s:
                time.sleep(self.config.sleep_s)
            if self.config.mode == "constant":
                out.append(Response(text=self.config.constant))
            else:
                words = r.prompt_text().split()
                out.append(Response(text=words[-1] if words else "", prompt_tokens=len(words), completion_tokens=1))
        return out
