"""``lmms-eval report RUN [RUN...]``: one self-contained HTML file of one or more runs."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from lmms_eval.api.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `lmms-eval report -h`)")


def parser() -> argparse.ArgumentParser:
    """The ``report`` subcommand's flags."""
    p = _Parser(
        prog="lmms-eval report",
        description="Write one self-contained HTML report (no network needed) of one or more run folders: "
        "summary, charts, breakdowns, WER by length, run vs run, tool use, and a sample browser.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folder (or its results.json); several: run vs run")
    p.add_argument("--output", "-o", default="report.html", help="the HTML file to write (default: report.html)")
    p.add_argument(
        "--max-samples",
        "--max_samples",
        type=int,
        default=200,
        dest="max_samples",
        help="samples per task and run embedded in the browser (default 200; statistics use all)",
    )
    p.add_argument(
        "--max-media-mb",
        "--max_media_mb",
        type=float,
        default=25.0,
        dest="media_mb",
        help="total size of embedded images and audio in MB (default 25); past it, a note replaces them",
    )
    p.add_argument(
        "--max-audio-mb",
        "--max_audio_mb",
        type=float,
        default=2.0,
        dest="audio_mb",
        help="largest audio file embedded, in MB (default 2)",
    )
    p.add_argument("--title", help="the page title (default: the runs' labels)")
    return p


def cmd_report(argv: Sequence[str]) -> int:
    """Run ``lmms-eval report``; returns the exit code."""
    from lmms_eval.html_report import ReportOptions, build_report

    args = parser().parse_args(list(argv))
    options = ReportOptions(
        max_samples=args.max_samples, media_budget_mb=args.media_mb, max_audio_mb=args.audio_mb, title=args.title
    )
    path = build_report(args.runs, args.output, options)
    print(f"report written to {path}")
    return 0
