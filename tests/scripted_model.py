"""A scripted fake model for tests only: answers come from a table or a rule, never the product."""

from __future__ import annotations

import time
from collections.abc import Sequence

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response


class ScriptedConfig(ModelConfig):
    mode: str = "last_word"  # last_word | constant
    constant: str = "x"
    fail_on: str = ""  # comma-separated doc ids that raise
    sleep_s: float = 0.0
    batch: int = 4


class ScriptedModel(Model):
    """Answers the prompt's last word (``last_word``) or a constant; raises for chosen doc ids."""

    name = "scripted"
    modalities = frozenset({"text", "image", "audio", "video"})
    Config = ScriptedConfig

    def __init__(self, config: ScriptedConfig | None = None) -> None:
        super().__init__(config)
        self.max_batch_size = self.config.batch
        self.calls: list[int] = []

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append(len(requests))
        fail = {s for s in self.config.fail_on.split(",") if s}
        out = []
        for r in requests:
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
