"""Remove secrets (API keys, tokens, passwords) from anything the harness writes."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|passwd|authorization|auth|credential)", re.I)
# Common credential shapes: OpenAI/Anthropic-style keys, HF tokens, bearer headers, key=... pairs.
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|Bearer\s+[A-Za-z0-9._\-]{16,}|AIza[0-9A-Za-z_\-]{30,})"
)
_INLINE_PAIR = re.compile(r"((?:api[_-]?key|token|secret|password)\s*=\s*)([^,\s]+)", re.I)


def redact_text(text: str) -> str:
    """Mask credential-looking substrings and ``key=value`` secrets inside a string."""
    text = _SECRET_VALUE.sub(REDACTED, text)
    return _INLINE_PAIR.sub(lambda m: m.group(1) + REDACTED, text)


def redact(value: Any) -> Any:
    """A copy of ``value`` with secret-named keys masked and secret-looking strings masked.

    Keys ending in ``_env`` name an environment variable (``api_key_env: OPENAI_API_KEY``),
    not a secret, and keys about ``tokens`` are counts or settings; both are kept.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            # ``*_env`` names an environment variable; ``*tokens*`` (plural) are counts and
            # settings such as max_new_tokens or max_tokens_param, not credentials.
            secret_named = (
                isinstance(key, str)
                and _SECRET_KEY.search(key)
                and not key.endswith("_env")
                and "tokens" not in key.lower()
            )
            if secret_named and item not in (None, False, True, ""):
                out[key] = REDACTED
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
