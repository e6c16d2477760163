"""The grading types: what to ask the judge for one sample, and how to turn replies into a score.

Each function here is pure (no I/O): :func:`prompts` renders the judge messages for one
(sample, filter), :func:`score` parses the replies strictly and computes the value;
:func:`rule_decision` runs the cascade's rule metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lmms_eval.api.errors import ConfigError, SampleError
from lmms_eval.api.record import SampleRecord
from lmms_eval.judge import parsing
from lmms_eval.judge.spec import JudgeSpec, RuleSpec
from lmms_eval.judge.templates import JudgeTemplate


def reference_text(target: Any) -> str:
    """The reference as prompt text: a string as is, several references joined with ``"; "``."""
    if target is None:
        return ""
    if isinstance(target, (list, tuple)):
        return "; ".join(str(t) for t in target)
    return str(target)


def prompt_user_text(prompt: Any) -> str:
    """The text of the user turns of a logged prompt (``record.prompt``)."""
    texts: list[str] = []
    for msg in prompt or []:
        if isinstance(msg, dict) and msg.get("role") == "user":
            for part in msg.get("content") or []:
                if isinstance(part, dict) and part.get("type") == "text":
                    texts.append(str(part.get("text", "")))
    return "\n".join(texts)


def question_text(spec: JudgeSpec, record: SampleRecord, doc: Mapping[str, Any]) -> str:
    """``{{ question }}``: a doc column, a jinja template over the doc, or the prompt's user text."""
    if spec.question is None:
        return prompt_user_text(record.prompt)
    if "{{" in spec.question or "{%" in spec.question:
        return JudgeTemplate("question", "judge.question", spec.question).render(**{**dict(doc), "doc": doc})
    if spec.question not in doc:
        raise SampleError(
            f"judge.question names column {spec.question!r}, which this document lacks "
            f"(columns: {', '.join(sorted(doc))})"
        )
    return str(doc[spec.question])


