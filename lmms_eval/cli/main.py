"""``lmms-eval``: evaluate (default), ``tasks``, ``models``, ``score``, ``validate``, ``compare``,
``export``, ``report``, ``merge``.

Flags follow lm-eval / lmms-eval habits. Errors print as one line (exit 2 for usage errors);
``--verbosity DEBUG`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from lmms_eval.api.errors import LmmsEvalError, UsageError, did_you_mean

SUBCOMMANDS = ("tasks", "models", "metrics", "filters", "score", "validate", "compare", "export", "report", "merge")
PROG = "lmms-eval"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one :class:`UsageError` line, with a
    did-you-mean for a mistyped flag."""

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            flags = [o for action in self._actions for o in action.option_strings]
            unknown = next((a for a in extra if a.startswith("-")), None)
            if unknown is None:
                self.error(f"unexpected argument {extra[0]!r}")
            name = unknown.split("=", 1)[0]
            hint = did_you_mean(name, flags) or f" See `{self.prog} -h` for the flags."
            raise UsageError(f"unknown flag {name!r}.{hint}")
        return parsed

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} -h`)")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop like an interrupt (clean line, finished samples kept)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: Any) -> None:
    raise Terminated(signum)


def _install_signal_handlers() -> None:
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                signal.signal(signum, _on_signal)
            except (ValueError, OSError):  # not the main thread, or not allowed here
                pass


def _eval_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Evaluate a model on tasks. Subcommands: " + ", ".join(SUBCOMMANDS) + " (see `lmms-eval SUB -h`).",
        argument_default=None,
    )
    p.add_argument("--config", help="YAML file of run settings (flags given on the command line win)")
    p.add_argument("--model", help="registered model name (see `lmms-eval models`)")
    p.add_argument("--model_args", help="k=v,... arguments for the model, e.g. pretrained=org/name")
    p.add_argument("--tasks", help="comma-separated tasks, groups, tags or wildcards; 'list' lists them")
    p.add_argument("--batch_size", help="requests per model call, or 'auto' (the adapter's own limit)")
    p.add_argument(
        "--max_batch_tokens", type=float, help="cap on len(batch) x the costliest request's estimated tokens"
    )
    p.add_argument("--limit", type=float, help="first N documents per task (or a fraction < 1)")
    p.add_argument("--offset", type=int, help="skip the first N documents per task")
    p.add_argument("--output_path", help="folder for results (default ./logs); an existing run folder is resumed")
    p.add_argument(
        "--log_samples",
        action="store_true",
        default=None,
        help="accepted for compatibility: sample logs are always written",
    )
    p.add_argument("--include_path", action="append", help="extra folder of task YAMLs (repeatable)")
    p.add_argument("--gen_kwargs", help="k=v,... generation overrides, e.g. temperature=0,max_new_tokens=256")
    p.add_argument(
        "--prompt_variant",
        help="run every task under this prompt variant, e.g. reasoning (<think>/<answer> template; "
        "the answer is read from <answer>); search / react_search run the agent loop; see docs/tasks.md",
    )
    p.add_argument(
        "--tools",
        help="search backend of agent tasks, k=v,...: backend=corpus,corpus=DIR | backend=replay,cache=FILE | "
        "backend=serpapi; cache=FILE, mode=auto|record|replay (see docs/agents.md)",
    )
    p.add_argument("--seed", type=int, help="random seed recorded with the run (default 0)")
    p.add_argument("--predict_only", action="store_true", default=None, help="generate and log, do not score")
    p.add_argument(
        "--resume",
        action="store_true",
        default=None,
        help="continue the newest matching run under --output_path, skipping finished samples",
    )
    p.add_argument(
        "--max_error_rate", type=float, help="exit non-zero when more than this share of samples failed (default 0)"
    )
    p.add_argument("--bootstrap_iters", type=int, help="bootstrap resamples for non-mean metrics' stderr")
    p.add_argument(
        "--decode_workers",
        type=int,
        help="threads decoding media of the next batches while the model runs (default 4; 0: none)",
    )
    p.add_argument("--decode_ahead", type=int, help="batches decoded ahead of the model (default 2)")
    p.add_argument(
        "--judge",
        help="LLM judge for tasks with a judge: block, e.g. openai:gpt-4o-2024-11-20 "
        "or model=NAME,base_url=URL,api_key_env=VAR (see docs/judge.md)",
    )
    p.add_argument(
        "--redact_env",
        action="append",
        help="an environment variable whose value is a secret: scrubbed from every file and line (repeatable)",
    )
    p.add_argument(
        "--shard",
        help="K/N: run only the K-th of N cost-balanced slices of every task, as its own run folder; "
        "`lmms-eval merge` folds the N folders into one run (see docs/scale.md)",
    )
    p.add_argument("--verbosity", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    p.add_argument("--no_progress", action="store_true", help="hide the progress bar")
    return p


def _setup_logging(verbosity: str) -> None:
    level = getattr(logging, str(verbosity).upper(), logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _run_config(args: argparse.Namespace) -> Any:
    from lmms_eval.evaluation import merge_settings, run_config

    flags = {key: getattr(args, key) for key in RUN_FLAGS}
    flags["verbosity"] = args.verbosity
    if args.no_progress:
        flags["show_progress"] = False
    values = merge_settings(args.config, flags)
    if not values.get("model"):
        raise UsageError("--model is required (see `lmms-eval models`), e.g. --model demo --tasks demo")
    if not values.get("tasks"):
        raise UsageError("--tasks is required (see `lmms-eval tasks`), e.g. --tasks demo")
    return run_config(values, args.config or "command line")


#: The evaluation flags that are run settings (RunConfig fields of the same name).
RUN_FLAGS = (
    "model",
    "model_args",
    "tasks",
    "batch_size",
    "max_batch_tokens",
    "limit",
    "offset",
    "output_path",
    "log_samples",
    "include_path",
    "gen_kwargs",
    "prompt_variant",
    "tools",
    "seed",
    "predict_only",
    "resume",
    "max_error_rate",
    "bootstrap_iters",
    "decode_workers",
    "decode_ahead",
    "judge",
    "redact_env",
    "shard",
)


def cmd_evaluate(argv: Sequence[str]) -> int:
    """``lmms-eval [flags]``: the flags (and ``--config``) validated into a run, run through the
    same :func:`lmms_eval.evaluation.run` as ``lmms_eval.evaluate``, its table printed."""
    args = _eval_parser().parse_args(argv)
    _setup_logging(args.verbosity)
    if args.tasks == "list":
        return cmd_tasks(["--include_path", *(args.include_path or [])] if args.include_path else [])
    cfg = _run_config(args)
    from lmms_eval.engine.distributed import DistContext
    from lmms_eval.evaluation import run

    dist = DistContext.from_env()
    outcome = run(cfg, dist=dist)
    if not dist.is_main:
        return 0
    return _report(outcome)


def _report(outcome: Any) -> int:
    """Print a finished run's table and where its results are; return its exit code."""
    from lmms_eval.reporting.table import results_table

    print(results_table(outcome.results))
    print(f"\nresults: {outcome.run_dir}/results.json")
    if outcome.exit_code:
        print(f"{PROG}: {outcome.message}", file=sys.stderr)
    return outcome.exit_code


def cmd_tasks(argv: Sequence[str]) -> int:
    p = _Parser(prog=f"{PROG} tasks", description="List tasks, groups and tags.")
    p.add_argument("pattern", nargs="?", help="only names matching this wildcard")
    p.add_argument("--include_path", action="append", help="extra folder of task YAMLs")
    p.add_argument("--paths", action="store_true", help="show each YAML's path")
    args = p.parse_args(argv)
    import fnmatch

    from lmms_eval.tasks.index import TaskIndex

    index = TaskIndex.load(args.include_path)
    rows = [(n, "task", index.tasks[n]) for n in index.tasks]
    rows += [(n, "group", index.groups[n]["yaml"]) for n in index.groups]
    rows += [(n, "tag", f"{len(index.tags[n])} tasks") for n in index.tags]
    rows.sort()
    pattern = args.pattern
    if pattern and not any(ch in pattern for ch in "*?["):
        pattern = f"*{pattern}*"  # a plain word lists every name that contains it
    out = []
    for name, kind, where in rows:
        if pattern and not fnmatch.fnmatchcase(name, pattern):
            continue
        out.append(f"{name:<40} {kind:<6} {where}" if args.paths or kind == "tag" else f"{name:<40} {kind}")
    if pattern and not out:
        hint = did_you_mean(args.pattern.strip("*?[]"), [name for name, _, _ in rows])
        raise UsageError(f"no task, group or tag matches {args.pattern!r}.{hint} `lmms-eval tasks` lists them all")
    for _path, problem in sorted(index.broken.items()):
        out.append(f"! {problem}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def cmd_models(argv: Sequence[str]) -> int:
    p = _Parser(prog=f"{PROG} models", description="List registered model adapters.")
    p.parse_args(argv)
    from lmms_eval.api.registry import MODELS

    for name, value in MODELS.items():
        where = value if isinstance(value, str) else f"{value.__module__}:{value.__name__}"
        print(f"{name:<24} {where}")
    return 0


def cmd_metrics(argv: Sequence[str]) -> int:
    p = _Parser(prog=f"{PROG} metrics", description="List registered metrics and aggregations.")
    p.parse_args(argv)
    from lmms_eval.metrics import list_aggregations, list_metrics

    for name, about in list_metrics():
        print(f"{name:<28} {about}")
    print("\naggregations (metric_list: aggregation:): " + ", ".join(list_aggregations()))
    return 0


def cmd_filters(argv: Sequence[str]) -> int:
    p = _Parser(prog=f"{PROG} filters", description="List registered filters (filter_list: function:).")
    p.parse_args(argv)
    from lmms_eval.filters import list_filters

    for name, about in list_filters():
        print(f"{name:<28} {about}")
    return 0


def cmd_score(argv: Sequence[str]) -> int:
    p = _Parser(prog=f"{PROG} score", description="Recompute metrics from a run's sample logs.")
    p.add_argument("run_dir", help="a run folder (holds run.json and samples_*.jsonl)")
    p.add_argument("--include_path", action="append", help="extra folder of task YAMLs")
    p.add_argument("--bootstrap_iters", type=int)
    p.add_argument("--max_error_rate", type=float)
    p.add_argument("--judge", help="judge to (re-)run for tasks with a judge: block (default: the run's own)")
    args = p.parse_args(argv)
    from lmms_eval.engine.rescore import rescore_run

    outcome = rescore_run(args.run_dir, args.include_path, args.bootstrap_iters, args.max_error_rate, args.judge)
    return _report(outcome)


def cmd_validate(argv: Sequence[str]) -> int:
    p = _Parser(prog=f"{PROG} validate", description="Check task or group YAML files.")
    p.add_argument("paths", nargs="+", help="YAML files")
    p.add_argument("--check_data", action="store_true", help="also load the dataset and build the first prompt")
    p.add_argument(
        "--include_path", action="append", help="task folder the YAMLs live under (for shared !function code)"
    )
    args = p.parse_args(argv)
    import os

    from lmms_eval.api.task_config import GroupConfig, validate_config
    from lmms_eval.tasks.index import BUILTIN_TASK_DIR
    from lmms_eval.tasks.task import Task
    from lmms_eval.tasks.yaml_loader import load_yaml_with_includes, register_task_roots, resolve_functions

    register_task_roots([BUILTIN_TASK_DIR, *(os.path.abspath(d) for d in args.include_path or [])])

    failed = 0
    for path in args.paths:
        try:
            raw = load_yaml_with_includes(path)
            if "group" in raw and isinstance(raw.get("task"), list):
                validate_config(GroupConfig, resolve_functions(raw), path)
                print(f"ok      {path} (group {raw['group']!r})")
                continue
            task = Task.from_yaml(path)
            _ = task.metrics, task.filters
            if args.check_data:
                ids = task.doc_ids(1)
                if ids:
                    task.build_request(ids[0], task.doc(ids[0]), 0, None, None)
            print(f"ok      {path} (task {task.name!r})")
        except LmmsEvalError as exc:
            failed += 1
            print(f"invalid {exc}")
    return 2 if failed else 0


def _lazy(module: str, name: str) -> Callable[[Sequence[str]], int]:
    """A subcommand that lives in its own module, imported only when it runs."""

    def run(argv: Sequence[str]) -> int:
        import importlib

        handler: Callable[[Sequence[str]], int] = getattr(importlib.import_module(module), name)
        return handler(argv)

    return run


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {
    "tasks": cmd_tasks,
    "models": cmd_models,
    "metrics": cmd_metrics,
    "filters": cmd_filters,
    "score": cmd_score,
    "validate": cmd_validate,
    "compare": _lazy("lmms_eval.cli.compare", "cmd_compare"),
    "export": _lazy("lmms_eval.cli.export", "cmd_export"),
    "report": _lazy("lmms_eval.cli.report", "cmd_report"),
    "merge": _lazy("lmms_eval.cli.merge", "cmd_merge"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lmms-eval`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = any(a.upper() == "DEBUG" for a in argv)
    handler = COMMANDS.get(argv[0]) if argv else None
    _install_signal_handlers()
    try:
        return handler(argv[1:]) if handler else cmd_evaluate(argv)
    except LmmsEvalError as exc:
        if debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
        what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
        print(f"{PROG}: {what}; finished samples are saved; rerun with --resume to continue", file=sys.stderr)
        return 128 + int(signum)
    except Exception as exc:  # noqa: BLE001 - never a bare traceback unless asked
        if debug:
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (rerun with --verbosity DEBUG for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
