"""Answer filters: deterministic transforms from a raw model output to the scored answer.

A filter is ``fn(value: str, doc: dict, **kwargs) -> str``. Filter pipelines in a task YAML
chain them (``filter_list``); the pipeline's name appears after the comma in result keys.
"""

from __future__ import annotations

import re
from typing import Any

from lmms_eval.api.errors import SampleError
from lmms_eval.api.registry import FILTERS


@FILTERS.register("regex")
def regex_filter(
    value: str, doc: Any = None, regex_pattern: str = "", group_select: int = 0, fallback: str = ""
) -> str:
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
        out = out[out.lower().rindex("</think>") + len("</think>") :]
    return out.strip()


_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)


@FILTERS.register("answer_tag")
def answer_tag(value: str, doc: Any = None, fallback: str = "") -> str:
    """The text inside the last ``<answer>...</answer>``; ``fallback`` (empty) if absent."""
    found = _ANSWER.findall(value)
    return found[-1].strip() if found else fallback


@FILTERS.register("boxed")
def boxed(value: str, doc: Any = None, fallback: str = "") -> str:
    """The content of the last ``\\boxed{...}`` (balanced braces); ``fallback`` (empty) if absent."""
    from lmms_eval.metrics.extract import last_boxed

    found = last_boxed(value)
    return found if found is not None else fallback


def _doc_choices(doc: Any, choices_key: str | None) -> list[Any] | None:
    """Option texts from ``doc[choices_key]``: a list, or a string holding a Python/JSON list."""
    if not choices_key:
        return None
    if not isinstance(doc, dict) or choices_key not in doc:
        raise SampleError(f"mcq_letter: the doc has no field {choices_key!r} (choices_key); fix the filter's kwargs.")
    raw = doc[choices_key]
    if isinstance(raw, str):
        import ast

        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            raise SampleError(
                f"mcq_letter: doc[{choices_key!r}] is a string that is not a list: {raw[:60]!r}"
            ) from None
    return list(raw) if raw is not None else None


@FILTERS.register("mcq_letter")
def mcq_letter(value: str, doc: Any = None, letters: str | None = None, choices_key: str | None = None) -> str:
    """The option letter named by the answer (``extract_choice``); empty string when none is.

    ``letters`` sets the option labels (default A-Z); ``choices_key`` names a doc field with
    the option texts, which limits the letters to the number of options and lets an answer
    name its option by text.
    """
    from lmms_eval.metrics.extract import LETTERS, extract_choice

    letter = extract_choice(value, _doc_choices(doc, choices_key), letters or LETTERS)
    return letter or ""


@FILTERS.register("yes_no")
def yes_no(value: str, doc: Any = None) -> str:
    """``yes``/``no`` from a free-text answer (MME rule: first word, else the only one present); else empty."""
    from lmms_eval.metrics.extract import extract_yes_no

    return extract_yes_no(value) or ""


def list_filters() -> list[tuple[str, str]]:
    """Every registered filter (plugins included) as ``(name, first line of its docstring)``."""
    from lmms_eval.api.errors import UsageError

    out = []
    for name, fn in FILTERS.loaded():
        if isinstance(fn, UsageError):  # a plugin whose package is missing still gets listed
            out.append((name, f"(cannot be loaded: {fn})"))
            continue
        doc = (getattr(fn, "__doc__", None) or "").strip()
        out.append((name, doc.splitlines()[0] if doc else ""))
    return out
