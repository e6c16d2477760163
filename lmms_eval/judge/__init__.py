"""The LLM-as-judge stage: configuration, cached async calls, strict verdict parsing, cascade.

* :class:`JudgeConfig` / :func:`parse_judge_arg`: which judge (``--judge openai:gpt-4o-2024-11-20``).
* :class:`JudgeSpec` / :func:`parse_spec` / :func:`parse_specs`: what a task asks of it (the task
  YAML's ``judge:``, one block or a list of blocks run in order).
* :class:`JudgeCache`: SQLite cache of replies, so re-runs never pay twice.
* :func:`judge_records` (async) / :func:`judge_records_sync`: the engine entry point.
* :func:`judge_summary`: counts for the results (rule vs judge decisions, errors, calls), per block.

See ``docs/judge.md``.
"""

from __future__ import annotations

from lmms_eval.judge.blocks import block_entries, judge_records, judge_records_sync, judge_summary
from lmms_eval.judge.cache import JudgeCache
from lmms_eval.judge.config import JudgeConfig, default_cache_path, parse_judge_arg
from lmms_eval.judge.parsing import VerdictError
from lmms_eval.judge.spec import JudgeSpec, parse_spec, parse_specs
from lmms_eval.judge.stage import JUDGE_ERROR, JudgeStage

__all__ = [
    "JUDGE_ERROR",
    "JudgeCache",
    "JudgeConfig",
    "JudgeSpec",
    "JudgeStage",
    "VerdictError",
    "block_entries",
    "default_cache_path",
    "judge_records",
    "judge_records_sync",
    "judge_summary",
    "parse_judge_arg",
    "parse_spec",
    "parse_specs",
]
