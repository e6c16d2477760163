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
        if isinstance(value, str) and value.isdigit():
            return int(value)
        return value

    def resume_key(self) -> str:
        """Hash of what must match for a run directory to be resumed."""
        keys = ("model", "model_args", "tasks", "limit", "offset", "gen_kwargs", "seed", "predict_only")
        raw = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]
