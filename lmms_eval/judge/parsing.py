"""Strict, deterministic parsers for judge replies.

Every parser returns the verdict or raises :class:`VerdictError`; there is no fallback value. A
reply that restates both labels, gives two different ratings, or leaves a rubric component out
is unparseable: the sample becomes a ``judge_error`` rather than a guessed score.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_BINARY_PATTERN = r"verdict\s*[:：]\s*[*_`\"'\[]*\s*(correct|incorrect)\b"
DEFAULT_BINARY_LABELS: dict[str, list[str]] = {"correct": ["correct"], "incorrect": ["incorrect"]}
RATING_PATTERN = r"\[\[\s*(-?\d+(?:\.\d+)?)\s*\]\]"
_PAIR_LINE = re.compile(r"^\s*\**\s*(-?\d+(?:\.\d+)?)\s*(?:,|\s)\s*(-?\d+(?:\.\d+)?)\s*\**\s*$")
_EXTRACT_TAG = re.compile(r"extracted\s+answer\s*[:：]", re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


class VerdictError(ValueError):
    """The judge's reply does not contain a verdict in the expected form."""


def _excerpt(reply: str, n: int = 160) -> str:
    flat = " ".join(reply.split())
    return flat if len(flat) <= n else flat[: n - 3] + "..."


def parse_binary(reply: str, pattern: str | None = None, labels: Mapping[Any, Sequence[str]] | None = None) -> bool:
    """``True`` for a correct verdict, ``False`` for incorrect.

    ``pattern`` is a regular expression (case-insensitive) whose first group captures the label;
    ``labels`` maps ``correct``/``incorrect`` to the accepted spellings. Every match in the reply
    must agree. A reply that is nothing but one label (``"Correct."``, ``"yes"``) is accepted too.
    """
    labels = labels or DEFAULT_BINARY_LABELS
    lookup: dict[str, bool] = {}
    for key, value in (("correct", True), ("incorrect", False)):
        for spelling in labels.get(key, []):
            lookup[str(spelling).strip().lower()] = value
    if not lookup:
        raise ValueError("binary labels need at least one spelling for 'correct' or 'incorrect'")
    found = [m.group(1).strip().lower() for m in re.finditer(pattern or DEFAULT_BINARY_PATTERN, reply, re.IGNORECASE)]
    if not found:
        bare = reply.strip().strip(".!*`\"' ").lower()
        if bare in lookup:
            return lookup[bare]
        raise VerdictError(f"no verdict found in reply: {_excerpt(reply)!r}")
    verdicts = set()
    for label in found:
        if label not in lookup:
            raise VerdictError(f"verdict label {label!r} is not one of {sorted(lookup)}")
        verdicts.add(lookup[label])
    if len(verdicts) != 1:
        raise VerdictError(f"reply gives conflicting verdicts: {_excerpt(reply)!r}")
    return verdicts.pop()


_LABEL_TRIM = " \t\r\n*_`\"'.。!！[]【】「」“”‘’"


def _leaf_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaf_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _leaf_strings(v)]
    return []


def parse_label(reply: str, labels: Mapping[str, Sequence[str]], pattern: str | None = None) -> str:
    """The name of the one label the judge picked (``label`` grading).

    ``labels`` maps each label name to the reply strings that mean it (compared case-insensitively,
    with surrounding markdown, quotes, brackets and a final full stop trimmed). Where the verdict is
    read: group 1 of every match of ``pattern`` if given; else every string value of the JSON
    object(s) in the reply (SimpleQA-style ``{"预测答案0": "正确"}``; strings that are no label, such
    as a reasoning field, are ignored); else the whole reply. No label found, or two different
    labels, raises :class:`VerdictError`.
    """
    lookup: dict[str, str] = {}
    for name, spellings in labels.items():
        for spelling in spellings:
            lookup[str(spelling).strip(_LABEL_TRIM).lower()] = str(name)
    if pattern:
        candidates = [m.group(1) for m in re.finditer(pattern, reply, re.IGNORECASE)]
    else:
        objects = [o for o in _json_objects(reply) if isinstance(o, (dict, list))]
        candidates = [s for o in objects for s in _leaf_strings(o)] if objects else [reply]
    found = {lookup[c.strip(_LABEL_TRIM).lower()] for c in candidates if c.strip(_LABEL_TRIM).lower() in lookup}
    if not found:
        raise VerdictError(f"no label ({', '.join(sorted(set(lookup.values())))}) found in reply: {_excerpt(reply)!r}")
    if len(found) != 1:
        raise VerdictError(f"reply gives conflicting labels {sorted(found)}: {_excerpt(reply)!r}")
    return found.pop()


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise VerdictError(f"rating {text!r} is not a finite number")
    return value


