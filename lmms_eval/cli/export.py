"""``lmms-eval export RUN``: a run's leaderboard records (JSON or CSV), validated against
``docs/schemas/leaderboard_record.schema.json``; optionally its submission files gathered with a
manifest, and the export uploaded to a Hugging Face dataset repo (see docs/export.md)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from lmms_eval.cli.main import PROG, _Parser


def _parser() -> _Parser:
    p = _Parser(
        prog=f"{PROG} export",
        description="Write a run's leaderboard records (one per task and group), validated against "
        "docs/schemas/leaderboard_record.schema.json. See docs/export.md.",
    )
    p.add_argument("run", help="a finished run folder (or its results.json)")
    p.add_argument("--format", choices=("json", "csv"), default="json", help="json (default) or csv")
    p.add_argument("--output", help="file to write (default: standard output)")
    p.add_argument(
        "--submissions",
        metavar="DIR",
        help="copy the run's submission files (test splits scored by a benchmark server) into DIR, "
        "with a manifest.json",
    )
    p.add_argument(
        "--push-to-hub",
        dest="push_to_hub",
        metavar="REPO_ID",
        help="upload the export (and the submissions, with --submissions) to this Hugging Face dataset "
        "repo with your own login (hf auth login or HF_TOKEN); off by default",
    )
    p.add_argument(
        "--path-in-repo",
        dest="path_in_repo",
        help="folder of the upload inside the repo (default: <model>[__<pretrained>]/<config hash>)",
    )
    return p


def default_path_in_repo(record: dict[str, Any]) -> str:
    """``<model>[__<pretrained basename>]/<config hash>`` of a record, safe as a repo path."""
    args = record.get("model_args") or {}
    name = str(record["model"])
    pretrained = args.get("pretrained") or args.get("model")
    if isinstance(pretrained, str) and pretrained and pretrained != "<redacted>":
        name += "__" + pretrained.rstrip("/").split("/")[-1]
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", name) + "/" + str(record["config_hash"])


def cmd_export(argv: Sequence[str]) -> int:
    """Entry point of ``lmms-eval export``; returns the exit code (errors raise LmmsEvalError)."""
    args = _parser().parse_args(argv)
    from lmms_eval.reporting.export import build_records, load_run
    from lmms_eval.reporting.export_schema import validate_records
    from lmms_eval.reporting.export_write import gather_submissions, render, write_text

    run = load_run(args.run)
    records = build_records(run)
    validate_records(records)
    text = render(records, args.format)
    if args.output:
        write_text(args.output, text)
        print(f"wrote {len(records)} records to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.submissions:
        manifest = gather_submissions(run, args.submissions)
        print(f"copied {len(manifest['files'])} submission files to {args.submissions}", file=sys.stderr)
    if args.push_to_hub:
        from lmms_eval.reporting.export_hub import push_folder

        path_in_repo = args.path_in_repo or default_path_in_repo(records[0])
        with tempfile.TemporaryDirectory(prefix="lmms_eval_export_") as staging:
            write_text(os.path.join(staging, f"leaderboard.{args.format}"), text)
            if args.submissions:
                gather_submissions(run, os.path.join(staging, "submissions"))
            url = push_folder(
                staging,
                args.push_to_hub,
                path_in_repo,
                f"lmms-eval export: {records[0]['model']} on {len(records)} tasks ({records[0]['config_hash']})",
            )
        print(f"uploaded to dataset {args.push_to_hub}/{path_in_repo}: {url}", file=sys.stderr)
    return 0
