"""Typed messages -> the list-of-dicts chat format of Hugging Face processors and chat templates.

:func:`to_hf_chat` puts a ``{"type": "image"|"video"|"audio"}`` placeholder where each media part
stands and collects the parts in order for the processor call; :func:`chat_conversation` is the
variant for audio chat models whose processors want one placeholder per audio clip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Audio, Image, Message, Text, Video


@dataclass
class ChatInput:
    """A request rendered for a processor: HF chat messages plus the media in order of appearance."""

    messages: list[dict[str, Any]]
    images: list[Image] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    audios: list[Audio] = field(default_factory=list)


def to_hf_chat(messages: Sequence[Message], system_prompt: str | None = None) -> ChatInput:
    """Convert typed messages to the ``[{"role", "content": [{"type": ...}]}]`` chat format.

    Media parts become ``{"type": "image"|"video"|"audio"}`` placeholders at their position;
    the media objects are collected in the same order for the processor call.
    ``system_prompt`` is prepended as a system turn when the request has none.
    """
    out = ChatInput(messages=[])
    if system_prompt and not any(m.role == "system" for m in messages):
        out.messages.append({"role": "system", "content": [{"type": "text", "text": system_prompt}]})
    for msg in messages:
        content: list[dict[str, Any]] = []
        for part in msg.content:
            if isinstance(part, Text):
                content.append({"type": "text", "text": part.text})
            elif isinstance(part, Image):
                content.append({"type": "image"})
                out.images.append(part)
            elif isinstance(part, Video):
                content.append({"type": "video"})
                out.videos.append(part)
            elif isinstance(part, Audio):
                content.append({"type": "audio"})
                out.audios.append(part)
            else:
                raise SampleError(f"unsupported content part {type(part).__name__}")
        out.messages.append({"role": msg.role, "content": content})
    return out


def chat_conversation(
    messages: Sequence[Message], audio_entries: Callable[[int], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Convert typed messages into the list-of-dicts chat format of Hugging Face processors.

    Built on :func:`to_hf_chat`; the ``n``-th audio part (counting
    across turns) is replaced by ``audio_entries(n)``: one placeholder dict per clip the
    processor will receive for it (Aero: one per 30 s chunk). Assistant/system turns with only
    text become plain strings, as chat templates expect.
    """
    chat = to_hf_chat(messages)
    if chat.images or chat.videos:
        raise SampleError(f"{'image' if chat.images else 'video'} parts are not supported by audio models")
    conversation: list[dict[str, Any]] = []
    audio_index = 0
    for message in chat.messages:
        content: list[dict[str, Any]] = []
        for part in message["content"]:
            if part["type"] == "audio":
                content.extend(audio_entries(audio_index))
                audio_index += 1
            else:
                content.append(part)
        if message["role"] in ("system", "assistant") and all(c["type"] == "text" for c in content):
            content = "".join(c["text"] for c in content)  # type: ignore[assignment]
        conversation.append({"role": message["role"], "content": content})
    return conversation
