"""The report's aggregate sections: summary table, per-task charts, breakdowns, WER by input
length, tool-use metrics and the run-vs-run view. Each returns an HTML fragment (escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from lmms_eval.html_report import charts
from lmms_eval.html_report.collect import TaskSamples
from lmms_eval.html_report.markup import esc, fmt, metric_label, table
from lmms_eval.html_report.runs import Run, TaskResult, Value
from lmms_eval.html_report.samples import wer_by_length


def _chart(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'


def summary(run: Run) -> str:
    """One row per task and headline metric: value ± stderr, samples, errors."""
    rows = []
    for task in run.tasks:
        for v in task.headline:
            rows.append(
                [
                    esc(task.alias),
                    metric_label(v.metric, v.filter, task.units.get(v.metric), task.better(v.metric)),
                    esc(fmt(v.value)),
                    esc(fmt(v.stderr)) if v.stderr is not None else "",
                    esc(task.n_samples if task.n_samples is not None else ""),
                    esc(task.n_errors if task.n_errors is not None else ""),
                ]
            )
    if not rows:
        return '<p class="muted">No metric in results.json (a --predict_only run?).</p>'
    return table(["task", "metric", "value", "stderr", "n", "errors"], rows, numeric=(2, 3, 4, 5))


def task_charts(run: Run) -> str:
    """Per task: a bar chart of its headline metrics with stderr error bars (one chart per unit)."""
    out = []
    for task in run.tasks:
        by_unit: dict[str, list[Value]] = {}
        for v in task.headline:
            if v.value is not None:
                by_unit.setdefault(task.units.get(v.metric, ""), []).append(v)
        for unit, values in by_unit.items():
            labels = [f"{v.metric}" + (f" [{v.filter}]" if v.filter != "none" else "") for v in values]
            svg = charts.bar_chart(
                labels, [v.value for v in values], [v.stderr for v in values], task.alias, unit or "value"
            )
            out.append(f"<div>{_chart(svg)}</div>")
    return f'<div class="charts">{"".join(out)}</div>' if out else ""


def breakdowns(run: Run) -> str:
    """Per task, metric and breakdown field: a table of labels (value, stderr, n) and a bar chart."""
    out = []
    for task in run.tasks:
        for bd in task.breakdowns:
            title = f"{task.alias}: {bd.metric}" + (f" [{bd.filter}]" if bd.filter != "none" else "") + f" by {bd.name}"
            rows = [
                [
                    esc(f"{bd.name}={label}"),
                    esc(fmt(value)),
                    esc(fmt(stderr)) if stderr is not None else "",
                    esc(n or ""),
                ]
                for label, value, stderr, n in bd.rows
            ]
            svg = charts.bar_chart(
                [r[0] for r in bd.rows],
                [r[1] for r in bd.rows],
                [r[2] for r in bd.rows],
                title,
                task.units.get(bd.metric, "") or bd.metric,
            )
            out.append(
                f"<h3>{esc(title)}</h3>"
                + table(["label", "value", "stderr", "n"], rows, numeric=(1, 2, 3))
                + _chart(svg)
            )
    return "".join(out) or '<p class="muted">No task of this run has a breakdown.</p>'


def wer_length(collected: Sequence[TaskSamples]) -> str:
    """Per ASR task: corpus WER per input-length bin (from the samples' WER pieces and audio length)."""
    out = []
    for ts in collected:
        bins = wer_by_length(ts.length_points)
        if len(bins) < 2:  # too few samples with a known length to compare lengths
            continue
        labels = [f"{b.lo:.1f}–{b.hi:.1f} s" for b in bins]
        rows = [
            [esc(lab), esc(b.n), esc(f"{b.errors:g}"), esc(f"{b.words:g}"), esc(fmt(b.wer))]
            for lab, b in zip(labels, bins, strict=True)
        ]
        svg = charts.line_chart(
            labels, [b.wer for b in bins], f"{ts.task.alias}: WER by input length", "input length (seconds)", "WER (%)"
        )
        out.append(
            f"<h3>{esc(ts.task.alias)} ({esc(ts.run.label)})</h3>"
            + table(["length", "n", "errors", "words", "WER (%)"], rows, numeric=(1, 2, 3, 4))
            + _chart(svg)
            + f'<p class="note">{len(ts.length_points)} samples with a known audio length, in bins of equal '
            "counts; each bin's WER is its word errors over its reference words.</p>"
        )
    return "".join(out)


def tool_use(run: Run) -> str:
    """Per agent task: the tool-use metrics (``"<name>,agent"``) as a table and a chart."""
    out = []
    for task in run.tasks:
        if not task.agent:
            continue
        rows = [
            [esc(v.metric), esc(fmt(v.value)), esc(fmt(v.stderr)) if v.stderr is not None else ""] for v in task.agent
        ]
        svg = charts.bar_chart(
            [v.metric for v in task.agent],
            [v.value for v in task.agent],
            [v.stderr for v in task.agent],
            f"{task.alias}: tool use",
            "mean per sample",
        )
        out.append(
            f"<h3>{esc(task.alias)}</h3>" + table(["metric", "value", "stderr"], rows, numeric=(1, 2)) + _chart(svg)
        )
    return "".join(out)


def _values(task: TaskResult | None) -> dict[tuple[str, str], Value]:
    return {(v.metric, v.filter): v for v in task.headline + task.agent} if task else {}


def compare(runs: Sequence[Run]) -> str:
    """Same task and metric side by side in every run, with each run's delta to the first."""
    base, names = runs[0], list[str]()
    for run in runs:
        names.extend(t.name for t in run.tasks if t.name not in names)
    header = ["task", "metric"] + [esc(r.label) for r in runs] + [f"Δ {esc(r.label)}" for r in runs[1:]]
    rows, figs = [], []
    for name in names:
        tasks = [next((t for t in r.tasks if t.name == name), None) for r in runs]
        ref = next(t for t in tasks if t is not None)
        per_run = [_values(t) for t in tasks]
        keys = list(dict.fromkeys(k for values in per_run for k in values))
        for metric, filt in keys:
            cells = [per_run[i].get((metric, filt)) for i in range(len(runs))]
            row = [esc(ref.alias), metric_label(metric, filt, ref.units.get(metric), ref.better(metric))]
            row += [esc(fmt(c.value, c.stderr)) if c else "—" for c in cells]
            for c in cells[1:]:
                row.append(_delta(cells[0], c, ref.better(metric)))
            rows.append(row)
        shared = [k for k in keys if k[1] != "agent" and sum(k in v for v in per_run) > 1]
        if shared:
            series = [
                (
                    r.label,
                    [per_run[i][k].value if k in per_run[i] else None for k in shared],
                    [per_run[i][k].stderr if k in per_run[i] else None for k in shared],
                )
                for i, r in enumerate(runs)
            ]
            figs.append(_chart(charts.grouped_bar_chart([f"{m} [{f}]" for m, f in shared], series, ref.alias)))
    numeric = tuple(range(2, len(header)))
    note = f'<p class="note">Δ: each run minus the first ({esc(base.label)}); green is better, red worse.</p>'
    return table(header, rows, numeric=numeric) + note + f'<div class="charts">{"".join(figs)}</div>'


def _delta(a: Value | None, b: Value | None, higher: bool) -> str:
    if a is None or b is None or a.value is None or b.value is None:
        return "—"
    d = b.value - a.value
    cls = "" if d == 0 else ("better" if (d > 0) == higher else "worse")
    return f'<span class="{cls}">{esc(f"{d:+.4f}" if abs(d) < 10 else f"{d:+.2f}")}</span>'
