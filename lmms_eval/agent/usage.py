"""Tool-use metrics of agent samples, read from each record's ``extra["agent"]`` summary.

Per sample (results report the mean over samples, keyed ``"<name>,agent"``):

* ``answered`` - 1 if the last turn holds the protocol's answer (its parse rate);
* ``turns`` - model turns; ``tool_calls`` - tool calls (failed ones included);
* search protocols:
  - ``search_ratio`` - 1 if the sample called any search tool: the share of samples that searched
    (MMSearch-R1's code, ``search_ratio_mix`` + ``_image`` + ``_text``);
  - ``search_call_ratio`` - search calls over the most the limits allow (``max_calls`` summed over
    the search tools): the mean is "total search calls relative to the maximum allowed" (MMSearch-R1's
    paper);
  - ``search_image_only``, ``search_text_only``, ``search_image_and_text`` - which kinds it called
    (the three add up to ``search_ratio``);
  - ``search_failed`` - 1 if any search call failed or timed out;
* MGPO: ``grounding_valid`` - 1 if turn 1 gave a valid box (MGPO's grounding ratio).

Breakdowns: every metric of the task is also reported per ``searched=yes|no`` (accuracy split by
whether the sample searched) or per ``grounding=valid|invalid`` (see :func:`agent_labels`).
"""

from __future__ import annotations

from typing import Any

from lmms_eval.agent.protocol import SEARCH_TOOLS

FILTER = "agent"
HIGHER_IS_BETTER: dict[str, bool] = {
    "answered": True,
    "turns": False,
    "tool_calls": False,
    "search_ratio": False,
    "search_call_ratio": False,
    "search_image_only": False,
    "search_text_only": False,
    "search_image_and_text": False,
    "search_failed": False,
    "grounding_valid": True,
}
"""Every tool-use metric and its direction (fewer searches and turns cost less)."""


def tool_use_scores(summary: dict[str, Any], answer: str) -> dict[str, float]:
    """Per-sample tool-use values keyed ``"<name>,agent"`` from one record's agent summary."""
    calls: dict[str, int] = summary.get("calls") or {}
    limits: dict[str, int] = summary.get("max_calls") or {}
    out = {
        "answered": float(bool(answer.strip())),
        "turns": float(summary.get("turns") or 0),
        "tool_calls": float(sum(calls.values())),
    }
    search_limits = {tool: n for tool, n in limits.items() if tool in SEARCH_TOOLS}
    if search_limits:
        image, text = calls.get("image_search", 0) > 0, calls.get("text_search", 0) > 0
        allowed = sum(search_limits.values())
        made = sum(calls.get(tool, 0) for tool in SEARCH_TOOLS)
        out.update(
            search_ratio=float(image or text),
            search_call_ratio=made / allowed if allowed else 0.0,
            search_image_only=float(image and not text),
            search_text_only=float(text and not image),
            search_image_and_text=float(image and text),
            search_failed=float(bool(summary.get("failed_searches"))),
        )
    grounding = summary.get("grounding")
    if isinstance(grounding, dict) and "valid" in grounding:
        out["grounding_valid"] = float(bool(grounding["valid"]))
    return {f"{name},{FILTER}": value for name, value in out.items()}


def agent_labels(summary: dict[str, Any] | None) -> dict[str, list[str]]:
    """Breakdown labels of one agent sample: ``searched`` (search protocols) and ``grounding`` (MGPO)."""
    if not summary:
        return {}
    out: dict[str, list[str]] = {}
    if any(tool in SEARCH_TOOLS for tool in summary.get("max_calls") or {}):
        calls = summary.get("calls") or {}
        out["searched"] = ["yes" if any(calls.get(tool, 0) for tool in SEARCH_TOOLS) else "no"]
    grounding = summary.get("grounding")
    if isinstance(grounding, dict) and "valid" in grounding:
        out["grounding"] = ["valid" if grounding["valid"] else "invalid"]
    return out


AGENT_BREAKDOWNS: tuple[str, ...] = ("searched", "grounding")
