"""A scripted multi-turn model for the agent-loop tests: per document, one reply per turn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response


class ScriptedAgentConfig(ModelConfig):
    batch: int = 8
    fail_turn: int = 0
    """Raise on this turn (1-based) for documents listed in ``fail_docs``; 0: never."""
    fail_docs: str = ""


class ScriptedAgent(Model[ScriptedAgentConfig]):
    """Replies ``script[doc_id][turn - 1]`` where the turn is 1 + the assistant messages already
    in the conversation; a turn past the script repeats ``after``. Keeps every request and the
    size of every model call."""

    name: ClassVar[str] = "scripted_agent"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image"})
    Config: ClassVar[type[ModelConfig]] = ScriptedAgentConfig
    script: ClassVar[Mapping[str, Sequence[str]]] = {}
    after: ClassVar[str] = "<answer>none</answer>"

    def __init__(self, config: ScriptedAgentConfig | None = None) -> None:
        super().__init__(config)
        self.max_batch_size = self.config.batch
        self.calls: list[int] = []
        self.requests: list[Request] = []

    @staticmethod
    def turn(request: Request) -> int:
        return 1 + sum(1 for m in request.messages if m.role == "assistant")

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        self.calls.append(len(requests))
        fail = {d for d in self.config.fail_docs.split(",") if d}
        out = []
        for r in requests:
            self.requests.append(r)
            turn = self.turn(r)
            if turn == self.config.fail_turn and str(r.doc_id) in fail:
                out.append(Response.failed(f"scripted failure on doc {r.doc_id} turn {turn}"))
                continue
            replies = self.script.get(str(r.doc_id), ())
            text = replies[turn - 1] if turn <= len(replies) else self.after
            out.append(Response(text=text, prompt_tokens=10 * turn, completion_tokens=turn))
        return out


def of(script: Mapping[str, Sequence[str]], **config: Any) -> ScriptedAgent:
    """A scripted agent whose class holds ``script``."""
    cls = type("Script", (ScriptedAgent,), {"script": dict(script)})
    return cls(ScriptedAgentConfig(**config))
