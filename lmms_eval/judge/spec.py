"""What a task asks of the judge: :class:`JudgeSpec`, the ``judge:`` block of a task YAML.

Example (binary grading after an exact-match rule, judge only where the rule says 0)::

    judge:
      type: binary
      template: judge_prompt.jinja     # file next to the YAML, or a built-in name
      cascade: [exact_match]           # rule metrics tried first (names in the METRICS registry)
      question: question               # doc column (or a jinja template) for {{ question }}
      image: image                     # optional: doc column with an image shown to the judge

Grading types and the per-sample value stored under ``"<metric>,<filter>"``:

=================== =================================================================== =====================
type                what the judge is asked                                             value
=================== =================================================================== =====================
``binary``          is the prediction the same answer as the reference?                 1.0 / 0.0
``rating``          rate the response ``rating_range`` (default 1..10): ``[[N]]``        N
``pairwise_rating`` rate (reference, prediction) side by side, asked in both orders      mean of the two scores
                                                                                        the prediction got
``rubric``          score each component 0..weight, JSON reply (MIA-Bench)               sum(scores)/sum(weights)
``extract``         extract the final answer from the raw response (MathVista)           ``score_with`` metric of
                                                                                        the extracted answer
``label``           pick one of the named ``labels`` (SimpleQA: correct / incorrect /    the label's name
                    not attempted); needs ``aggregation`` (a registered metric name)
=================== =================================================================== =====================

``aggregation:`` (any type) names how the block's per-sample values fold into the reported
number: ``mean`` (the default), ``median``, ``sum`` or a registered metric whose ``aggregate`` is
used (SimpleVQA: ``simplevqa_f1`` over the labels); ``higher_is_better`` defaults to that metric's.
Several blocks with the same template and inputs share one judge call through the judge cache.

``judge:`` may also be a LIST of such blocks (:func:`parse_specs`), run in order over the same
records, each producing its own metric (the names must differ). A block with
``answer_from: <metric of an earlier extract block>`` judges the answer that block extracted
instead of the filtered output (MathVerse: one prompt extracts, a second one scores)::

    judge:
      - {type: extract, template: extract.jinja, metric: extracted, score_with: exact_match}
      - {type: binary, template: score.jinja, metric: judge_correct, answer_from: extracted}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

GradingType = Literal["binary", "rating", "pairwise_rating", "rubric", "extract", "label"]

DEFAULT_METRIC: dict[str, str] = {
    "binary": "judge_correct",
    "rating": "judge_rating",
    "pairwise_rating": "judge_pairwise_rating",
    "rubric": "judge_rubric",
    "extract": "judge_extract",
    "label": "judge_label",
}


class Component(BaseModel):
    """One rubric component and its weight."""

    model_config = ConfigDict(extra="forbid")

    name: str
    weight: float = Field(gt=0)


class RuleSpec(BaseModel):
    """A rule metric of the cascade: a registered metric name plus its keyword arguments."""

    model_config = ConfigDict(extra="allow")

    metric: str

    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class JudgeSpec(BaseModel):
    """The ``judge:`` block of a task (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    type: GradingType
    template: str | None = Field(None, description="template file (task folder) or built-in name; default: the type")
    system_template: str | None = None
    metric: str | None = Field(None, description="name of the produced metric; default judge_<type>")
    filters: list[str] | None = Field(None, description="filter pipelines whose answers are judged; default all")
    cascade: list[str | RuleSpec] = Field(default_factory=list, description="rule metrics tried first")
    judge_when: Literal["not_correct", "unparsed"] = "not_correct"
    extract_reply: Literal["tagged", "whole", "whole_untagged"] = Field(
        "tagged", description="extract: how the answer is read from the reply (judge.parsing.parse_extracted)"
    )
    judge_empty: bool = Field(
        True, description="judge_when unparsed: an empty answer goes to the judge; false: the rules decide it"
    )
    rule_threshold: float = Field(1.0, description="a rule value at or above this decides 'correct'")
    score_with: str | RuleSpec | None = Field(None, description="extract: metric applied to the extracted answer")
    question: str | None = Field(None, description="doc column or jinja template; default: the prompt's user text")
    image: str | None = Field(None, description="doc column holding an image to show the judge")
    rating_range: tuple[float, float] = (1.0, 10.0)
    verdict_pattern: str | None = Field(None, description="binary/rating/label: regex whose group 1 is the verdict")
    labels: dict[str, list[str]] | None = Field(
        None,
        description="binary: spellings of correct/incorrect; label: label name -> the reply strings that mean it",
    )
    aggregation: str | None = Field(None, description="mean/median/sum or a registered metric whose aggregate is used")
    higher_is_better: bool | None = Field(None, description="default: the aggregation metric's, else true")
    components: list[Component] | None = None
    components_field: str | None = None
    weights_field: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict, description="extra constants for the template")
    answer_from: str | None = Field(
        None, description="metric of an earlier extract block whose extracted answer this block judges"
    )

    @model_validator(mode="after")
    def _check(self) -> JudgeSpec:
        if self.cascade and self.type not in ("binary", "extract"):
            raise ValueError(f"cascade only applies to binary and extract grading, not {self.type}")
        if self.type == "extract" and self.score_with is None and not self.cascade:
            raise ValueError("extract grading needs score_with (a metric for the extracted answer) or a cascade")
        if self.type == "rubric" and not self.components and not self.components_field:
            raise ValueError("rubric grading needs components (a list of {name, weight}) or components_field")
        if self.type == "binary" and self.labels and set(self.labels) - {"correct", "incorrect"}:
            raise ValueError("binary labels must be 'correct' and/or 'incorrect'; use type: label for other names")
        if self.type == "label":
            _check_label_names(self.labels, self.aggregation)
        if self.rating_range[0] >= self.rating_range[1]:
            raise ValueError("rating_range must be [low, high] with low < high")
        return self

    @property
    def metric_name(self) -> str:
        return self.metric or DEFAULT_METRIC[self.type]

    @property
    def template_name(self) -> str:
        return self.template or self.type

    def rules(self) -> list[RuleSpec]:
        return [RuleSpec(metric=r) if isinstance(r, str) else r for r in self.cascade]

    def scorer(self) -> RuleSpec | None:
        """The metric that scores an extracted answer (``score_with``, else the first rule)."""
        if self.score_with is not None:
            return RuleSpec(metric=self.score_with) if isinstance(self.score_with, str) else self.score_with
        rules = self.rules()
        return rules[0] if rules else None


