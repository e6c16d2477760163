"""The validated schema of a task YAML (and of a group YAML).

Keys follow lmms-eval / lm-evaluation-harness so existing task files read as they are.
Unknown keys are rejected with a did-you-mean, naming the YAML file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lmms_eval.api.errors import ConfigError, did_you_mean

# A YAML value that is a column name, a jinja2 template, a literal, or a ``!function``.
Templated = str | int | float | list | dict | Callable[..., Any] | None


class MetricSpec(BaseModel):
    """One entry of ``metric_list``. Extra keys are passed to the metric as keyword arguments."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    metric: str | Callable[..., Any]
    aggregation: str | Callable[..., Any] | None = None
    higher_is_better: bool | None = None

    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FilterStep(BaseModel):
    """One step of a filter pipeline: a registered filter name plus its arguments."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    function: str | Callable[..., Any]

    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FilterPipeline(BaseModel):
    """A named filter pipeline; its name is the part after the comma in result keys."""

    model_config = ConfigDict(extra="forbid")

    name: str
    filter: list[FilterStep] = Field(default_factory=list)


class BreakdownSpec(BaseModel):
    """One entry of ``breakdown``: report every metric per value of a document field too.

    ``field`` is a column name, a dotted path into a struct column (``metadata.skills``) or a
    ``!function fn(doc) -> str | list[str] | None``. A list value puts the sample in each of its
    labels (MathVista's multi-label skills); None leaves it out of this breakdown. Results get
    ``"<metric>,<filter>,<name>=<value>"`` keys; with ``macro: true`` also
    ``"<metric>_macro_<name>,<filter>"``, the unweighted mean over the values (MME-RealWorld's
    "overall" as MGPO reports it)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str
    field: str | Callable[..., Any]
    macro: bool = False


class TaskConfig(BaseModel):
    """A task definition, validated. Function-valued keys hold callables after loading."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    task: str
    task_alias: str | None = None
    tag: str | list[str] | None = None
    dataset_path: str
    dataset_name: str | None = None
    dataset_kwargs: dict[str, Any] = Field(default_factory=dict)
    test_split: str = "test"
    validation_split: str | None = None
    train_split: str | None = None
    process_docs: Callable[..., Any] | None = None
    doc_to_visual: Templated = None
    doc_to_audio: Templated = None
    doc_to_video: Templated = None
    doc_to_messages: Callable[..., Any] | None = None
    doc_to_text: Templated = None
    doc_to_target: Templated = None
    doc_to_choice: Templated = None
    doc_to_context: Callable[..., Any] | None = None
    """``!function fn(doc, lmms_eval_specific_kwargs) -> dict``: what the task chose to build this
    prompt beyond the messages themselves (a retrieval: its query, candidates and chosen moments),
    logged as the sample record's ``context``."""
    doc_id_column: str | None = None
    log_exclude_columns: list[str] = Field(default_factory=list)
    """Columns left out of the document logged with each sample (e.g. images stored as base64
    strings, which are not media features and would otherwise be copied into every record)."""
    system_prompt: str | None = None
    process_results: Callable[..., Any] | None = None
    metric_list: list[MetricSpec] = Field(default_factory=list)
    filter_list: list[FilterPipeline] = Field(default_factory=list)
    generation_kwargs: dict[str, Any] = Field(default_factory=dict)
    output_type: Literal["generate_until", "multiple_choice"] = "generate_until"
    """``multiple_choice``: the model scores each ``doc_to_choice`` option as its reply (log-likelihood)
    and the lowest mean token loss wins; the response is that option's letter."""
    lmms_eval_specific_kwargs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    prompt_variants: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Named prompt variants selected per run (``--prompt_variant NAME``): each overlays the prompt
    kwargs (after ``default`` and the model's own); ``system_prompt`` and ``generation_kwargs`` in
    it replace/overlay the task's. ``reasoning`` is built in (see ``tasks/variants.py``)."""
    breakdown: list[BreakdownSpec] = Field(default_factory=list)
    agent: dict[str, Any] | None = None
    """A multi-turn agent setup (protocol, tools, limits; see ``agent/spec.py``): the task is run
    by the engine's agent loop instead of one generation. Also allowed inside a prompt variant."""
    submission: Callable[..., Any] | None = None
    """``!function fn(records) -> (file_name, content)``: the file a benchmark's server expects,
    written to ``<run dir>/submissions/`` after every run and ``lmms-eval score``."""
    repeats: int = 1
    judge: dict[str, Any] | list[dict[str, Any]] | None = None
    num_fewshot: Literal[0] = 0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tag")
    @classmethod
    def _tags_as_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @property
    def tags(self) -> list[str]:
        return list(self.tag or [])

    @property
    def version(self) -> Any:
        return self.metadata.get("version", 0)

    def prompt_kwargs(self, model_name: str | None) -> dict[str, Any]:
        """The ``lmms_eval_specific_kwargs`` for a model: ``default`` overlaid by the model's own."""
        merged = dict(self.lmms_eval_specific_kwargs.get("default", {}))
        if model_name and model_name in self.lmms_eval_specific_kwargs:
            merged.update(self.lmms_eval_specific_kwargs[model_name])
        return merged


class GroupMetric(BaseModel):
    """How a group folds its subtasks' values of one metric."""

    model_config = ConfigDict(extra="forbid")

    metric: str
    aggregation: Literal["mean"] = "mean"
    weight_by_size: bool = False
    filter_list: str | list[str] = "none"


class GroupConfig(BaseModel):
    """A group YAML: a name, its member tasks (or groups), and aggregate metrics."""

    model_config = ConfigDict(extra="forbid")

    group: str
    group_alias: str | None = None
    task: list[str]
    aggregate_metric_list: list[GroupMetric] = Field(default_factory=list)
    report: Callable[..., Any] | None = None
    """``!function module.fn``: called with ``{member: its results entry}``; returns ``{name: number}``,
    reported as the group's ``"name,report"`` values (e.g. long-form minus chunked WER)."""
    metadata: dict[str, Any] = Field(default_factory=dict)


def validate_config(model: type[BaseModel], raw: dict[str, Any], source: str) -> Any:
    """Validate ``raw`` against ``model``; raise a one-line :class:`ConfigError` naming ``source``."""
    try:
        return model(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        if first["type"] == "extra_forbidden":
            key = str(first["loc"][-1])
            known = model.model_fields if len(first["loc"]) == 1 else {}
            hint = did_you_mean(key, known) if known else ""
            raise ConfigError(f"{source}: unknown key {key!r}.{hint}") from None
        if first["type"] == "missing":
            raise ConfigError(f"{source}: required key {loc!r} is missing") from None
        if first["type"] == "value_error":  # our own validators' messages say the fix already
            raise ConfigError(f"{source}: {str(first['msg']).removeprefix('Value error, ')}") from None
        raise ConfigError(f"{source}: key {loc!r}: {first['msg']}") from None
