"""An async client for OpenAI-compatible chat-completions endpoints.

One :class:`AsyncChatClient` serves many concurrent calls:

* at most ``max_concurrency`` requests are in flight (an ``asyncio.Semaphore``);
* a call that fails with HTTP 408/409/429/5xx, a timeout or a connection error is retried up to
  ``max_retries`` times with exponential backoff and jitter (``tenacity``); a ``Retry-After``
  header, when the server sends one, sets the wait instead (capped at ``backoff_max``);
* other failures (400/401/403/404/422, a malformed reply) are not retried;
* no call raises for these: each returns a :class:`ChatResult` whose ``error`` says what went
  wrong, so callers can mark that one sample failed and carry on;
* every call is counted in a :class:`UsageMeter` (calls, retries, failures, tokens, seconds).

The API key is read from the environment variable named by ``api_key_env``, never stored, and
registered as a secret (:func:`~lmms_eval.reporting.redact.add_secrets`): a server that quotes it
back in an error gets it scrubbed from every log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import UsageError
from lmms_eval.reporting.redact import add_secrets, redact_text

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 520, 522, 524, 529})
_OFFICIAL_HOSTS = ("api.openai.com",)


@dataclass(frozen=True)
class ClientSettings:
    """Where and how to call: endpoint, key variable, timeout, retries, concurrency."""

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 600.0
    max_retries: int = 5
    max_concurrency: int = 8
    backoff_initial: float = 1.0
    backoff_max: float = 60.0

    def api_key(self) -> str:
        """The key from ``$api_key_env``. Self-hosted servers may run without one (``"EMPTY"``)."""
        key = os.environ.get(self.api_key_env)
        if key:
            add_secrets([key])  # whatever a server echoes back, the key is scrubbed from logs and console
            return key
        if self.base_url is None or any(h in self.base_url for h in _OFFICIAL_HOSTS):
            raise UsageError(
                f"environment variable {self.api_key_env} is not set; export your API key in it "
                f"(or name another variable with api_key_env=NAME)"
            )
        return "EMPTY"


@dataclass
class ChatResult:
    """The outcome of one chat call: ``text`` when it worked, ``error`` when it did not."""

    text: str | None = None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    attempts: int = 0
    finish_reason: str | None = None
    model: str | None = None
    reasoning: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class UsageMeter:
    """Thread-safe running totals over all calls of one client (or several sharing it)."""

    calls: int = 0
    succeeded: int = 0
    failed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, result: ChatResult) -> None:
        with self._lock:
            self.calls += 1
            self.retries += max(0, result.attempts - 1)
            if result.ok:
                self.succeeded += 1
            else:
                self.failed += 1
            self.prompt_tokens += result.prompt_tokens or 0
            self.completion_tokens += result.completion_tokens or 0
            self.seconds += result.latency_s

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.calls,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "retries": self.retries,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "seconds": round(self.seconds, 3),
            }


class MalformedReply(Exception):
    """The server answered 200 but not with a usable chat completion."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status carried by an ``openai`` error, if any."""
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)


def is_retryable(exc: BaseException) -> bool:
    """429/5xx/408/409, timeouts and connection errors are worth another try; the rest are not."""
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, asyncio.TimeoutError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS
    return False


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After``/``retry-after-ms`` header of a failed call, if given."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers["retry-after-ms"]) / 1000.0
        if headers.get("retry-after") is not None:
            return float(headers["retry-after"])
    except (TypeError, ValueError):
        return None
    return None


def describe_error(exc: BaseException, attempts: int) -> str:
    """One line: error type, HTTP status, message (secrets masked), attempts made."""
    status = status_of(exc)
    message = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    message = " ".join(message.split())[:500]
    head = f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    tail = f" after {attempts} attempt{'s' if attempts != 1 else ''}"
    return redact_text(f"{head}: {message}{tail}")


