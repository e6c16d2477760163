"""Load-time checks of a task: what can be known wrong before any document is generated.

* :func:`check_scoring` (when the YAML loads): every metric, aggregation and filter name is
  registered (or a metric comes from ``process_results``), filter and metric arguments are ones
  the function takes, and the ``judge:`` block names templates, metrics and filter pipelines that
  exist. Each problem is one :class:`ConfigError` naming the YAML, with a did-you-mean and the
  command that lists the valid names.
* :func:`check_columns` (when the dataset opens): every column the YAML names, and every variable
  of every template, is a column of the dataset or a prompt variable, all reported at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lmms_eval.api.errors import ConfigError, DatasetError, UsageError, did_you_mean

if TYPE_CHECKING:
    from lmms_eval.tasks.task import Task

MEDIA_FIELDS = ("doc_to_visual", "doc_to_audio", "doc_to_video")
# fields whose plain string value names a column (checked when the dataset opens)
COLUMN_FIELDS = (*MEDIA_FIELDS, "doc_to_target", "doc_to_choice")
# fields rendered per document: a template in any of them is checked variable by variable
TEMPLATED_FIELDS = (*MEDIA_FIELDS, "doc_to_text", "doc_to_target", "doc_to_choice")


def is_template(value: Any) -> bool:
    """A jinja2 template (``{{ ... }}`` or ``{% ... %}``), as opposed to a column name or a literal."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def template_vars(text: str, source: str) -> set[str]:
    """The undeclared variables of a jinja2 template (loop and ``set`` names excluded)."""
    import jinja2
    from jinja2 import meta

    env = jinja2.Environment()
    try:
        return set(meta.find_undeclared_variables(env.parse(text))) - set(env.globals)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{source}: bad jinja2 template {text!r}: {exc.message}") from None


# ---- scoring: metrics, aggregations, filters, judge -----------------------------------------------


