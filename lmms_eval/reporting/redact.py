"""Remove secrets (API keys, tokens, passwords) from anything the harness writes or prints.

Two layers:

* by name and shape: :func:`redact` masks values under key-like names (``api_key``, ``token``,
  ``password``, ``headers``, ...) and :func:`redact_text` masks credential-shaped strings
  (``sk-...``, ``hf_...``, ``Bearer ...``, ``api_key=...``);
* by value: a process-wide registry of the secrets the run read (:func:`add_secrets`, filled
  from :func:`collect_secrets` when a run or ``lmms-eval score`` starts, and by the API client
  with the key it reads). Every registered value is replaced wherever it appears: in
  ``run.json``/``results.json`` (:func:`redact`), in each sample log line
  (:func:`scrub_bytes`), and on the console (:func:`install_console_redaction`), whatever the
  text around it, e.g. a server's ``401 Incorrect API key provided: <key>``.

Which values are secrets (:func:`collect_secrets`): the values of the environment variables
named by any ``*_env`` setting (``api_key_env=MY_KEY`` -> ``$MY_KEY``), of the well-known
credential variables (:data:`KNOWN_SECRET_ENV`), of the variables listed in
``$LMMS_EVAL_REDACT`` (comma-separated names) or given with ``--redact_env NAME``; and every
value under a key-like name or a ``headers``-like key anywhere in the model args, generation
kwargs and judge settings. Values shorter than :data:`MIN_SECRET_LEN` characters are never
registered, so common words are not scrubbed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any, TextIO

REDACTED = "<redacted>"
_REDACTED_BYTES = REDACTED.encode()
REDACT_ENV_VAR = "LMMS_EVAL_REDACT"
"""Names (comma-separated) of environment variables whose values are secrets."""
MIN_SECRET_LEN = 6
KNOWN_SECRET_ENV: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACEHUB_API_TOKEN",
    "MISTRAL_API_KEY",
    "DASHSCOPE_API_KEY",
    "TOGETHER_API_KEY",
    "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY",
    "GROQ_API_KEY",
    "WANDB_API_KEY",
)
"""Credential variables whose values are registered whenever they are set."""

_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|authorization|auth|credential)", re.I)
_HEADERS_KEY = re.compile(r"(^|_)headers?$", re.I)
# Common credential shapes: OpenAI/Anthropic-style keys, HF tokens, bearer headers, key=... pairs.
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|Bearer\s+[A-Za-z0-9._\-]{16,}|AIza[0-9A-Za-z_\-]{30,})"
)
_INLINE_PAIR = re.compile(r"((?:api[_-]?key|token|secret|password)\s*=\s*)([^,\s]+)", re.I)
_AUTH_SCHEMES = ("bearer", "basic", "token", "apikey", "api-key")

# ---- the registry of secret values ----------------------------------------------------------
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
# Rebuilt when the set changes; None while it is empty (the fast path: one comparison).
_text_re: re.Pattern[str] | None = None
_bytes_re: re.Pattern[bytes] | None = None


def _forms(value: str) -> set[str]:
    """The ways ``value`` may appear in text: as is, JSON-escaped, repr-escaped, URL-encoded."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(value)[1:-1],
        urllib.parse.quote(value, safe=""),
    }


def add_secrets(values: Iterable[Any]) -> None:
    """Register secret values: from now on they are replaced by ``<redacted>`` everywhere.

    Non-strings and strings shorter than :data:`MIN_SECRET_LEN` are ignored.
    """
    global _secrets, _text_re, _bytes_re
    new = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LEN}
    with _lock:
        if new <= _secrets:
            return
        _secrets = _secrets | new
        forms = sorted({f for s in _secrets for f in _forms(s) if f}, key=lambda f: (-len(f), f))
        _text_re = re.compile("|".join(re.escape(f) for f in forms))
        _bytes_re = re.compile(b"|".join(re.escape(f.encode("utf-8", "surrogatepass")) for f in forms))


def registered_secrets() -> frozenset[str]:
    """The secret values registered so far."""
    return _secrets


def clear_secrets() -> None:
    """Forget every registered secret (tests; a long-lived process between runs)."""
    global _secrets, _text_re, _bytes_re
    with _lock:
        _secrets, _text_re, _bytes_re = frozenset(), None, None


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced (no credential-shape rules)."""
    pattern = _text_re
    if pattern is None:
        return text
    return pattern.sub(REDACTED, text)


def scrub_bytes(data: bytes) -> bytes:
    """:func:`scrub` for UTF-8 bytes (a sample log line); returns ``data`` itself when nothing matched."""
    pattern = _bytes_re
    if pattern is None:
        return data
    out, n = pattern.subn(_REDACTED_BYTES, data)
    return out if n else data


# ---- which values are secrets --------------------------------------------------------------
def secret_named(key: Any) -> bool:
    """Whether a setting's name says its value is a credential.

    ``*_env`` names an environment variable (``api_key_env: OPENAI_API_KEY``), not a secret, and
    names about ``tokens``/``tokenizer`` are counts, settings or paths; none of them are.
    """
    if not isinstance(key, str) or not _SECRET_KEY.search(key) or key.endswith("_env"):
        return False
    lowered = key.lower()
    return "tokens" not in lowered and "tokenizer" not in lowered


def headers_named(key: Any) -> bool:
    """Whether a setting holds HTTP headers (``headers``, ``default_headers``, ``extra_headers``)."""
    return isinstance(key, str) and bool(_HEADERS_KEY.search(key))


def _env_values(names: Iterable[Any]) -> list[str]:
    out = []
    for name in names:
        if isinstance(name, str) and name.strip():
            value = os.environ.get(name.strip())
            if value:
                out.append(value)
    return out


def _leaf_strings(value: Any) -> Iterable[str]:
    """Every string (and whole number, as text) inside ``value``; an auth header also yields its credential."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaf_strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _leaf_strings(item)
    elif isinstance(value, int) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, str):
        yield value
        scheme, space, credential = value.strip().partition(" ")
        if space and scheme.lower() in _AUTH_SCHEMES:
            yield credential.strip()


