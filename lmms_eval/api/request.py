"""Requests sent to models and the responses they return."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.generation import GREEDY, GenerationParams
from lmms_eval.api.messages import Audio, Image, Message, Text, Video


def stable_id(task_hash: str, doc_id: Any, repeat: int) -> str:
    """Request id = hash(task config hash, doc id, repeat index): the same across runs."""
    raw = f"{task_hash}\x1f{type(doc_id).__name__}:{doc_id}\x1f{int(repeat)}"
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


@dataclass
class Request:
    """One generation request: typed chat messages plus generation parameters."""

    task: str
    doc_id: Any
    messages: list[Message]
    params: GenerationParams = GREEDY
    """Validated, frozen generation parameters (shared by the requests of a task)."""
    repeat: int = 0
    id: str = ""
    choices: list[str] | None = None
    """``multiple_choice`` tasks: the option texts, each scored as the assistant's reply
    (``Model.score_choices``); None for generation."""
    context: dict[str, Any] | None = None
    """The task's ``doc_to_context`` (e.g. a retrieval), copied into the sample record."""

    def prompt_text(self) -> str:
        """The text of all turns, for logs and text-only models."""
        return "\n".join(m.text() for m in self.messages if m.text())

    def parts(self, kind: type) -> list[Any]:
        """All content parts of one type (Image, Audio, Video, Text) across turns."""
        return [p for m in self.messages for p in m.content if isinstance(p, kind)]

    def images(self) -> list[Image]:
        return self.parts(Image)

    def audios(self) -> list[Audio]:
        return self.parts(Audio)

    def videos(self) -> list[Video]:
        return self.parts(Video)

    def texts(self) -> list[Text]:
        return self.parts(Text)

    def label(self) -> str:
        """``task doc <id>``: how errors name the sample."""
        return f"{self.task or 'request'} doc {self.doc_id}"


@dataclass
class Response:
    """What a model returned for one request. ``error`` set means: not an answer."""

    text: str = ""
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    batch_size: int | None = None
    """Requests in the model call that produced this response (None: the batch the engine passed)."""
    extra: dict[str, Any] = field(default_factory=dict)
    transcript: list[dict[str, Any]] | None = None
    """A multi-turn (agent) sample's every turn, set by the engine's agent loop; the sample record keeps it."""

    @classmethod
    def failed(cls, reason: str) -> Response:
        return cls(text="", error=reason)