def rubric_components(spec: JudgeSpec, doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rubric's ``[{name, weight}]``: fixed in the spec or read from the document."""
    if spec.components:
        comps = [c.model_dump() for c in spec.components]
    else:
        assert spec.components_field
        names = doc.get(spec.components_field)
        if not isinstance(names, (list, tuple)) or not names:
            raise SampleError(
                f"judge.components_field {spec.components_field!r} is not a non-empty list in this document"
            )
        weights = doc.get(spec.weights_field) if spec.weights_field else [1.0] * len(names)
        if not isinstance(weights, (list, tuple)) or len(weights) != len(names):
            raise SampleError(f"judge.weights_field {spec.weights_field!r} must be a list as long as the components")
        comps = [{"name": str(n), "weight": float(w)} for n, w in zip(names, weights)]
    if len({c["name"] for c in comps}) != len(comps):
        raise SampleError("rubric component names repeat; they must be unique")
    if any(not c["weight"] > 0 for c in comps):
        raise SampleError("rubric weights must be positive")
    return comps


def _fmt(value: float) -> str:
    return f"{value:g}"


def template_variables(
    spec: JudgeSpec, record: SampleRecord, doc: Mapping[str, Any], filter_name: str, prediction: Any
) -> dict[str, Any]:
    """Everything a judge template may use for one (sample, filter)."""
    target = record.target
    variables: dict[str, Any] = {
        "question": question_text(spec, record, doc),
        "reference": reference_text(target),
        "references": list(target) if isinstance(target, (list, tuple)) else ([] if target is None else [target]),
        "target": target,
        "prediction": "" if prediction is None else str(prediction),
        "raw_output": str(record.raw_output or ""),
        "doc": doc,
        "filter": filter_name,
        "rating_min": _fmt(spec.rating_range[0]),
        "rating_max": _fmt(spec.rating_range[1]),
    }
    if spec.type == "rubric":
        variables["components"] = rubric_components(spec, doc)
    variables.update(spec.variables)
    return variables


def _messages(text: str, system: str | None, image_url: str | None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    if image_url:
        messages.append(
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": image_url}}, {"type": "text", "text": text}],
            }
        )
    else:
        messages.append({"role": "user", "content": text})
    return messages


def prompts(
    spec: JudgeSpec,
    template: JudgeTemplate,
    system: JudgeTemplate | None,
    variables: dict[str, Any],
    image_url: str | None = None,
) -> list[list[dict[str, Any]]]:
    """The judge conversations for one (sample, filter): two for ``pairwise_rating``, else one."""
    system_text = system.render(**variables) if system is not None else None
    if spec.type == "pairwise_rating":
        out = []
        for first, second in (
            (variables["reference"], variables["prediction"]),
            (variables["prediction"], variables["reference"]),
        ):
            text = template.render(**{**variables, "answer_1": first, "answer_2": second})
            out.append(_messages(text, system_text, image_url))
        return out
    return [_messages(template.render(**variables), system_text, image_url)]


def metric_value(rule: RuleSpec, prediction: Any, target: Any, doc: Mapping[str, Any]) -> Any:
    """Compute one registered (per-sample) metric."""
    from lmms_eval.api.registry import METRICS

    metric = METRICS.get(rule.metric)
    if getattr(metric, "corpus_level", False):
        raise ConfigError(f"judge cascade metric {rule.metric!r} is corpus-level; use a per-sample metric")
    return metric.compute(prediction, target, doc=doc, choices=None, **rule.kwargs())


@dataclass
class RuleOutcome:
    """What the cascade's rules said about one (sample, filter)."""

    values: dict[str, Any] = field(default_factory=dict)
    passed: bool = False
    parsed: bool = False

    def decided(self, judge_when: str) -> bool:
        """True when the rules settle the sample and the judge is not needed."""
        return self.passed or (judge_when == "unparsed" and self.parsed)


def rule_decision(
    spec: JudgeSpec,
    prediction: Any,
    target: Any,
    doc: Mapping[str, Any],
    scores: Mapping[str, Any] | None,
    filter_name: str,
) -> RuleOutcome:
    """Run the cascade rules; a rule without kwargs reuses the task's own score when present."""
    outcome = RuleOutcome()
    empty = spec.judge_empty and (prediction is None or not str(prediction).strip())
    for rule in spec.rules():
        key = f"{rule.metric},{filter_name}"
        try:
            if not rule.kwargs() and scores and key in scores:
                value = scores[key]
            else:
                value = metric_value(rule, prediction, target, doc)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - a rule that cannot parse defers to the judge
            outcome.values[rule.metric] = f"error: {type(exc).__name__}: {exc}"
            continue
        outcome.values[rule.metric] = value
        if isinstance(value, (int, float)):
            number = float(value)
            if math.isnan(number):
                continue
            outcome.parsed = outcome.parsed or not empty
            if number >= spec.rule_threshold:
                outcome.passed = True
    return outcome


def score(
    spec: JudgeSpec,
    replies: list[str],
    variables: Mapping[str, Any],
    record: SampleRecord,
    doc: Mapping[str, Any],
) -> tuple[Any, Any]:
    """``(value, verdict)`` from the judge's replies; raises :class:`parsing.VerdictError`."""
    low, high = spec.rating_range
    if spec.type == "binary":
        correct = parsing.parse_binary(replies[0], spec.verdict_pattern, spec.labels)
        return (1.0 if correct else 0.0), ("correct" if correct else "incorrect")
    if spec.type == "rating":
        value = parsing.parse_rating(replies[0], low, high, spec.verdict_pattern)
        return value, value
    if spec.type == "pairwise_rating":
        ref_first = parsing.parse_pair(replies[0], low, high)
        pred_first = parsing.parse_pair(replies[1], low, high)
        prediction_scores = [ref_first[1], pred_first[0]]
        verdict = {
            "orders": [list(ref_first), list(pred_first)],
            "prediction_scores": prediction_scores,
            "reference_scores": [ref_first[0], pred_first[1]],
        }
        return sum(prediction_scores) / 2.0, verdict
    if spec.type == "rubric":
        components = variables["components"]
        parts = parsing.parse_rubric(replies[0], components)
        total = sum(float(c["weight"]) for c in components)
        return sum(parts.values()) / total, parts
    if spec.type == "extract":
        extracted = parsing.parse_extracted(replies[0], spec.extract_reply)
        scorer = spec.scorer()
        assert scorer is not None
        return metric_value(scorer, extracted, record.target, doc), extracted
    if spec.type == "label":
        assert spec.labels is not None  # validated by JudgeSpec
        name = parsing.parse_label(replies[0], spec.labels, spec.verdict_pattern)
        return name, name
    raise ConfigError(f"unknown judge type {spec.type!r}")  # pragma: no cover - validated by JudgeSpec
