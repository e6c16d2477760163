"""``lmms-eval merge RUN_DIR...``: fold the run folders of ``--shard K/N`` runs into one run.

The shards are checked to be one run cut in N (see :mod:`lmms_eval.engine.shard_merge`); their
sample logs are laid into a new run folder as rank logs and scored there by the same code as
``lmms-eval score`` (rank-log merge, metrics, judge, aggregation), so the merged ``results.json``
is the one a single process would have written.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from lmms_eval.api.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `lmms-eval merge -h`)")


def parser() -> argparse.ArgumentParser:
    """The ``merge`` subcommand's flags."""
    p = _Parser(
        prog="lmms-eval merge",
        description="Merge the run folders of `--shard K/N` runs (every K of one N, same tasks, model, "
        "generation parameters and judge) into one run folder with one results.json.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a shard's run folder (holds run.json)")
    p.add_argument(
        "--output_path",
        help="folder for the merged run (default ./logs): it is written to OUTPUT/<model>/<timestamp>",
    )
    p.add_argument("--include_path", action="append", help="extra folder of task YAMLs (when the recorded ones moved)")
    p.add_argument("--no_progress", action="store_true", help="hide progress lines")
    return p


def cmd_merge(argv: Sequence[str]) -> int:
    """Check the shards, write the merged run folder, print its table; exit 2 when they do not fit."""
    args = parser().parse_args(argv)
    from lmms_eval.cli.main import _report
    from lmms_eval.engine.shard_merge import merge_shards

    outcome = merge_shards(args.run_dirs, args.output_path, args.include_path, show_progress=not args.no_progress)
    return _report(outcome)
