"""An instant model for harness-overhead benchmarks: answers at once, never looks at media."""

from __future__ import annotations

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Response


class InstantConfig(ModelConfig):
    batch: int = 64


class InstantModel(Model):
    name = "instant"
    modalities = frozenset({"text", "image", "audio", "video"})
    Config = InstantConfig

    def __init__(self, config: InstantConfig | None = None) -> None:
        super().__init__(config)
        self.max_batch_size = self.config.batch

    def generate(self, requests):
        return [Response(text="A") for _ in requests]
