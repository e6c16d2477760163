"""The protocol contract: how a multi-turn agent talks, and what one conversation holds.

A protocol turns a task's plain prompt (its images and question) into the first messages,
reads each model turn as an :class:`Action`, and writes the next user turn from a tool's
result. The engine's loop (:mod:`lmms_eval.engine.agent_loop`) does everything else: batching
the open conversations, calling tools under their limits and timeouts, recording every turn.

Protocols register by name in :data:`PROTOCOLS` (entry-point group ``lmms_eval.agent_protocols``,
value ``module:Class``); a task's ``agent: {protocol: NAME}`` picks one.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from lmms_eval.api.messages import Image, Message, Part, Text
from lmms_eval.api.registry import Registry

if TYPE_CHECKING:
    from lmms_eval.agent.spec import AgentSpec, ToolLimit
    from lmms_eval.agent.toolbox import ToolOutcome
    from lmms_eval.api.request import Request

ActionKind = Literal["answer", "image_search", "text_search", "crop", "none"]
SEARCH_TOOLS: tuple[str, ...] = ("image_search", "text_search")

PROTOCOLS: Registry[Any] = Registry("agent protocol", "lmms_eval.agent_protocols", builtins="lmms_eval.agent.protocols")


@dataclass
class Action:
    """What one model turn asks for. ``kind="none"``: no action the protocol knows (the
    conversation ends there, recorded as ``no_action``); ``text`` is the turn as kept (a protocol
    may cut what follows its action, as MGPO's rollout does)."""

    kind: ActionKind
    text: str
    query: str | None = None
    """The text search query (None for an image search: the sample's image is the query)."""
    answer: str | None = None

    @property
    def tool(self) -> str | None:
        """The tool the action calls, or None (answer, none)."""
        return self.kind if self.kind in (*SEARCH_TOOLS, "crop") else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.query is not None:
            out["query"] = self.query
        if self.answer is not None:
            out["answer"] = self.answer
        return out


@dataclass
class Conversation:
    """One sample's dialogue while the loop runs, and what the record keeps of it."""

    messages: list[Message]
    question: str
    images: list[Image]
    """The sample's own images (originals), in prompt order."""
    choices: list[str] | None = None
    turns: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    """Protocol-specific facts (MGPO's grounding outcome) copied into the record's summary."""
    hints: dict[str, Any] = field(default_factory=dict)
    """What the loop knows of the model (``image_pixels``: its processor's (min, max) pixels)."""
    done: bool = False
    stop: str | None = None
    """Why it ended: answer, no_action, max_turns, over_limit, model_error."""
    final_text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None

    def end(self, stop: str, error: str | None = None) -> None:
        self.done, self.stop, self.error = True, stop, error

    def summary(self, protocol: str, limits: dict[str, ToolLimit]) -> dict[str, Any]:
        """The record's ``extra["agent"]``: what tool-use metrics and breakdowns read."""
        out = {
            "protocol": protocol,
            "turns": self.turns,
            "stop": self.stop,
            "calls": dict(sorted(self.calls.items())),
            "max_calls": {name: limit.max_calls for name, limit in sorted(limits.items())},
            "failed_calls": sum(1 for t in self.transcript if t.get("role") == "tool" and t.get("error")),
            "failed_searches": sum(
                1
                for t in self.transcript
                if t.get("role") == "tool" and t.get("error") and t.get("tool") in SEARCH_TOOLS
            ),
        }
        out.update(self.state)
        return out


@dataclass
class AgentJob:
    """One sample for the loop: its first request (the task's own prompt), protocol and document."""

    request: Request
    protocol: AgentProtocol
    doc: dict[str, Any]
    question: str | None = None
    choices: list[str] | None = None


class AgentProtocol:
    """Base class of a protocol. Subclasses set the class attributes and the four methods."""

    name: ClassVar[str] = ""
    tools: ClassVar[tuple[str, ...]] = ()
    """Tools the protocol may call (``image_search``, ``text_search``, ``crop``)."""
    default_max_turns: ClassVar[int] = 3
    default_limits: ClassVar[dict[str, tuple[int, int]]] = {}
    """``{tool: (max_calls, top_k)}`` when the task's ``agent.tools`` leaves a tool out."""
    system_prompt: ClassVar[str | None] = None
    """Replaces the task's system message when set."""

    def __init__(self, spec: AgentSpec) -> None:
        from lmms_eval.agent.spec import ToolLimit

        self.spec = spec
        self.max_turns = spec.max_turns or self.default_max_turns
        self.limits: dict[str, ToolLimit] = {
            tool: spec.tools.get(tool) or ToolLimit(max_calls=calls, top_k=k)
            for tool, (calls, k) in self.default_limits.items()
        }
        for tool, limit in spec.tools.items():
            self.limits[tool] = limit

    @property
    def search_tools(self) -> list[str]:
        """The search tools this protocol may call (those that need a ``--tools`` backend)."""
        return [t for t in self.tools if t in SEARCH_TOOLS]

    # ---- to implement -------------------------------------------------------------------
    def begin(self, conv: Conversation) -> list[Message]:
        """The first messages of the conversation (``conv.messages`` holds the task's own)."""
        raise NotImplementedError

    def parse(self, text: str, conv: Conversation) -> Action:
        """Read one model turn (``conv.turns`` is its 1-based number)."""
        raise NotImplementedError

    def observe(self, action: Action, outcome: ToolOutcome, conv: Conversation) -> Message:
        """The user turn that returns a tool's result (or its failure) to the model."""
        raise NotImplementedError

    def answer(self, text: str) -> str:
        """The answer part of the last model turn, which the task's filters and metrics read."""
        raise NotImplementedError

    def run_local(self, action: Action, conv: Conversation) -> ToolOutcome:
        """Run a tool that needs no backend (MGPO's crop); search tools go through the toolbox."""
        raise NotImplementedError(f"protocol {self.name!r} has no local tool {action.kind!r}")


# ---- helpers protocols share ---------------------------------------------------------------


def task_question(messages: list[Message]) -> str:
    """The text of the task's user turns: the question as the task phrases it."""
    return "\n".join(m.text() for m in messages if m.role == "user" and m.text()).strip()


def task_images(messages: list[Message]) -> list[Image]:
    return [p for m in messages if m.role != "system" for p in m.content if isinstance(p, Image)]


def interleave(text: str, images: list[Any], token: str = "<image>") -> list[Part]:
    """``text`` as content parts, each ``token`` replaced by the next of ``images`` (an
    :class:`Image`, a PIL image, encoded bytes or a path)."""
    pieces = text.split(token)
    if len(pieces) - 1 != len(images):
        raise ValueError(f"{len(pieces) - 1} image placeholders for {len(images)} images")
    parts: list[Part] = []
    for i, piece in enumerate(pieces):
        if piece:
            parts.append(Text(piece))
        if i < len(images):
            parts.append(as_image(images[i]))
    return parts


def as_image(value: Any) -> Image:
    """An :class:`Image` part from a part, a PIL image, encoded bytes, or a path/URL."""
    if isinstance(value, Image):
        return value
    if isinstance(value, (bytes, bytearray)):
        return Image(raw=bytes(value))
    if isinstance(value, str):
        return Image(path=value)
    return Image(data=value)


def image_ref(part: Image) -> dict[str, Any]:
    """How the transcript names an image: its path, or the SHA-256 of its bytes, and its size."""
    out: dict[str, Any] = {"type": "image"}
    if part.path is not None:
        out["path"] = str(part.path)
    data = part.raw
    if data is None and part.data is not None and hasattr(part.data, "save"):
        buf = io.BytesIO()
        part.data.save(buf, format="PNG")
        data = buf.getvalue()
    if data is not None:
        out["sha256"] = hashlib.sha256(data).hexdigest()
    size = getattr(part.data, "size", None) if part.data is not None else part.cache.get("size")
    if isinstance(size, tuple) and len(size) == 2:
        out["size"] = list(size)
    return out


def describe_message(message: Message) -> dict[str, Any]:
    """A message for the transcript: text verbatim, images by reference (never embedded)."""
    content = [image_ref(p) if isinstance(p, Image) else p.describe() for p in message.content]
    return {"role": message.role, "content": content}