def _check_label_names(labels: dict[str, list[str]] | None, aggregation: str | None) -> None:
    """``label`` grading: two or more names, each with a spelling, no spelling under two names."""
    if not labels or len(labels) < 2:
        raise ValueError("label grading needs labels: a mapping of two or more label names to accepted replies")
    owner: dict[str, str] = {}
    for name, spellings in labels.items():
        if not spellings:
            raise ValueError(f"label {name!r} has no accepted reply strings")
        for spelling in spellings:
            key = str(spelling).strip().lower()
            if key in owner and owner[key] != name:
                raise ValueError(f"reply string {spelling!r} is listed under labels {owner[key]!r} and {name!r}")
            owner[key] = name
    if aggregation is None:
        raise ValueError("label grading needs aggregation: a registered metric that folds the label names")


def parse_spec(raw: dict[str, Any] | JudgeSpec, source: str = "task YAML", label: str = "judge") -> JudgeSpec:
    """Validate one ``judge:`` block; errors name ``source`` (the task YAML) and ``label`` in one line."""
    from pydantic import ValidationError

    from lmms_eval.api.errors import ConfigError
    from lmms_eval.api.task_config import validate_config

    if isinstance(raw, JudgeSpec):
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {label}: a judge block must be a mapping with at least 'type'")
    try:
        return JudgeSpec(**raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:
            raise ConfigError(f"{source}: {label}: {first['msg'].removeprefix('Value error, ')}") from None
    return validate_config(JudgeSpec, raw, f"{source} {label} block")


def parse_specs(
    raw: dict[str, Any] | JudgeSpec | list[Any] | tuple[Any, ...] | None, source: str = "task YAML"
) -> list[JudgeSpec]:
    """Validate a task's ``judge:`` value: one block (a mapping) or a list of blocks run in order.

    Refused with a one-line :class:`~lmms_eval.api.errors.ConfigError` naming ``source``: two
    blocks producing the same metric name (give each its own ``metric:``), and an
    ``answer_from`` that does not name an EARLIER block of type ``extract``, or whose block does
    not extract an answer for every filter pipeline this one judges.
    """
    from lmms_eval.api.errors import ConfigError

    if raw is None:
        return []
    if isinstance(raw, (dict, JudgeSpec)):
        specs = [parse_spec(raw, source)]
    elif isinstance(raw, (list, tuple)):
        specs = [parse_spec(block, source, f"judge[{i}]") for i, block in enumerate(raw)]
    else:
        raise ConfigError(f"{source}: judge must be a mapping (one block) or a list of blocks")
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
        label = f"judge[{i}]" if len(specs) > 1 else "judge"
        name = spec.metric_name
        if name in seen:
            raise ConfigError(
                f"{source}: judge[{seen[name]}] and judge[{i}] both produce metric {name!r}; "
                "give each block its own 'metric:' name"
            )
        if spec.answer_from is not None:
            _check_answer_from(spec, specs[:i], seen, f"{source}: {label}")
        seen[name] = i
    return specs


def _check_answer_from(spec: JudgeSpec, earlier: list[JudgeSpec], seen: dict[str, int], where: str) -> None:
    from lmms_eval.api.errors import ConfigError

    if spec.answer_from not in seen:
        names = ", ".join(repr(s.metric_name) for s in earlier) or "none"
        raise ConfigError(
            f"{where}: answer_from names {spec.answer_from!r}, which is not the metric of an earlier judge block "
            f"(earlier blocks: {names}); list the extract block first"
        )
    source_spec = earlier[seen[spec.answer_from]]
    if source_spec.type != "extract":
        raise ConfigError(
            f"{where}: answer_from names {spec.answer_from!r}, a {source_spec.type} block; "
            "it must name a block of type extract"
        )
    if source_spec.filters is not None:
        missing = [f for f in spec.filters or ["(all)"] if f not in source_spec.filters]
        if missing:
            raise ConfigError(
                f"{where}: judges filter pipelines {', '.join(missing)} that block {spec.answer_from!r} does not "
                f"extract ({', '.join(source_spec.filters)}); set this block's filters: to a subset of those"
            )
