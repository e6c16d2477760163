"""The ``agent:`` block of a task (or of one of its prompt variants): which protocol drives the
conversation, which tools it may call and how often.

```yaml
agent:
  protocol: mmsearch_r1        # a registered protocol (lmms-eval agents lists them)
  max_turns: 3                 # model turns per sample (the protocol's default when left out)
  tools:                       # per-tool limits; a tool left out keeps the protocol's default
    image_search: {max_calls: 1, top_k: 5}
    text_search: {max_calls: 2, top_k: 5}
  timeout_s: 60                # one tool call; a slower call is a failed call, recorded
  result_budget: 2000          # words of tool results shown per turn (None: no cut)
  question: !function utils.question      # optional: fn(doc) -> the question text
  choices: !function utils.choices        # optional: fn(doc) -> option texts (MGPO's turn 2)
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lmms_eval.api.errors import ConfigError


class ToolLimit(BaseModel):
    """How one tool may be used in one sample."""

    model_config = ConfigDict(extra="forbid")

    max_calls: int = Field(1, ge=0)
    """Calls allowed per sample; one more ends the conversation (recorded as ``over_limit``)."""
    top_k: int = Field(5, ge=1)
    """Results per search call."""


class AgentSpec(BaseModel):
    """A validated ``agent:`` block (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    protocol: str
    max_turns: int | None = Field(None, ge=1)
    tools: dict[str, ToolLimit] = Field(default_factory=dict)
    timeout_s: float = Field(60.0, gt=0)
    result_budget: int | None = Field(None, ge=1)
    question: Callable[..., Any] | None = None
    choices: Callable[..., Any] | None = None

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        return {} if value is None else value


def parse_agent(raw: Any, where: str) -> AgentSpec:
    """Validate an ``agent:`` mapping; a bad one is a ConfigError naming ``where`` and the key.

    The protocol must be registered and every tool named must be one the protocol calls."""
    from lmms_eval.agent.protocol import PROTOCOLS
    from lmms_eval.api.task_config import validate_config

    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: agent: must be a mapping with at least protocol: NAME, not {raw!r}")
    spec: AgentSpec = validate_config(AgentSpec, raw, f"{where}: agent")
    protocol = PROTOCOLS.get(spec.protocol)
    unknown = sorted(set(spec.tools) - set(protocol.tools))
    if unknown:
        raise ConfigError(
            f"{where}: agent: protocol {spec.protocol!r} calls {', '.join(protocol.tools) or 'no tool'}; "
            f"remove the limits of {', '.join(unknown)}"
        )
    return spec
