"""The endpoint settings shared by everything that calls an OpenAI-compatible API.

Both the ``openai_compat`` model adapter and the LLM judge take these keys, with the same
meaning and defaults; each adds its own (model name, concurrency, media encoding, ...).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class EndpointConfig(BaseModel):
    """Where and how to call an OpenAI-compatible chat API (validated; the key is never stored)."""

    base_url: str | None = Field(None, description="e.g. http://127.0.0.1:8000/v1; None = api.openai.com")
    api_key_env: str = Field("OPENAI_API_KEY", description="NAME of the environment variable holding the key")
    timeout: float = Field(600.0, gt=0, description="seconds per call attempt")
    max_retries: int = Field(5, ge=0, description="extra attempts on 429/5xx/timeouts/connection errors")
    backoff_initial: float = Field(1.0, ge=0, description="first retry wait in seconds (doubles each time)")
    backoff_max: float = Field(60.0, ge=0, description="longest wait between attempts")
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    extra_body: dict[str, Any] | None = Field(None, description="extra JSON fields sent with every call")

    def client_settings(self, max_concurrency: int) -> Any:
        """The :class:`~lmms_eval.clients.openai_chat.ClientSettings` for these settings."""
        from lmms_eval.clients.openai_chat import ClientSettings

        return ClientSettings(
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_concurrency=max_concurrency,
            backoff_initial=self.backoff_initial,
            backoff_max=self.backoff_max,
        )
