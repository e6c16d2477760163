"""Errors the harness raises on purpose: each carries a one-line message with the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LmmsEvalError(Exception):
    """Base class: a problem the user can fix. The CLI prints it as one line."""

    exit_code = 1


class UsageError(LmmsEvalError):
    """Bad command line, unknown name, bad configuration: exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """A task YAML or run config that cannot be used as written."""


class DatasetError(LmmsEvalError):
    """The dataset could not be loaded or lacks a column the task needs."""


class OutputError(LmmsEvalError):
    """A file of the run could not be written (disk full, read-only folder); nothing finished is lost."""


class SampleError(Exception):
    """A single sample cannot be built or scored; it becomes an error record."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ' Did you mean X?' for the closest candidate, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
