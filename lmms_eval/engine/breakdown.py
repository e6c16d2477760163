"""Per-category sub-metrics: a task's ``breakdown:`` fields turned into results keys.

Each :class:`~lmms_eval.api.task_config.BreakdownSpec` names a document field (a column, a dotted
path into a struct column such as ``metadata.skills``, or a function of the document). Every
scored sample is labelled from its logged ``doc`` as it is tallied; at aggregation each metric is
computed again over the samples of each label, with the metric's own aggregation (so a corpus
metric stays corpus-level per category):

* ``"<metric>,<filter>,<name>=<label>"`` and ``"<metric>_stderr,<filter>,<name>=<label>"``;
* ``"<metric>_macro_<name>,<filter>"`` with ``macro: true``: the unweighted mean over the labels;
* ``breakdown_n``: ``{name: {label: samples}}``.

A list value puts the sample under each of its labels (multi-label skills); a missing or empty
value leaves it out of that breakdown only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from lmms_eval.agent.usage import AGENT_BREAKDOWNS
from lmms_eval.agent.usage import FILTER as AGENT_FILTER
from lmms_eval.engine.stats import stderr_for

if TYPE_CHECKING:
    from lmms_eval.api.record import SampleRecord
    from lmms_eval.api.task_config import BreakdownSpec
    from lmms_eval.engine.tally import TaskTally
    from lmms_eval.tasks.task import Task

Labeller = Callable[["SampleRecord"], dict[str, list[str]]]


def field_value(doc: Mapping[str, Any], field: str) -> Any:
    """``doc[field]``, else the dotted path ``a.b`` into nested mappings; None when absent."""
    if field in doc:
        return doc[field]
    value: Any = doc
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def labels(spec: BreakdownSpec, doc: Mapping[str, Any]) -> list[str]:
    """The labels one document has in one breakdown (none, one, or several for a list value)."""
    value = spec.field(doc) if callable(spec.field) else field_value(doc, spec.field)
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        text = str(item)
        if text not in out:
            out.append(text)
    return out


def labeller(task: Task) -> Labeller | None:
    """The function that labels a task's records by its ``breakdown:`` (None without one)."""
    specs = task.config.breakdown
    agent = task.agent_protocol is not None
    if not specs and not agent:
        return None

    def label(record: SampleRecord) -> dict[str, list[str]]:
        doc = record.doc or {}
        out = {spec.name: labels(spec, doc) for spec in specs}
        if agent:
            from lmms_eval.agent.usage import agent_labels

            out.update(agent_labels((record.extra or {}).get("agent")))
        return out

    return label


def breakdown_results(task: Task, tally: TaskTally, bootstrap_iters: int, higher: dict[str, bool]) -> dict[str, Any]:
    """The breakdown keys of a task's results entry (see the module docstring); ``higher`` gains
    the direction of each ``_macro_`` metric."""
    out: dict[str, Any] = {}
    if not tally.slot_labels:
        return out
    sizes: dict[str, dict[str, int]] = {}
    for spec in breakdown_specs(task):
        groups: dict[str, list[int]] = {}
        for slot, by_name in tally.slot_labels.items():
            for label in by_name.get(spec.name, ()):
                groups.setdefault(label, []).append(slot)
        if not groups:
            continue
        ordered = sorted(groups)
        sizes[spec.name] = {label: len(groups[label]) for label in ordered}
        for key in tally.metric_keys():
            metric, filt = key.split(",", 1)
            if spec.name in AGENT_BREAKDOWNS and filt == AGENT_FILTER:  # tool use split by tool use: noise
                continue
            aggregate, hib = task.aggregation(metric)
            per_label: list[float] = []
            for label in ordered:
                values = tally.values_at(key, sorted(groups[label]))
                if not len(values):
                    continue
                value = _finite(aggregate(values))
                out[f"{key},{spec.name}={label}"] = value
                seed = f"{task.name}/{key}/{spec.name}={label}"
                out[f"{metric}_stderr,{filt},{spec.name}={label}"] = _finite(
                    stderr_for(values, aggregate, bootstrap_iters, seed)
                )
                if value is not None:
                    per_label.append(value)
            if spec.macro and per_label:
                out[f"{metric}_macro_{spec.name},{filt}"] = math.fsum(per_label) / len(per_label)
                higher[f"{metric}_macro_{spec.name}"] = hib
    out["breakdown_n"] = sizes
    return out


def breakdown_specs(task: Task) -> list[Any]:
    """The task's ``breakdown:`` entries, plus ``searched`` and ``grounding`` for an agent task
    (labelled from each record's agent summary: :func:`lmms_eval.agent.usage.agent_labels`)."""
    specs: list[Any] = list(task.config.breakdown)
    if task.agent_protocol is not None:
        from lmms_eval.api.task_config import BreakdownSpec

        specs.extend(BreakdownSpec(name=name, field=name) for name in AGENT_BREAKDOWNS)
    return specs


def base_metric(task: Task, metric: str) -> str:
    """The metric a ``<metric>_macro_<name>`` result derives from (``metric`` itself otherwise)."""
    for spec in task.config.breakdown:
        suffix = f"_macro_{spec.name}"
        if spec.macro and metric.endswith(suffix):
            return metric[: -len(suffix)]
    return metric


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
