"""How a task scores one sample: its filter pipelines, metrics and their aggregations.

:class:`TaskScoring` is the scoring half of :class:`~lmms_eval.tasks.task.Task` (which owns the
config, the documents and the prompts): filters run over a raw output (under the ``reasoning``
prompt variant, over its answer part), metrics over each pipeline's answer, and each metric's
aggregation and direction are looked up for the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lmms_eval.api.errors import SampleError, UsageError
from lmms_eval.api.metric import Metric
from lmms_eval.api.registry import FILTERS, METRICS

if TYPE_CHECKING:
    from lmms_eval.api.task_config import TaskConfig

DEFAULT_FILTER = "none"


class TaskScoring:
    """Filters, metrics and aggregations of a task (mixed into :class:`~lmms_eval.tasks.task.Task`)."""

    config: TaskConfig
    name: str
    prompt_variant: str | None
    _keys_by_filter: dict[str, list[tuple[str, Metric, dict[str, Any], bool]]]

    if TYPE_CHECKING:

        def target(self, doc: dict[str, Any]) -> Any: ...

        def choices(self, doc: dict[str, Any]) -> list[Any] | None: ...

        @property
        def judge_specs(self) -> list[Any]: ...

        @property
        def agent_protocol(self) -> Any: ...

    @cached_property
    def filters(self) -> list[tuple[str, list[tuple[Callable[..., Any], dict[str, Any]]]]]:
        """The filter pipelines as (name, [(fn, kwargs), ...]); ``none`` when none are given."""
        pipelines = []
        for pipe in self.config.filter_list or []:
            steps = []
            for step in pipe.filter:
                fn = step.function if callable(step.function) else FILTERS.get(step.function)
                steps.append((fn, step.kwargs()))
            pipelines.append((pipe.name, steps))
        return pipelines or [(DEFAULT_FILTER, [])]

    def apply_filters(self, output: str, doc: dict[str, Any]) -> dict[str, str]:
        """Run every filter pipeline over one raw output (under the ``reasoning`` prompt variant,
        over its answer part: :func:`~lmms_eval.tasks.variants.reasoning_answer`; under an agent
        protocol, over the protocol's answer of the last turn)."""
        from lmms_eval.tasks.variants import REASONING, reasoning_answer

        if self.agent_protocol is not None:
            output = self.agent_protocol.answer(output)
        elif self.prompt_variant == REASONING:
            output = reasoning_answer(output)
        out = {}
        for name, steps in self.filters:
            value: Any = output
            for fn, kwargs in steps:
                value = fn(value, doc=doc, **kwargs)
            out[name] = value
        return out

    @cached_property
    def metrics(self) -> list[tuple[str, Metric | None, dict[str, Any]]]:
        """(name, registered metric or None for process_results-only names, kwargs)."""
        out: list[tuple[str, Metric | None, dict[str, Any]]] = []
        for spec in self.config.metric_list:
            if callable(spec.metric):
                metric = Metric(name=spec.metric.__name__, compute=spec.metric)
                out.append((metric.name, metric, spec.kwargs()))
            elif spec.metric in METRICS:
                out.append((spec.metric, METRICS.get(spec.metric), spec.kwargs()))
            elif self.config.process_results is not None:
                out.append((spec.metric, None, spec.kwargs()))
            else:
                METRICS.get(spec.metric)  # raises with a did-you-mean
        return out

    def score(
        self,
        doc: dict[str, Any],
        filtered: dict[str, Any],
        target: Any = None,
        response: str | None = None,
        transcript: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Per-sample metric values keyed ``"metric,filter"`` (``target`` computed if not given).

        Registered metrics also get the model's whole ``response`` (the raw output, before any
        reduction or filter) and, for an agent sample, its ``transcript``, as keyword arguments;
        a task's own ``!function`` metric gets ``doc`` and ``choices`` only.
        """
        scores: dict[str, Any] = {}
        target = self.target(doc) if target is None else target
        choices = self.choices(doc)
        context: dict[str, Any] = {"doc": doc, "choices": choices}
        full = {**context, "response": response, "transcript": transcript}
        for filter_name, prediction in filtered.items():
            if self.config.process_results is not None:
                values = self.config.process_results(doc, [prediction])
                for name, _metric, _kw in self.metrics:
                    if name not in values:
                        raise SampleError(f"process_results returned no value for metric {name!r}")
                    scores[f"{name},{filter_name}"] = values[name]
                continue
            for key, metric, kwargs, registered in self._metric_keys(filter_name):
                scores[key] = metric.compute(prediction, target, **(full if registered else context), **kwargs)
        return scores

    def _metric_keys(self, filter_name: str) -> list[tuple[str, Metric, dict[str, Any], bool]]:
        """``("metric,filter", metric, kwargs, registered)`` for one filter, built once."""
        keys = self._keys_by_filter.get(filter_name)
        if keys is None:
            keys = self._keys_by_filter[filter_name] = [
                (f"{name},{filter_name}", metric, kwargs, name in METRICS and METRICS.get(name) is metric)
                for name, metric, kwargs in self.metrics
                if metric is not None
            ]
        return keys

    def aggregation(self, metric_name: str) -> tuple[Callable[[Sequence[Any]], float], bool]:
        """The aggregation function and higher_is_better of one metric of this task."""
        from lmms_eval.metrics import aggregation_by_name

        for spec in self.config.metric_list:
            name = spec.metric if isinstance(spec.metric, str) else spec.metric.__name__
            if name != metric_name:
                continue
            registered = METRICS.get(name) if isinstance(spec.metric, str) and name in METRICS else None
            agg = spec.aggregation
            if callable(agg):
                fn = agg
            elif isinstance(agg, str):
                fn = aggregation_by_name(agg)
            elif registered is not None:
                fn = registered.aggregate
            else:
                fn = aggregation_by_name("mean")
            hib = spec.higher_is_better
            if hib is None:
                hib = registered.higher_is_better if registered is not None else True
            return fn, hib
        for judge in self.judge_specs:  # a judge block's metric: its own aggregation (default mean)
            if judge.metric_name != metric_name:
                continue
            name = judge.aggregation or "mean"
            hib = judge.higher_is_better
            if hib is None:
                hib = METRICS.get(name).higher_is_better if name in METRICS else True
            return aggregation_by_name(name), hib
        from lmms_eval.agent.usage import HIGHER_IS_BETTER

        if self.agent_protocol is not None and metric_name in HIGHER_IS_BETTER:  # tool-use metrics
            return aggregation_by_name("mean"), HIGHER_IS_BETTER[metric_name]
        raise UsageError(f"task {self.name!r} has no metric {metric_name!r}")
