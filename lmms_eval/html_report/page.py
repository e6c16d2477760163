"""The report page: sections in order, with the inline style sheet and script and a strict
Content-Security-Policy (no network; only the report's own script runs)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from lmms_eval.html_report import sections
from lmms_eval.html_report.assets import CSS, JS, content_security_policy
from lmms_eval.html_report.collect import TaskSamples
from lmms_eval.html_report.markup import esc
from lmms_eval.html_report.media import MediaEmbedder
from lmms_eval.html_report.runs import Run
from lmms_eval.html_report.sample_view import browser


def _run_header(run: Run) -> str:
    cfg = run.results.get("config") or {}
    facts = [
        ("folder", run.path),
        ("model", cfg.get("model")),
        ("model args", cfg.get("model_args")),
        ("date", run.results.get("date")),
        ("git", run.results.get("git_hash")),
        ("limit", cfg.get("limit")),
    ]
    items = "".join(f"<li><b>{esc(k)}</b>: {esc(v)}</li>" for k, v in facts if v not in (None, "", {}))
    return f"<ul>{items}</ul>"


def render(
    runs: Sequence[Run], collected: Sequence[TaskSamples], media: MediaEmbedder, max_samples: int, title: str
) -> str:
    """The whole HTML document."""
    nav = [("summary", "Summary"), ("charts", "Charts"), ("breakdowns", "Breakdowns")]
    body = []
    for run in runs:
        body.append(f"<h3>{esc(run.label)}</h3>{_run_header(run)}{sections.summary(run)}")
    parts = [f'<section id="summary"><h2>Summary</h2>{"".join(body)}</section>']
    if len(runs) > 1:
        nav.insert(1, ("compare", "Run vs run"))
        parts.append(f'<section id="compare"><h2>Run vs run</h2>{sections.compare(runs)}</section>')
    charts = "".join(f"<h3>{esc(r.label)}</h3>{sections.task_charts(r)}" for r in runs)
    parts.append(f'<section id="charts"><h2>Charts</h2><p class="note">Error bars: ± 1 stderr.</p>{charts}</section>')
    bds = "".join(f"<h3>{esc(r.label)}</h3>{sections.breakdowns(r)}" for r in runs)
    parts.append(f'<section id="breakdowns"><h2>Breakdowns</h2>{bds}</section>')
    wer = sections.wer_length(collected)
    if wer:
        nav.append(("wer-length", "WER by length"))
        parts.append(f'<section id="wer-length"><h2>WER by input length</h2>{wer}</section>')
    tools = "".join(sections.tool_use(r) for r in runs)
    if tools:
        nav.append(("tool-use", "Tool use"))
        parts.append(f'<section id="tool-use"><h2>Tool use (agent tasks)</h2>{tools}</section>')
    nav.append(("samples", "Samples"))
    samples = browser(collected, media, max_samples)
    if media.skipped:
        samples = (
            f'<p class="note">{media.skipped} media item(s) were not embedded: the media budget was spent.</p>'
            + samples
        )
    parts.append(
        f'<section id="samples"><h2>Samples</h2><p class="note">At most {max_samples} samples per task and run are '
        f"embedded (--max-samples); counts below cover every sample.</p>{samples}</section>"
    )
    links = "".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in nav)
    made = _dt.datetime.now().replace(microsecond=0).isoformat()
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(content_security_policy())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="muted">lmms-eval report, made {esc(made)}; opens offline.</p>'
        f"<nav>{links}</nav>{''.join(parts)}<script>{JS}</script></body></html>\n"
    )
