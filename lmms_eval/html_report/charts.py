"""Charts for the report: matplotlib (Agg backend, imported lazily) rendered to inline SVG.

Every chart is returned as an ``<svg>`` element string: the XML prolog, DOCTYPE and metadata
(which name external URLs) are removed, and element ids get a per-chart prefix so that several
charts on one page never share an id.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from typing import Any

from lmms_eval.api.errors import UsageError

_COUNTER = itertools.count(1)
MAX_BARS = 40
"""Bars drawn in one chart at most (tables next to the charts list every value)."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "the HTML report draws its charts with matplotlib, which is not installed; "
            "install it with `pip install 'lmms-eval[report]'`"
        ) from None
    matplotlib.use("Agg", force=True)
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    matplotlib.rcParams["svg.hashsalt"] = "lmms-eval-report"  # stable ids across runs
    import matplotlib.pyplot as plt

    return plt


def to_svg(fig: Any) -> str:
    """The figure as an inline ``<svg>`` element (closed afterwards)."""
    plt = _pyplot()
    buf = io.StringIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    # inline SVG in HTML needs no namespace declarations (the HTML parser knows svg and xlink:href)
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text, count=2)
    prefix = f"c{next(_COUNTER)}-"
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    if ids:
        pattern = re.compile(
            r'(\bid="|#)(' + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r")\b"
        )
        text = pattern.sub(lambda m: m.group(1) + prefix + m.group(2), text)
    return text.strip()


def _height(n: float) -> float:
    return max(1.6, 0.32 * n + 0.9)


def _clip(label: str, width: int = 48) -> str:
    """A label shortened to ``width`` characters, ``$`` escaped (matplotlib reads ``$..$`` as math)."""
    label = label if len(label) <= width else label[: width - 1] + "…"
    return label.replace("$", r"\$")


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    errors: Sequence[float | None],
    title: str,
    xlabel: str = "",
) -> str:
    """Horizontal bars with stderr error bars (one bar per label; missing values are left out)."""
    plt = _pyplot()
    rows = [(lab, v, e) for lab, v, e in zip(labels, values, errors, strict=True) if v is not None][:MAX_BARS]
    fig, ax = plt.subplots(figsize=(6.4, _height(len(rows))))
    ys = list(range(len(rows)))
    ax.barh(
        ys,
        [r[1] for r in rows],
        xerr=[r[2] or 0.0 for r in rows],
        color="#4c72b0",
        ecolor="#222222",
        capsize=3,
    )
    ax.set_yticks(ys, [_clip(r[0]) for r in rows])
    ax.invert_yaxis()
    ax.set_title(_clip(title, 90), fontsize=10)
    ax.set_xlabel(_clip(xlabel, 90))
    ax.grid(axis="x", alpha=0.3)
    return to_svg(fig)


def grouped_bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], Sequence[float | None]]],
    title: str,
    xlabel: str = "",
) -> str:
    """Horizontal bars grouped by label, one colour per series ``(name, values, stderrs)``."""
    plt = _pyplot()
    labels = list(labels)[:MAX_BARS]
    k = max(1, len(series))
    fig, ax = plt.subplots(figsize=(6.4, _height(len(labels) * k * 0.6 + 1)))
    width = 0.8 / k
    for j, (name, values, errors) in enumerate(series):
        ys = [i - 0.4 + width * (j + 0.5) for i in range(len(labels))]
        vals = [v if v is not None else 0.0 for v in list(values)[: len(labels)]]
        errs = [e or 0.0 for e in list(errors)[: len(labels)]]
        ax.barh(ys, vals, height=width, xerr=errs, capsize=2, label=_clip(name, 40), ecolor="#222222")
    ax.set_yticks(range(len(labels)), [_clip(x) for x in labels])
    ax.invert_yaxis()
    ax.set_title(_clip(title, 90), fontsize=10)
    ax.set_xlabel(_clip(xlabel, 90))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return to_svg(fig)


def line_chart(xs: Sequence[str], ys: Sequence[float | None], title: str, xlabel: str, ylabel: str) -> str:
    """Points joined by a line over categorical ``xs`` (e.g. WER per input-length bin)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    pos = [i for i, y in enumerate(ys) if y is not None]
    ax.plot(pos, [ys[i] for i in pos], marker="o", color="#c44e52")
    ax.set_xticks(range(len(xs)), list(xs), fontsize=8)
    ax.set_title(_clip(title, 90), fontsize=10)
    ax.set_xlabel(_clip(xlabel, 90))
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return to_svg(fig)