def _check_range(value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise VerdictError(f"rating {value:g} is outside {low:g}..{high:g}")
    return value


def parse_rating(reply: str, low: float = 1, high: float = 10, pattern: str | None = None) -> float:
    """A single rating written ``[[N]]`` (MT-Bench style); all occurrences must agree."""
    values = {_number(m.group(1)) for m in re.finditer(pattern or RATING_PATTERN, reply, re.IGNORECASE)}
    if not values:
        raise VerdictError(f"no rating [[N]] found in reply: {_excerpt(reply)!r}")
    if len(values) != 1:
        raise VerdictError(f"reply gives conflicting ratings {sorted(values)}")
    return _check_range(values.pop(), low, high)


def parse_pair(reply: str, low: float = 1, high: float = 10) -> tuple[float, float]:
    """Two scores on the reply's first non-empty line, e.g. ``"8 6"`` (AIR-Bench/Vicuna format)."""
    lines = [line for line in reply.splitlines() if line.strip()]
    if not lines:
        raise VerdictError("empty reply")
    match = _PAIR_LINE.match(lines[0])
    if match is None:
        raise VerdictError(f"first line is not two scores: {_excerpt(lines[0])!r}")
    return _check_range(_number(match.group(1)), low, high), _check_range(_number(match.group(2)), low, high)


def _json_objects(reply: str) -> list[Any]:
    """JSON objects in the reply: fenced blocks first, else every balanced ``{...}`` span."""
    candidates = [m.group(1) for m in _FENCE.finditer(reply)]
    if not candidates:
        depth, start = 0, -1
        in_string = escaped = False
        for i, ch in enumerate(reply):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
                continue
            if ch == '"' and depth > 0:
                in_string = True
            elif ch == "{":
                if depth == 0:
                    start = i
                depth += 1
            elif ch == "}" and depth > 0:
                depth -= 1
                if depth == 0:
                    candidates.append(reply[start : i + 1])
    out = []
    for text in candidates:
        try:
            out.append(json.loads(text))
        except ValueError:
            continue
    return out


def parse_rubric(reply: str, components: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per-component scores from a JSON reply ``{"scores": {"<component>": <score>, ...}}``.

    The last JSON object holding ``scores`` is used. Every component must be present with a
    number in ``0..weight``; unknown names are an error too.
    """
    objects = [o for o in _json_objects(reply) if isinstance(o, dict) and isinstance(o.get("scores"), dict)]
    if not objects:
        raise VerdictError(f'no JSON object with "scores" in reply: {_excerpt(reply)!r}')
    scores = objects[-1]["scores"]
    wanted = {str(c["name"]): float(c["weight"]) for c in components}
    missing = [n for n in wanted if n not in scores]
    extra = [n for n in scores if n not in wanted]
    if missing or extra:
        raise VerdictError(f"rubric scores do not match the components (missing {missing}, unknown {extra})")
    out: dict[str, float] = {}
    for name, weight in wanted.items():
        value = scores[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise VerdictError(f"score of {name!r} is not a number: {value!r}")
        try:
            number = _number(str(value))
        except ValueError as exc:
            raise VerdictError(f"score of {name!r} is not a number: {value!r}") from exc
        if not 0 <= number <= weight:
            raise VerdictError(f"score of {name!r} is {number:g}, outside 0..{weight:g}")
        out[name] = number
    return out


def parse_extracted(reply: str, mode: str = "tagged") -> str:
    """The extracted answer in a judge's reply, by ``extract_reply`` mode:

    * ``tagged``: the text after the last ``Extracted answer:`` tag (its first line), or a
      one-line reply as it is; several lines without the tag are unparseable;
    * ``whole``: the whole reply, stripped (MathVista's ``extract_answer.py`` keeps it so);
    * ``whole_untagged``: the whole reply with every ``Extracted Answer: `` removed, stripped
      (MathVerse's ``extract_answer_s1.py``: "sometimes gpt will repeat").
    """
    if mode in ("whole", "whole_untagged"):
        text = reply.replace("Extracted Answer: ", "") if mode == "whole_untagged" else reply
        if not text.strip():
            raise VerdictError("empty reply")
        return text.strip()
    tags = list(_EXTRACT_TAG.finditer(reply))
    if tags:
        rest = reply[tags[-1].end() :].strip()
        return rest.splitlines()[0].strip() if rest else ""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if len(lines) == 1:
        return lines[0]
    if not lines:
        raise VerdictError("empty reply")
    raise VerdictError(f"reply has several lines and no 'Extracted answer:' tag: {_excerpt(reply)!r}")
