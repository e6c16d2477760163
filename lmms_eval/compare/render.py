"""Print a comparison or a reference check: terminal table, markdown (PR comments) or JSON."""

from __future__ import annotations

import json
import math
from typing import Any

FORMATS = ("table", "markdown", "json")
_MARK = {"regression": "REGRESSION", "improved": "improved", "ok": "ok"}


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _signed(value: Any) -> str:
    return "-" if value is None else f"{value:+.4f}"


def _p(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def _metric_label(row: dict[str, Any]) -> str:
    higher = row.get("higher_is_better")
    arrow = "" if higher is None else (" ↑" if higher else " ↓")
    unit = f" ({row['unit']})" if row.get("unit") else ""
    return f"{row['metric']}{unit}{arrow}"


def comparison_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of a run-vs-run comparison."""
    header = ["task", "metric", "baseline", "candidate", "delta", "p", "test", "n shared", "verdict", "note"]
    cells = []
    for r in result["rows"]:
        test = r.get("test") or {}
        shared = test.get("n_shared")
        cells.append(
            [
                r["task"],
                _metric_label(r),
                _num(r["baseline"]),
                _num(r["candidate"]),
                _signed(r.get("delta")),
                _p(test.get("p_value")),
                test.get("method", "-"),
                "-" if shared is None else str(shared),
                _MARK.get(r["verdict"], r["verdict"]),
                r.get("note", ""),
            ]
        )
    return header, cells


def reference_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and cells of a check against reported numbers."""
    header = ["task", "metric", "reported", "run", "diff", "tolerance", "status", "note"]
    cells = []
    for r in result["rows"]:
        note = "; ".join(x for x in (r.get("conversion", ""), r.get("why", ""), r.get("note", "")) if x)
        status = r["status"] if r["status"] in ("match", "not in run") else f"DIVERGES ({r['status']})"
        cells.append(
            [
                r["task"],
                f"{r['metric']} ({r['unit']})",
                _num(r["reported"], 2),
                _num(r.get("run"), 2),
                "-" if r.get("diff") is None else f"{r['diff']:+.2f}",
                _num(r["tolerance"], 2),
                status,
                note,
            ]
        )
    return header, cells


def _plain(header: list[str], cells: list[list[str]]) -> str:
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(header)]
    line = lambda row: "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(c) for c in cells)])


def _markdown(header: list[str], cells: list[list[str]]) -> str:
    esc = lambda v: v.replace("|", "\\|")  # noqa: E731
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows += ["| " + " | ".join(esc(v) for v in c) + " |" for c in cells]
    return "\n".join(rows)


def _summary(result: dict[str, Any]) -> str:
    if "diverged" in result:
        return (
            f"{result['run']} vs reported numbers of {result['model']} ({result['reference']}): "
            f"{result['diverged']} of {result['checked']} checked metrics diverge beyond tolerance"
        )
    verdict = "REGRESSION" if result["exit_code"] else "no regression"
    settings = result["settings"]
    return (
        f"{verdict}: {result['regressions']} regression(s); baseline {result['baseline']}, "
        f"candidate {result['candidate']} (fail on {settings['fail_on']}, alpha {settings['alpha']})"
    )


def render(result: dict[str, Any], fmt: str = "table") -> str:
    """``result`` of :func:`compare_runs` or :func:`check_reference` as text in ``fmt``."""
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False, default=str)
    header, cells = reference_rows(result) if "diverged" in result else comparison_rows(result)
    warnings = result.get("warnings") or []
    if fmt == "markdown":
        parts = [f"**{_summary(result)}**", "", _markdown(header, cells)]
        if warnings:
            parts += ["", "**Not like for like:**", *(f"- {w}" for w in warnings)]
        return "\n".join(parts)
    parts = [_plain(header, cells), "", _summary(result)]
    if warnings:
        parts += ["warning: the runs are not like for like:", *(f"  - {w}" for w in warnings)]
    return "\n".join(parts)
