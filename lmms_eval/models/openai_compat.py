"""``openai_compat``: any OpenAI-compatible chat-completions server (vLLM, SGLang,
``transformers serve``, hosted APIs).

Usage::

    lmms-eval --model openai_compat \\
        --model_args model=Qwen/Qwen2.5-VL-7B-Instruct,base_url=http://127.0.0.1:8000/v1,max_concurrency=32

The key is read from the environment variable named by ``api_key_env`` (default
``OPENAI_API_KEY``); a self-hosted ``base_url`` may run without one. Images are sent as
``data:`` URLs, audio as ``input_audio`` (WAV/MP3, base64), video as a list of frames (images).

Generation parameters map one to one, with nothing added: ``max_new_tokens`` -> ``max_tokens``
(or ``max_completion_tokens`` with ``max_tokens_param=max_completion_tokens``), ``temperature``,
``top_p``, ``until`` -> ``stop``, ``seed``, ``presence_penalty``, ``frequency_penalty``;
a reply is cut before the first ``stop`` string as the OpenAI API specifies (some servers
return it); ``do_sample=False`` means greedy, sent as ``temperature=0``; ``top_k``, ``min_p`` and
``repetition_penalty`` go in ``extra_body`` (vLLM/SGLang extensions); ``num_beams > 1`` cannot be
served and fails the sample. A key the API has no counterpart for is left out and logged once.
Parameters absent from the task and the command line are not sent, so the server's own
defaults apply (record them in ``--model_args extra_body={...}`` if you rely on them).

Requests of a batch run concurrently (at most ``max_concurrency`` in flight); 429/5xx/timeouts/
connection errors are retried with exponential backoff; a request that still fails returns a
``Response`` with ``error`` set (never an answer). Token counts and latency come back per response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from lmms_eval.api.errors import SampleError
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.clients.endpoint import EndpointConfig
from lmms_eval.clients.loop import LoopThread
from lmms_eval.clients.media import to_openai_messages
from lmms_eval.clients.openai_chat import AsyncChatClient, ChatResult, UsageMeter

log = logging.getLogger(__name__)

_PASS_THROUGH = ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty", "logit_bias")
_EXTRA_BODY = ("top_k", "min_p", "repetition_penalty")


class OpenAICompatConfig(ModelConfig, EndpointConfig):
    """``--model_args`` of ``openai_compat``: the shared endpoint settings plus these."""

    model: str = Field(description="model name as the server knows it (a local path for transformers serve)")
    max_concurrency: int = Field(8, ge=1, description="requests in flight at once")
    image_format: Literal["png", "jpeg"] = Field("png", description="encoding for in-memory images")
    jpeg_quality: int = Field(95, ge=1, le=100)
    video_max_frames: int | None = Field(32, ge=1, description="cap on frames sent per video")


def map_gen_kwargs(
    gen_kwargs: dict[str, Any], max_tokens_param: str = "max_tokens"
) -> tuple[dict[str, Any], list[str]]:
    """Task generation kwargs -> chat-completions parameters, and the keys that had no counterpart.

    Raises :class:`SampleError` for settings an OpenAI-style API cannot serve (beam search).
    """
    params: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    ignored: list[str] = []
    for key, value in gen_kwargs.items():
        if value is None:
            continue
        if key in ("max_new_tokens", "max_tokens", "max_completion_tokens"):
            params[max_tokens_param] = int(value)
        elif key == "until":
            stops = [value] if isinstance(value, str) else [str(s) for s in value]
            if stops:
                params["stop"] = stops
        elif key in _PASS_THROUGH:
            params[key] = value
        elif key in _EXTRA_BODY:
            extra[key] = value
        elif key == "num_beams":
            if int(value) > 1:
                raise SampleError(f"num_beams={value}: beam search is not available through an OpenAI-compatible API")
        elif key == "do_sample":
            continue  # handled below
        else:
            ignored.append(key)
    if gen_kwargs.get("do_sample") is False:
        params["temperature"] = 0.0
    if extra:
        params["extra_body"] = extra
    return params, ignored


class OpenAICompat(Model):
    """Adapter for OpenAI-compatible chat-completions servers (see the module docstring)."""

    name = "openai_compat"
    modalities = frozenset({"text", "image", "audio", "video"})
    Config = OpenAICompatConfig

    def __init__(self, config: OpenAICompatConfig | None = None) -> None:
        super().__init__(config)
        cfg: OpenAICompatConfig = self.config  # type: ignore[assignment]
        self.max_concurrency = cfg.max_concurrency
        self.max_batch_size = cfg.max_concurrency * 4
        self.meter = UsageMeter()
        self.client = AsyncChatClient(cfg.client_settings(cfg.max_concurrency), self.meter)
        self._loop = LoopThread(name="openai_compat")
        self._warned: set[str] = set()

    # ---- request building ---------------------------------------------------------------
    def build_call(self, request: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The OpenAI ``messages`` and parameters for one request."""
        cfg: OpenAICompatConfig = self.config  # type: ignore[assignment]
        params, ignored = map_gen_kwargs(request.gen_kwargs, cfg.max_tokens_param)
        for key in ignored:
            if key not in self._warned:
                self._warned.add(key)
                log.warning("openai_compat: generation kwarg %r has no OpenAI counterpart and is not sent", key)
        if cfg.extra_body:
            params["extra_body"] = {**cfg.extra_body, **params.get("extra_body", {})}
        messages = to_openai_messages(request.messages, cfg.image_format, cfg.jpeg_quality, cfg.video_max_frames)
        return messages, params

    @staticmethod
    def to_response(result: ChatResult, stop: list[str] | None = None) -> Response:
        """A client result -> the engine's :class:`Response` (errors stay errors).

        The text is cut before the first ``stop`` string, as the OpenAI API specifies; some
        servers (``transformers serve``) return the stop string itself.
        """
        if not result.ok:
            return Response(error=result.error, latency_s=result.latency_s, extra={"attempts": result.attempts})
        text = result.text or ""
        for s in stop or []:
            if s and s in text:
                text = text[: text.index(s)]
        extra: dict[str, Any] = {"finish_reason": result.finish_reason, "attempts": result.attempts}
        if result.model:
            extra["served_model"] = result.model
        if result.reasoning:
            extra["reasoning"] = result.reasoning
        return Response(
            text=text,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            latency_s=result.latency_s,
            extra=extra,
        )

    async def _one(self, request: Request) -> Response:
        try:
            messages, params = await asyncio.to_thread(self.build_call, request)
        except Exception as exc:  # noqa: BLE001 - an unreadable input fails this sample only
            return Response.failed(f"cannot build the API request: {type(exc).__name__}: {exc}")
        result = await self.client.chat(self.config.model, messages, params)  # type: ignore[attr-defined]
        return self.to_response(result, params.get("stop"))

    async def agenerate(self, requests: Sequence[Request]) -> list[Response]:
        """Async :meth:`generate`: all requests concurrently, bounded by ``max_concurrency``."""
        return list(await asyncio.gather(*(self._one(r) for r in requests)))

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One response per request, in order; failed requests carry ``error``."""
        if not requests:
            return []
        return self._loop.run(self.agenerate(list(requests)))

    def usage(self) -> dict[str, Any]:
        """Totals over every call so far: calls, retries, failures, tokens, seconds."""
        return self.meter.as_dict()

    def close(self) -> None:
        self._loop.close(self.client.aclose())
