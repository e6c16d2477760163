"""The validated configuration of one run (from CLI flags, a ``--config`` YAML, or Python)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lmms_eval.api.model import parse_kv_string


class RunConfig(BaseModel):
    """Everything that defines a run. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)
    tasks: list[str]
    batch_size: int | Literal["auto"] = 1
    max_batch_tokens: float | None = None
    limit: float | None = None
    offset: int = 0
    output_path: str = "./logs"
    log_samples: bool = True
    include_path: list[str] = Field(default_factory=list)
    gen_kwargs: dict[str, Any] = Field(default_factory=dict)
    prompt_variant: str | None = None
    """A prompt variant every task runs under (``--prompt_variant reasoning``; see ``tasks/variants.py``)."""
    tools: dict[str, Any] | None = None
    """The search backend of agent tasks (``--tools backend=corpus,corpus=DIR``; see ``agent/toolbox.py``).
    Not part of the resume key: a run recorded live resumes from its replay cache."""
    seed: int = 0
    predict_only: bool = False
    resume: bool = False
    max_error_rate: float = 0.0
    bootstrap_iters: int = 100
    decode_workers: int = Field(4, ge=0)
    """Threads decoding media of the next batches while the model runs (0: decode in the model call)."""
    decode_ahead: int = Field(2, ge=1)
    """Batches decoded ahead of the one the model runs (bounds the memory decoded media take)."""
    judge: Any = None  # a lmms_eval.judge.JudgeConfig; not part of the resume key
    redact_env: list[str] = Field(default_factory=list)
    """Names of environment variables whose values are secrets (``--redact_env NAME``, repeatable;
    also ``$LMMS_EVAL_REDACT``): their values are scrubbed from every file and console line.
    Not part of the resume key."""
    shard: str | None = None
    """``K/N``: run only the K-th of N cost-balanced slices of every task (see ``engine/shards.py``);
    ``lmms-eval merge`` folds the N shard folders into one run. Part of the resume key."""
    verbosity: str = "INFO"
    show_progress: bool = True

    @field_validator("model_args", "gen_kwargs", mode="before")
    @classmethod
    def _parse_kv(cls, value: Any) -> Any:
        return parse_kv_string(value) if isinstance(value, str) or value is None else value

    @field_validator("tasks", "include_path", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        from lmms_eval.agent.toolbox import parse_tools_arg

        return parse_tools_arg(value)

    @field_validator("judge", mode="before")
    @classmethod
    def _judge(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        from lmms_eval.judge.config import parse_judge_arg

        return parse_judge_arg(value)

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"--batch_size must be a whole number >= 1 or 'auto', not {value}")
        return value

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: float | None) -> float | None:
        if value is None:
            return None
        if value <= 0:
            raise ValueError(
                f"--limit must be > 0 (a number of documents >= 1, or a fraction in (0, 1)), not {value:g}"
            )
        if value > 1 and not float(value).is_integer():
            raise ValueError(f"--limit above 1 is a number of documents: give a whole number, not {value:g}")
        return int(value) if value >= 1 else value

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"--offset must be >= 0 (documents to skip), not {value}")
        return value

    @field_validator("max_batch_tokens")
    @classmethod
    def _max_batch_tokens(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"--max_batch_tokens must be > 0, not {value:g}")
        return value

    @field_validator("max_error_rate")
    @classmethod
    def _max_error_rate(cls, value: float) -> float:
        if not 0 <= value <= 1:
            raise ValueError(f"--max_error_rate is a share of samples in [0, 1], not {value:g}")
        return value

    @field_validator("bootstrap_iters")
    @classmethod
    def _bootstrap_iters(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"--bootstrap_iters must be >= 0, not {value}")
        return value

    @field_validator("shard", mode="before")
    @classmethod
    def _shard(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        from lmms_eval.engine.shards import parse_shard, shard_label

        return shard_label(*parse_shard(value))

    def resume_key(self) -> str:
        """Hash of what must match for a run directory to be resumed."""
        keys = ("model", "model_args", "tasks", "limit", "offset", "gen_kwargs", "seed", "predict_only")
        fields = {k: getattr(self, k) for k in keys}
        if self.prompt_variant:  # only when set, so runs made before the flag existed still resume
            fields["prompt_variant"] = self.prompt_variant
        if self.shard:  # each shard is its own run: one shard never resumes another's folder
            fields["shard"] = self.shard
        raw = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]
