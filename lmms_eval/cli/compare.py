"""``lmms-eval compare``: a regression gate between runs, against a golden file, or against
the numbers a paper reports.

    lmms-eval compare BASELINE CANDIDATE [--max-drop 0.5] [--max-drop wer=0.3] [--fail-on significant|any]
    lmms-eval compare --baseline golden.json RUN
    lmms-eval compare --write-golden RUN [--max-drop ...] [--output golden.json]
    lmms-eval compare --reference reported.yaml RUN [--model-name NAME] [--tolerance 1.0]

Exit 0: no regression (or every reported number reproduced); 1: a regression (a divergence);
2: a usage error. See docs/compare.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from lmms_eval.api.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lmms-eval compare",
        description="Compare a candidate run with a baseline run, a golden file or reported numbers.",
    )
    p.add_argument("runs", nargs="*", metavar="RUN", help="BASELINE CANDIDATE, or one RUN with --baseline/--reference")
    p.add_argument("--baseline", help="baseline run folder, results.json or golden file")
    p.add_argument("--reference", metavar="YAML", help="check RUN against reported numbers in this file")
    p.add_argument("--write-golden", metavar="RUN", help="write a golden file made from RUN (stdout or --output)")
    p.add_argument(
        "--max-drop",
        action="append",
        metavar="[METRIC=]VALUE",
        help="allowed drop in the metric's units: 0.5 (all metrics), wer=0.3, demo_asr/wer=1 (repeatable)",
    )
    p.add_argument("--fail-on", choices=("significant", "any"), default="significant")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--iters", type=int, default=1000, help="bootstrap / permutation draws (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tasks", help="compare only these tasks (comma-separated)")
    p.add_argument("--allow-missing", action="store_true", help="a task missing from the candidate is no regression")
    p.add_argument("--model-name", help="--reference: the model of the file to check against")
    p.add_argument("--tolerance", type=float, help="--reference: default tolerance (the file's otherwise)")
    p.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    p.add_argument("--output", metavar="FILE", help="write the report (or golden file) here instead of stdout")
    return p


def _emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text + "\n")
        return
    try:
        folder = os.path.dirname(os.path.abspath(output))
        os.makedirs(folder, exist_ok=True)
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}; give another --output") from None


def cmd_compare(argv: Sequence[str]) -> int:
    """Run ``lmms-eval compare``; returns the exit code (0 ok, 1 regression, 2 usage error)."""
    from lmms_eval.compare import Tolerances, check_reference, compare_runs, golden_from_run, load_side
    from lmms_eval.compare.render import render

    try:
        args = build_parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse printed its message
        return 0 if exc.code == 0 else 2
    tolerances = Tolerances.parse(args.max_drop)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else None
    modes = [m for m in (args.write_golden, args.reference, args.baseline) if m]
    if len(modes) > 1:
        raise UsageError("give only one of --write-golden, --reference and --baseline")
    if args.write_golden:
        if args.runs:
            raise UsageError("--write-golden RUN takes no other run")
        golden = golden_from_run(load_side(args.write_golden, allow_golden=False), tolerances, tasks)
        _emit(json.dumps(golden, indent=2, ensure_ascii=False), args.output)
        return 0
    if args.reference:
        if len(args.runs) != 1:
            raise UsageError("--reference YAML takes exactly one RUN: lmms-eval compare --reference reported.yaml RUN")
        result = check_reference(
            load_side(args.runs[0], allow_golden=False), args.reference, args.model_name, args.tolerance
        )
    else:
        if args.baseline:
            if len(args.runs) != 1:
                raise UsageError("--baseline takes exactly one candidate RUN: lmms-eval compare --baseline BASE RUN")
            base_path, cand_path = args.baseline, args.runs[0]
        elif len(args.runs) == 2:
            base_path, cand_path = args.runs
        else:
            raise UsageError(
                "give BASELINE CANDIDATE (run folders or results.json), or --baseline golden.json RUN, "
                "or --reference reported.yaml RUN"
            )
        if not 0 < args.alpha < 1:
            raise UsageError(f"--alpha {args.alpha}: give a level between 0 and 1, e.g. 0.05")
        if args.iters < 1:
            raise UsageError("--iters must be at least 1")
        result = compare_runs(
            load_side(base_path),
            load_side(cand_path, allow_golden=False),
            tolerances,
            args.fail_on,
            args.alpha,
            args.iters,
            args.seed,
            tasks,
            args.allow_missing,
        )
    text = render(result, args.format)
    _emit(text, args.output)
    if args.output is not None:
        summary = render(result, "table").rsplit("\n\n", 1)[-1]
        sys.stderr.write(summary + "\n")
    return int(result["exit_code"])
