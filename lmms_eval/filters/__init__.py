"""Answer filters: deterministic transforms from a raw model output to the scored answer.

A filter is ``fn(value: str, doc: dict, **kwargs) -> str``. Filter pipelines in a task YAML
chain them (``filter_list``); the pipeline's name appears after the comma in result keys.
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.registry import FILTERS


@FILTERS.register("regex")
def regex_filter(value: str, doc: Any = None, regex_pattern: str = "", group_select: int = 0, fallback: str = "") -> str:
    """Take a regex match (``group_select``-th match; first group if the pattern has one).

    No match gives ``fallback`` (default empty, which metrics score as wrong), never a guess.
    """
    matches = list(re.finditer(regex_pattern, value))
    if not matches:
        return fallback
    match = matches[group_select] if -len(matches) <= group_select < len(matches) else matches[0]
    return match.group(1) if match.groups() else match.group(0)


@FILTERS.register("lowercase")
def lowercase(value: str, doc: Any = None) -> str:
    """Lower-case the answer."""
    return value.lower()


@FILTERS.register("uppercase")
def uppercase(value: str, doc: Any = None) -> str:
    """Upper-case the answer."""
    return value.upper()


@FILTERS.register("strip")
def strip(value: str, doc: Any = None) -> str:
    """Remove leading and trailing whitespace."""
    return value.strip()


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


@FILTERS.register("strip_think")
def strip_think(value: str, doc: Any = None) -> str:
    """Drop ``<think>...</think>`` reasoning blocks (and an unclosed trailing one's opener)."""
    out = _THINK.sub("", value)
    if "</think>" in out.lower():
        out = out[out.lower().rindex("</think>") + len("</think>"):]
    return out.strip()


_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)


@FILTERS.register("answer_tag")
def answer_tag(value: str, doc: Any = None, fallback: str = "") -> str:
    """The text inside the last ``<answer>...</answer>``; ``fallback`` (empty) if absent."""
    found = _ANSWER.findall(value)
    return found[-1].strip() if found else fallback
