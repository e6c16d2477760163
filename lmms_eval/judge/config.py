"""Which judge to call and how: :class:`JudgeConfig`, parsed from ``--judge``.

Accepted forms of the ``--judge`` string::

    openai:gpt-4o-2024-11-20                         # OpenAI API, key in $OPENAI_API_KEY
    gpt-4o-mini,concurrency=32,timeout=120           # a model, then key=value overrides
    model=Qwen/Qwen2.5-72B-Instruct,base_url=http://127.0.0.1:8000/v1,api_key_env=VLLM_KEY

The first comma-separated item may be ``[openai:]MODEL`` (no ``=``); the rest are ``key=value``
pairs naming :class:`JudgeConfig` fields. The key itself is never part of the configuration:
``api_key_env`` names the environment variable that holds it.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from lmms_eval.api.errors import UsageError, did_you_mean
from lmms_eval.api.model import parse_kv_string
from lmms_eval.clients.endpoint import EndpointConfig

_PROVIDERS = {"openai": None}


class JudgeConfig(EndpointConfig):
    """Settings of the LLM judge: the shared endpoint settings plus these. Every field is
    recorded in the results (the key is not)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(description="judge model name, e.g. gpt-4o-2024-11-20")
    concurrency: int = Field(8, ge=1, description="judge calls in flight at once")
    temperature: float = Field(0.0, ge=0)
    max_tokens: int = Field(1024, ge=1, description="reply budget per judge call")
    seed: int | None = None
    cache_path: str | None = Field(
        None, description="SQLite cache file; default: <run dir>/cache.sqlite, shared with the tools"
    )

    def call_params(self) -> dict[str, Any]:
        """Chat-completions parameters sent with every judge call."""
        params: dict[str, Any] = {"temperature": self.temperature, self.max_tokens_param: self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        if self.extra_body:
            params["extra_body"] = dict(self.extra_body)
        return params

    def describe(self) -> dict[str, Any]:
        """What the results record about the judge."""
        return self.model_dump(mode="json")


def parse_judge_arg(text: str | dict[str, Any] | JudgeConfig) -> JudgeConfig:
    """``--judge`` string (or dict) -> :class:`JudgeConfig` (see the module docstring)."""
    if isinstance(text, JudgeConfig):
        return text
    if isinstance(text, dict):
        values = dict(text)
    else:
        text = text.strip()
        if not text:
            raise UsageError("--judge is empty; give e.g. --judge openai:gpt-4o-2024-11-20")
        head, sep, rest = text.partition(",")
        values = {}
        if "=" not in head:
            provider, colon, name = head.partition(":")
            if colon and provider in _PROVIDERS:
                values["model"] = name.strip()
                if _PROVIDERS[provider]:
                    values["base_url"] = _PROVIDERS[provider]
            else:
                values["model"] = head.strip()
            text = rest if sep else ""
        values.update(parse_kv_string(text))
    fields = JudgeConfig.model_fields
    for key in values:
        if key not in fields:
            raise UsageError(f"--judge has no setting {key!r}.{did_you_mean(key, fields)} Known: {', '.join(fields)}")
    if not values.get("model"):
        raise UsageError("--judge needs a model, e.g. --judge openai:gpt-4o-2024-11-20 or model=NAME,base_url=URL")
    values["model"] = str(values["model"])
    try:
        return JudgeConfig(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UsageError(f"--judge setting {'.'.join(map(str, first['loc']))!r}: {first['msg']}") from None


CACHE_FILE = "cache.sqlite"
LEGACY_CACHE_FILE = "judge_cache.sqlite"


def default_cache_path(run_dir: str | None = None) -> str:
    """``<run_dir>/cache.sqlite`` (the run's one cache: judge replies and agent tool results, in
    their own tables), or ``judge_cache.sqlite`` in a run folder made before the tools shared it;
    without a run folder ``$LMMS_EVAL_CACHE/cache.sqlite`` (default ``~/.cache/lmms_eval``)."""
    if run_dir:
        legacy = os.path.join(run_dir, LEGACY_CACHE_FILE)
        return legacy if os.path.exists(legacy) else os.path.join(run_dir, CACHE_FILE)
    base = os.environ.get("LMMS_EVAL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "lmms_eval")
    return os.path.join(base, CACHE_FILE)
