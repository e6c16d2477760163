"""Small HTML helpers: every text that goes into the page passes through :func:`esc`."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

MAX_TEXT = 20_000
"""Characters of one text field shown at most (the rest is cut, with a note)."""


def esc(value: Any) -> str:
    """``value`` as text safe inside an element or a quoted attribute (``& < > " '`` escaped)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: float | None, stderr: float | None = None) -> str:
    """A value for display (4 decimals below 10, else 2), with ``± stderr`` when given."""
    if value is None:
        return "N/A"
    text = f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
    if stderr is not None:
        text += " ± " + (f"{stderr:.4f}" if abs(stderr) < 10 else f"{stderr:.2f}")
    return text


def cut(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` shortened to ``limit`` characters with a note saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… [{len(text) - limit} more characters not shown]"


def pre(value: Any) -> str:
    """A ``<pre>`` block of a string, or of other values as indented JSON (cut to ``MAX_TEXT``)."""
    text = value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False, default=str)
    return f"<pre>{esc(cut(text))}</pre>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table from already-escaped cell HTML; columns in ``numeric`` are right-aligned."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def metric_label(metric: str, filt: str, unit: str | None, higher: bool) -> str:
    """``metric (unit) ↑`` plus the filter when it is not ``none`` (escaped)."""
    text = metric + (f" ({unit})" if unit else "") + (" ↑" if higher else " ↓")
    if filt not in ("none", ""):
        text += f" [{filt}]"
    return esc(text)