def _parse_completion(resp: Any) -> ChatResult:
    choices = getattr(resp, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise MalformedReply(f"reply has no choices: {str(resp)[:200]!r}")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise MalformedReply("reply's first choice has no message")
    content = getattr(message, "content", None)
    if content is not None and not isinstance(content, str):
        raise MalformedReply(f"reply content is a {type(content).__name__}, not text")
    usage = getattr(resp, "usage", None)
    extra = getattr(message, "model_extra", None) or {}
    reasoning = extra.get("reasoning_content") or extra.get("reasoning")
    return ChatResult(
        text=content or "",
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
        finish_reason=getattr(choices[0], "finish_reason", None),
        model=getattr(resp, "model", None),
        reasoning=reasoning if isinstance(reasoning, str) else None,
    )


class AsyncChatClient:
    """Bounded-concurrency, retrying chat-completions client (see the module docstring).

    The underlying ``openai.AsyncOpenAI`` client is created in the event loop that first uses
    it, and again if a later call runs in another loop, so one instance can serve successive
    ``asyncio.run`` calls.
    """

    def __init__(self, settings: ClientSettings, meter: UsageMeter | None = None) -> None:
        self.settings = settings
        self.meter = meter if meter is not None else UsageMeter()
        self._api_key = settings.api_key()
        self._client: Any = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._client is not None:
            return
        import openai

        self._loop = loop
        self._semaphore = asyncio.Semaphore(max(1, int(self.settings.max_concurrency)))
        self._client = openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self.settings.base_url,
            timeout=float(self.settings.timeout),
            max_retries=0,
        )

    def _wait_seconds(self, attempt: int, exc: BaseException | None) -> float:
        hinted = retry_after_seconds(exc) if exc is not None else None
        if hinted is not None:
            return min(max(hinted, 0.0), self.settings.backoff_max)
        base = self.settings.backoff_initial * (2 ** max(0, attempt - 1))
        return min(base, self.settings.backoff_max) * (0.5 + random.random() / 2)

    async def _create(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Any:
        import openai

        try:
            return await self._client.chat.completions.create(model=model, messages=messages, **params)
        except json.JSONDecodeError as exc:
            raise MalformedReply(f"reply is not valid JSON ({exc})") from None
        except openai.APIResponseValidationError as exc:
            raise MalformedReply(f"reply does not match the chat-completions schema ({exc})") from None

    async def chat(
        self, model: str, messages: list[dict[str, Any]], params: dict[str, Any] | None = None
    ) -> ChatResult:
        """One chat completion with retries. Never raises for API/transport failures."""
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        self._bind()
        assert self._semaphore is not None
        params = dict(params or {})
        attempts = 0
        started = time.perf_counter()

        def wait(state: Any) -> float:
            exc = state.outcome.exception() if state.outcome is not None else None
            return self._wait_seconds(state.attempt_number, exc)

        async with self._semaphore:
            try:
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception(is_retryable),
                    stop=stop_after_attempt(int(self.settings.max_retries) + 1),
                    wait=wait,
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        resp = await self._create(model, messages, params)
                result = _parse_completion(resp)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes this call's error
                if attempts > 1 or is_retryable(exc):
                    log.debug("chat call failed: %s", exc)
                result = ChatResult(error=describe_error(exc, attempts))
        result.attempts = attempts
        result.latency_s = round(time.perf_counter() - started, 4)
        self.meter.add(result)
        return result

    async def chat_many(
        self,
        model: str,
        items: Sequence[tuple[list[dict[str, Any]], dict[str, Any]]],
        on_result: Callable[[int, ChatResult], Awaitable[None] | None] | None = None,
    ) -> list[ChatResult]:
        """Run many calls concurrently (bounded by ``max_concurrency``); results in input order."""

        async def one(i: int, messages: list[dict[str, Any]], params: dict[str, Any]) -> ChatResult:
            result = await self.chat(model, messages, params)
            if on_result is not None:
                maybe = on_result(i, result)
                if asyncio.iscoroutine(maybe):
                    await maybe
            return result

        return list(await asyncio.gather(*(one(i, m, p) for i, (m, p) in enumerate(items))))

    async def aclose(self) -> None:
        """Close the HTTP connection pool (in the loop that owns it)."""
        if self._client is not None:
            try:
                await self._client.close()
            finally:
                self._client = None
                self._loop = None

    async def __aenter__(self) -> AsyncChatClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
