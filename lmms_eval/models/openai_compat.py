"""``openai_compat``: any OpenAI-compatible chat-completions server (vLLM, SGLang,
``transformers serve``, hosted APIs).

Usage::

    lmms-eval --model openai_compat \\
        --model_args model=Qwen/Qwen2.5-VL-7B-Instruct,base_url=http://127.0.0.1:8000/v1,max_concurrency=32

The key is read from the environment variable named by ``api_key_env`` (default
``OPENAI_API_KEY``); a self-hosted ``base_url`` may run without one. Images are sent as
``data:`` URLs, audio as ``input_audio`` (WAV/MP3, base64), video as a list of frames (images).

Generation parameters map through ``GenerationParams.to_openai``: greedy unless the task or
``--gen_kwargs`` asks for sampling, and greedy is sent explicitly as ``temperature=0`` (a
server's default sampling never applies); ``max_new_tokens`` -> ``max_tokens`` (or
``max_completion_tokens`` with ``max_tokens_param=max_completion_tokens``), ``until`` -> ``stop``
(and a reply is cut before the first stop string, as the OpenAI API specifies; some servers
return it), ``seed``, penalties; ``top_k``, ``min_p`` and ``repetition_penalty`` go in
``extra_body`` (vLLM/SGLang extensions); ``num_beams > 1`` cannot be served and stops the run
with a one-line error. Videos are sampled by the media layer (``max_frames``, ``fps``) into the
same frames every adapter gets, decoded ahead of the calls by the engine's worker pool.

Audio is never cut on our side: each audio file goes whole and the server decides what its model
hears. Every response of a request with audio records ``extra["audio_seconds"]`` (all its audio
parts, read from the file headers without decoding; absent when a header cannot be read) and
``extra["long_audio_policy"] = "server"``.

Requests of a batch run concurrently (at most ``max_concurrency`` in flight); 429/5xx/timeouts/
connection errors are retried with exponential backoff; a request that still fails returns a
``Response`` with ``error`` set (never an answer). Token counts and latency come back per response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from lmms_eval.api.errors import LmmsEvalError
from lmms_eval.api.generation import GenerationParams
from lmms_eval.api.model import Model, ModelConfig
from lmms_eval.api.request import Request, Response
from lmms_eval.clients.endpoint import EndpointConfig
from lmms_eval.clients.loop import LoopThread
from lmms_eval.clients.media import to_openai_messages
from lmms_eval.clients.openai_chat import AsyncChatClient, ChatResult, UsageMeter
from lmms_eval.media import FrameSampling, MediaSpec, audio_seconds

log = logging.getLogger(__name__)


class OpenAICompatConfig(ModelConfig, EndpointConfig):
    """``--model_args`` of ``openai_compat``: the shared endpoint settings plus these."""

    model: str = Field(description="model name as the server knows it (a local path for transformers serve)")
    max_concurrency: int = Field(8, ge=1, description="requests in flight at once")
    image_format: Literal["png", "jpeg"] = Field("png", description="encoding for in-memory images")
    jpeg_quality: int = Field(95, ge=1, le=100)
    max_frames: int | None = Field(32, ge=1, description="at most this many frames sent per video")
    fps: float | None = Field(None, gt=0, description="frames per second of video time to send")
    video_backend: str | None = None


class OpenAICompat(Model[OpenAICompatConfig]):
    """Adapter for OpenAI-compatible chat-completions servers (see the module docstring)."""

    name: ClassVar[str] = "openai_compat"
    modalities: ClassVar[frozenset[str]] = frozenset({"text", "image", "audio", "video"})
    Config: ClassVar[type[ModelConfig]] = OpenAICompatConfig
    renamed_args: ClassVar[dict[str, str]] = {"video_max_frames": "max_frames"}

    def __init__(self, config: OpenAICompatConfig | None = None) -> None:
        super().__init__(config)
        cfg = self.config
        self.max_concurrency = cfg.max_concurrency
        self.meter = UsageMeter()
        self.client = AsyncChatClient(cfg.client_settings(cfg.max_concurrency), self.meter)
        self._loop = LoopThread(name="openai_compat")

    @property
    def media_spec(self) -> MediaSpec:
        """Videos are decoded ahead (to frames); images and audio files go as their own bytes."""
        cfg = self.config
        return MediaSpec(video=FrameSampling(fps=cfg.fps, max_frames=cfg.max_frames), video_backend=cfg.video_backend)

    # ---- request building ---------------------------------------------------------------
    def build_call(self, request: Request) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The OpenAI ``messages`` and parameters for one request."""
        cfg = self.config
        params = request.params.to_openai(cfg.max_tokens_param)
        if cfg.extra_body:
            params["extra_body"] = {**cfg.extra_body, **params.get("extra_body", {})}
        spec = self.media_spec
        messages = to_openai_messages(
            request.messages, cfg.image_format, cfg.jpeg_quality, spec.video, spec.video_backend
        )
        return messages, params

    @staticmethod
    def to_response(result: ChatResult, params: GenerationParams) -> Response:
        """A client result -> the engine's :class:`Response` (errors stay errors).

        The text is cut before the first stop string, as the OpenAI API specifies; some
        servers (``transformers serve``) return the stop string itself.
        """
        if not result.ok:
            return Response(error=result.error, latency_s=result.latency_s, extra={"attempts": result.attempts})
        text = params.cut(result.text or "")
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

    @staticmethod
    def audio_extra(request: Request) -> dict[str, Any]:
        """What the record keeps about the request's audio: its duration (from the file headers)
        and that the whole file went to the server (``long_audio_policy: server``)."""
        parts = request.audios()
        if not parts:
            return {}
        extra: dict[str, Any] = {"long_audio_policy": "server"}
        seconds = [audio_seconds(p) for p in parts]
        if all(s is not None for s in seconds):
            extra["audio_seconds"] = round(sum(s for s in seconds if s is not None), 3)
        return extra

    async def _one(self, request: Request, batch_size: int) -> Response:
        response = await self._answer(request, batch_size)
        try:
            audio = self.audio_extra(request)
        except Exception:  # noqa: BLE001 - a duration estimate never fails a sample
            audio = {}
        if audio:
            response.extra = {**audio, **response.extra}
        return response

    async def _answer(self, request: Request, batch_size: int) -> Response:
        try:
            messages, params = await asyncio.to_thread(self.build_call, request)
        except LmmsEvalError:
            raise  # e.g. generation parameters an API cannot serve: the user must fix them
        except Exception as exc:  # noqa: BLE001 - an unreadable input fails this sample only
            return Response.failed(f"{request.label()}: cannot build the API request: {type(exc).__name__}: {exc}")
        result = await self.client.chat(self.config.model, messages, params)
        try:
            response = self.to_response(result, request.params)
        except Exception as exc:  # noqa: BLE001 - a reply that cannot be read fails this sample only
            return Response.failed(f"{request.label()}: cannot read the API reply: {type(exc).__name__}: {exc}")
        response.batch_size = batch_size
        return response

    async def agenerate(self, requests: Sequence[Request]) -> list[Response]:
        """Async :meth:`generate`: all requests concurrently, bounded by ``max_concurrency``.

        If one request raises (only a usage error does), the others are cancelled and awaited
        before the error propagates, so no call of a failed batch keeps running (or holds a
        concurrency slot) into the next one."""
        tasks = [asyncio.ensure_future(self._one(r, len(requests))) for r in requests]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

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