def _unknown_kwargs(fn: Callable[..., Any], given: dict[str, Any], positional: int) -> list[str]:
    """Keys of ``given`` that ``fn`` cannot take (none when it takes ``**kwargs`` or has no signature)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return []
    names = {p.name for p in params[positional:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return [key for key in given if key not in names]


def _argument_error(where: str, what: str, fn: Callable[..., Any], bad: str, positional: int) -> ConfigError:
    try:
        names = [p.name for p in list(inspect.signature(fn).parameters.values())[positional:] if p.name != "doc"]
    except (TypeError, ValueError):  # pragma: no cover - _unknown_kwargs found none then
        names = []
    takes = ", ".join(names) or "no arguments"
    return ConfigError(f"{where}: {what} has no argument {bad!r}.{did_you_mean(bad, names)} It takes: {takes}.")


def _registered(registry: Any, name: str, where: str) -> Any:
    """``registry.get(name)``, an import failure reported against the YAML."""
    try:
        return registry.get(name)
    except UsageError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_metrics(task: Task) -> None:
    from lmms_eval.api.registry import METRICS
    from lmms_eval.metrics import list_aggregations

    cfg = task.config
    aggregations = list_aggregations()
    for n, spec in enumerate(cfg.metric_list):
        where = f"{task.yaml_path}: metric_list[{n}]"
        compute: Callable[..., Any] | None = spec.metric if callable(spec.metric) else None
        if isinstance(spec.metric, str):
            if spec.metric in METRICS:
                compute = _registered(METRICS, spec.metric, where).compute
            elif cfg.process_results is None:
                raise ConfigError(
                    f"{where}: unknown metric {spec.metric!r}.{did_you_mean(spec.metric, METRICS.names())} "
                    "List them with `lmms-eval metrics` (or compute it in process_results)."
                )
        agg = spec.aggregation
        if isinstance(agg, str) and agg not in aggregations and agg not in METRICS:
            raise ConfigError(
                f"{where}: unknown aggregation {agg!r}.{did_you_mean(agg, aggregations + METRICS.names())} "
                f"List them with `lmms-eval metrics` ({', '.join(aggregations)}, or a metric's name)."
            )
        if compute is not None and cfg.process_results is None:
            name = spec.metric if isinstance(spec.metric, str) else getattr(spec.metric, "__name__", "?")
            for bad in _unknown_kwargs(compute, {**spec.kwargs(), "doc": None, "choices": None}, 2):
                if bad in ("doc", "choices"):  # the context every metric is called with
                    raise ConfigError(f"{where}: metric {name!r} must take doc= and choices= (add **_ to it)")
                raise _argument_error(where, f"metric {name!r}", compute, bad, 2)


def _check_filters(task: Task) -> None:
    from lmms_eval.api.registry import FILTERS

    for p, pipe in enumerate(task.config.filter_list):
        for s, step in enumerate(pipe.filter):
            where = f"{task.yaml_path}: filter_list[{p}] ({pipe.name!r}) step {s}"
            if callable(step.function):
                fn, name = step.function, getattr(step.function, "__name__", "?")
            elif step.function in FILTERS:
                fn, name = _registered(FILTERS, step.function, where), step.function
            else:
                raise ConfigError(
                    f"{where}: unknown filter {step.function!r}.{did_you_mean(step.function, FILTERS.names())} "
                    "List them with `lmms-eval filters` (or give one as !function module.fn)."
                )
            for bad in _unknown_kwargs(fn, step.kwargs(), 1):
                raise _argument_error(where, f"filter {name!r}", fn, bad, 1)


def _check_judge(task: Task) -> None:
    specs = task.judge_specs  # each block's own schema, distinct metrics and answer_from: parse_specs
    if not specs:
        return
    from lmms_eval.api.registry import METRICS
    from lmms_eval.judge.templates import load_template

    pipelines = [name for name, _steps in task.filters]
    for i, spec in enumerate(specs):
        where = f"{task.yaml_path}: judge" + (f"[{i}] ({spec.metric_name})" if len(specs) > 1 else "")
        for name in (spec.template_name, spec.system_template):
            if name is not None:
                try:
                    load_template(name, [task.yaml_dir])
                except ConfigError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
        rules = spec.rules() + ([spec.scorer()] if spec.type == "extract" else [])
        for rule in rules:
            if rule is None:
                continue
            if rule.metric not in METRICS:
                raise ConfigError(
                    f"{where}: unknown metric {rule.metric!r}.{did_you_mean(rule.metric, METRICS.names())} "
                    "List them with `lmms-eval metrics`."
                )
            if getattr(_registered(METRICS, rule.metric, where), "corpus_level", False):
                raise ConfigError(
                    f"{where}: metric {rule.metric!r} is corpus-level; the judge needs a per-sample metric"
                )
        for name in spec.filters or []:
            if name not in pipelines:
                raise ConfigError(
                    f"{where}: judge.filters names {name!r}, which is not a filter pipeline of this task "
                    f"({', '.join(pipelines)}).{did_you_mean(name, pipelines)}"
                )


def check_scoring(task: Task) -> None:
    """Refuse, naming the YAML, unknown metric/aggregation/filter names, arguments a metric or
    filter cannot take, and a judge block naming missing templates, metrics or pipelines."""
    _check_metrics(task)
    _check_filters(task)
    _check_judge(task)


# ---- columns and template variables --------------------------------------------------------------


def _templates(value: Any) -> Iterator[str]:
    if is_template(value):
        yield value
    elif isinstance(value, list):
        yield from (v for v in value if is_template(v))


def defined_prompt_names(task: Task) -> set[str]:
    """Names a template may use besides columns: every model's ``lmms_eval_specific_kwargs``."""
    names = {"lmms_eval_specific_kwargs"}
    for kwargs in task.config.lmms_eval_specific_kwargs.values():
        names.update(kwargs or {})
    return names


def check_columns(task: Task, columns: set[str]) -> None:
    """Fail early, in one line, naming every column (or template variable) the YAML uses that
    the dataset lacks; deterministic (fields in order, variables sorted)."""
    if not columns:
        return
    cfg = task.config
    needed: list[tuple[str, str]] = []
    for key in COLUMN_FIELDS:
        value = getattr(cfg, key)
        if isinstance(value, str) and not is_template(value):
            needed.append((key, value))
        elif isinstance(value, list) and key in MEDIA_FIELDS:
            needed.extend((f"{key}[{n}]", v) for n, v in enumerate(value) if isinstance(v, str) and not is_template(v))
    if cfg.doc_id_column:
        needed.append(("doc_id_column", cfg.doc_id_column))
    defined = defined_prompt_names(task)
    for key in TEMPLATED_FIELDS:
        for text in _templates(getattr(cfg, key)):
            needed.extend((f"{key} template", var) for var in sorted(template_vars(text, task.yaml_path) - defined))
    missing = list(dict.fromkeys((key, col) for key, col in needed if col not in columns))
    if not missing:
        return
    listed = ", ".join(f"{col!r} (from {key})" for key, col in missing)
    what = f"column {listed} is" if len(missing) == 1 else f"columns {listed} are"
    raise DatasetError(
        f"task {task.name!r}: {what} not in dataset {cfg.dataset_path!r}; its columns are {sorted(columns)}. "
        f"Fix {task.yaml_path}."
    )
