"""The self-contained HTML report of one or more run folders (``lmms-eval report``).

:func:`build_report` reads the runs (:mod:`.runs`), streams their sample logs once
(:mod:`.collect`), draws the charts with matplotlib as inline SVG (:mod:`.charts`), embeds media as
data URIs within a budget (:mod:`.media`) and writes one HTML file (:mod:`.page`) that needs no
network: inline CSS and script, a Content-Security-Policy that blocks every fetch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from lmms_eval.api.errors import OutputError, UsageError


@dataclass
class ReportOptions:
    """Size limits of the report."""

    max_samples: int = 200
    """Samples per task and run embedded in the browser (statistics use every sample)."""
    media_budget_mb: float = 25.0
    """Total size of the embedded images and audio (base64), in MB."""
    max_audio_mb: float = 2.0
    """Largest audio file embedded, in MB."""
    title: str | None = None


def build_report(run_args: Sequence[str], output: str, options: ReportOptions | None = None) -> str:
    """Write the report of ``run_args`` (run folders or results.json files) to ``output``; returns its path."""
    from lmms_eval.html_report.collect import collect
    from lmms_eval.html_report.media import MediaEmbedder
    from lmms_eval.html_report.page import render
    from lmms_eval.html_report.runs import load_runs

    opts = options or ReportOptions()
    if opts.max_samples < 0:
        raise UsageError(f"--max-samples must be 0 or more, not {opts.max_samples}")
    if not run_args:
        raise UsageError("give at least one run folder: lmms-eval report RUN [RUN...]")
    runs = load_runs(run_args)
    collected = [c for run in runs for task in run.tasks if (c := collect(run, task, opts.max_samples))]
    media = MediaEmbedder(int(opts.media_budget_mb * 1e6), int(opts.max_audio_mb * 1e6))
    title = opts.title or ("lmms-eval report: " + " vs ".join(r.label for r in runs))
    page = render(runs, collected, media, opts.max_samples, title)
    folder = os.path.dirname(os.path.abspath(output))
    try:
        os.makedirs(folder, exist_ok=True)
        tmp = f"{output}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, output)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}; give another --output") from None
    return output


__all__ = ["ReportOptions", "build_report"]