def _walk(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith("_env"):
                names = item if isinstance(item, (list, tuple)) else [item]
                found.extend(_env_values(names))
            elif secret_named(key) or headers_named(key):
                found.extend(_leaf_strings(item))
            else:
                _walk(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _walk(item, found)
    elif isinstance(value, str) and value.lstrip().startswith("{"):
        try:  # a JSON object given as text (e.g. extra_body from a YAML string)
            _walk(json.loads(value), found)
        except ValueError:
            pass


def _as_plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # a pydantic model (JudgeConfig)
        return value.model_dump(mode="python")
    return value


def collect_secrets(run_config: Any) -> list[str]:
    """The secret values a run reads (see the module docstring), from a
    :class:`~lmms_eval.engine.run_config.RunConfig` (or anything with its attributes) and the
    environment. Values shorter than :data:`MIN_SECRET_LEN` are left out."""
    found: list[str] = []
    for name in ("model_args", "gen_kwargs", "judge"):
        _walk(_as_plain(getattr(run_config, name, None)), found)
    found.extend(_env_values(getattr(run_config, "redact_env", None) or []))
    found.extend(_env_values((os.environ.get(REDACT_ENV_VAR) or "").split(",")))
    found.extend(_env_values(KNOWN_SECRET_ENV))
    seen: dict[str, None] = {}
    for value in found:
        if isinstance(value, str) and len(value) >= MIN_SECRET_LEN:
            seen.setdefault(value, None)
    return list(seen)


# ---- redaction of values written to files -----------------------------------------------------
def redact_text(text: str) -> str:
    """Mask registered secrets, credential-looking substrings and ``key=value`` secrets in a string."""
    text = scrub(text)
    text = _SECRET_VALUE.sub(REDACTED, text)
    return _INLINE_PAIR.sub(lambda m: m.group(1) + REDACTED, text)


def redact(value: Any) -> Any:
    """A copy of ``value`` with secret-named keys masked, everything under a ``headers``-like key
    masked, and secrets (registered values, credential shapes) masked inside every string.

    Keys ending in ``_env`` name an environment variable (``api_key_env: OPENAI_API_KEY``),
    not a secret, and keys about ``tokens`` are counts or settings; both are kept.
    """
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if secret_named(key) and item not in (None, False, True, ""):
                out[key] = REDACTED
            elif headers_named(key) and isinstance(item, dict):
                out[key] = {k: REDACTED if v not in (None, "") else v for k, v in item.items()}
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def scrub_values(value: Any) -> Any:
    """A copy of ``value`` with registered secrets replaced inside every string value (keys kept)."""
    if isinstance(value, dict):
        return {k: scrub_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_values(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


# ---- the console ----------------------------------------------------------------------------
class RedactingStream:
    """A text stream that scrubs registered secrets from what is written, then hands it to
    ``wrapped``; everything else (flush, fileno, isatty, encoding, buffer...) is the wrapped
    stream's own."""

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped

    def write(self, text: str) -> int:
        self.wrapped.write(scrub(text) if _text_re is not None and isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.wrapped.flush()

    def fileno(self) -> int:
        return self.wrapped.fileno()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class RedactFilter(logging.Filter):
    """Scrubs registered secrets from a log record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        _scrub_record(record)
        return True


def _scrub_record(record: logging.LogRecord) -> None:
    if _text_re is None or getattr(record, "_lmms_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is the logging module's to report
        return
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    setattr(record, "_lmms_redacted", True)  # noqa: B010 - not a LogRecord attribute


_installed = False
_filter = RedactFilter()


def install_console_redaction() -> None:
    """Scrub registered secrets from everything printed: wrap ``sys.stdout``/``sys.stderr`` (once)
    and redact every log record (a filter on the root logger and its handlers, and the record
    factory, so records of loggers that do not propagate are scrubbed too). Idempotent."""
    global _installed
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))
    root = logging.getLogger()
    if _filter not in root.filters:
        root.addFilter(_filter)
    for handler in root.handlers:
        if _filter not in handler.filters:
            handler.addFilter(_filter)
    with _lock:
        if _installed:
            return
        _installed = True
        make_record = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make_record(*args, **kwargs)
            _scrub_record(record)
            return record

        logging.setLogRecordFactory(factory)
