"""Shared clients for OpenAI-compatible chat APIs (the ``openai_compat`` adapter and the judge).

* :mod:`~lmms_eval.clients.openai_chat`: an async chat client with bounded concurrency,
  retries with exponential backoff on 429/5xx/timeouts/connection errors, and usage accounting.
* :mod:`~lmms_eval.clients.media`: typed message parts -> OpenAI content parts (data URLs,
  ``input_audio``, video frames).
* :mod:`~lmms_eval.clients.loop`: a background event loop so synchronous code can drive it.

Importing this package does not import ``openai``; the client does on first use.
"""

from __future__ import annotations

from lmms_eval.clients.openai_chat import AsyncChatClient, ChatResult, ClientSettings, UsageMeter

__all__ = ["AsyncChatClient", "ChatResult", "ClientSettings", "UsageMeter"]
