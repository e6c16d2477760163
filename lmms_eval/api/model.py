"""The model adapter contract and ``--model_args`` parsing."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from lmms_eval.api.errors import UsageError, did_you_mean
from lmms_eval.api.request import Request, Response


class ModelConfig(BaseModel):
    """Base for adapters' validated arguments. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


def parse_kv_string(text: str | None) -> dict[str, Any]:
    """Parse ``"k=v,k2=v2"`` into a dict, typing values as Python literals where they parse.

    Values may hold commas inside brackets or quotes: ``device_map={"":0},max_pixels=1003520``.
    """
    if not text:
        return {}
    parts: list[str] = []
    depth, quote, current = 0, "", []
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current))
    out: dict[str, Any] = {}
    for part in parts:
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"cannot read {part!r} as key=value; write e.g. pretrained=org/name,batch_size=4")
        out[key.strip()] = _literal(value.strip())
    return out


def _literal(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


class Model:
    """Base class for model adapters.

    Subclasses set ``name``, ``modalities`` and ``Config`` (a :class:`ModelConfig`), and
    implement :meth:`generate`. ``max_batch_size`` bounds how many requests the scheduler
    hands over at once; ``max_concurrency`` is for API adapters that fan out internally.
    """

    name: ClassVar[str] = "model"
    modalities: ClassVar[frozenset[str]] = frozenset({"text"})
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    max_batch_size: int = 1
    max_concurrency: int = 1

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()

    @classmethod
    def from_args(cls, args: str | dict[str, Any] | None, **overrides: Any) -> Model:
        """Build from a ``k=v,...`` string or dict, validating against ``Config``."""
        values = parse_kv_string(args) if isinstance(args, str) or args is None else dict(args)
        values.update({k: v for k, v in overrides.items() if v is not None})
        fields = cls.Config.model_fields
        for key in values:
            if key not in fields:
                raise UsageError(
                    f"model {cls.name!r} has no argument {key!r}.{did_you_mean(key, fields)} "
                    f"Known arguments: {', '.join(sorted(fields)) or '(none)'}."
                )
        try:
            config = cls.Config(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise UsageError(f"model {cls.name!r} argument {loc!r}: {first['msg']}") from None
        return cls(config)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """Return one :class:`Response` per request, in order. Per-request failures go in
        ``Response.error``; an exception fails the whole batch (the engine then retries the
        requests one by one so a single bad sample cannot take its neighbours with it)."""
        raise NotImplementedError

    def loglikelihood(self, requests: Sequence[tuple[Request, str]]) -> list[float]:
        """Optional: log-probability of each continuation given the request's prompt."""
        raise NotImplementedError(f"model {self.name!r} does not support loglikelihood")

    def describe(self) -> dict[str, Any]:
        """What the results record about this model (secrets are redacted later)."""
        return {"name": self.name, "args": self.config.model_dump(mode="json")}

    def close(self) -> None:
        """Release resources (GPU memory, servers, process groups)."""
