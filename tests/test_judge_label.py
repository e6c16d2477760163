"""The ``label`` judge grading type: strict parsing, spec validation, per-block aggregation.

The end-to-end test uses the :class:`~servers.FaultServer` stand-in (no model): it answers each
judge request with the next scripted reply, so the label counts are fixed by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_model import ScriptedModel
from servers import Fault, FaultServer, fault_server  # noqa: F401

from lmms_eval.api.errors import ConfigError
from lmms_eval.judge import parse_specs
from lmms_eval.judge.parsing import VerdictError, parse_label

SIMPLEQA = {"correct": ["正确", "A"], "incorrect": ["错误", "B"], "not_attempted": ["未尝试", "C"]}


# ================================================================== parsing
@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ('{"预测答案0": "正确"}', "correct"),  # the official JSON shape
        ('```json\n{"预测答案0": "【未尝试】"}\n```', "not_attempted"),  # fenced, bracketed
        ('{"reason": "the answer names another city", "预测答案0": "错误"}', "incorrect"),  # non-label strings ignored
        ("错误", "incorrect"),  # plain label
        ("  **未尝试**。 ", "not_attempted"),  # markdown and a final full stop trimmed
        ("A", "correct"),  # the prompt's A/B/C letters
        ("b", "incorrect"),  # case-insensitive
        ("C.", "not_attempted"),
    ],
)
def test_parse_label_accepts(reply: str, label: str) -> None:
    assert parse_label(reply, SIMPLEQA) == label


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I think the answer is fine", "no label"),
        ('{"预测答案0": "maybe"}', "no label"),
        ("", "no label"),
        ("正确 or 错误", "no label"),  # a sentence is not a label: the whole reply must be one
        ('{"预测答案0": "正确", "预测答案1": "错误"}', "conflicting labels"),
        ('{"a": "A"} {"b": "未尝试"}', "conflicting labels"),
    ],
)
def test_parse_label_refuses(reply: str, message: str) -> None:
    with pytest.raises(VerdictError, match=message):
        parse_label(reply, SIMPLEQA)


def test_parse_label_with_pattern() -> None:
    pattern = r"Grade:\s*(\S+)"
    assert parse_label("thinking... Grade: B", SIMPLEQA, pattern) == "incorrect"
    assert parse_label("Grade: A\nGrade: 正确", SIMPLEQA, pattern) == "correct"  # two matches, one label
    with pytest.raises(VerdictError, match="conflicting"):
        parse_label("Grade: A then Grade: C", SIMPLEQA, pattern)
    with pytest.raises(VerdictError, match="no label"):
        parse_label('{"预测答案0": "正确"}', SIMPLEQA, pattern)  # the pattern decides where to read


# ================================================================== spec validation
@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"type": "label", "aggregation": "mean"}, "needs labels"),
        ({"type": "label", "labels": {"yes": ["y"]}, "aggregation": "mean"}, "two or more label names"),
        ({"type": "label", "labels": {"yes": ["y"], "no": []}, "aggregation": "mean"}, "'no' has no accepted"),
        ({"type": "label", "labels": {"yes": ["y", "ok"], "no": ["OK"]}, "aggregation": "mean"}, "'OK' is listed"),
        ({"type": "label", "labels": {"yes": ["y"], "no": ["n"]}}, "needs aggregation"),
        ({"type": "binary", "labels": {"correct": ["yes"], "maybe": ["?"]}}, "use type: label"),
    ],
)
def test_label_spec_errors(block: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=rf"x\.yaml: judge.*{message}"):
        parse_specs([block], "x.yaml")


def test_label_spec_defaults() -> None:
    (spec,) = parse_specs({"type": "label", "labels": {"yes": ["y"], "no": ["n"]}, "aggregation": "simplevqa_co"})
    assert spec.metric_name == "judge_label" and spec.higher_is_better is None
    (binary,) = parse_specs({"type": "binary", "labels": {"correct": ["yes"]}})
    assert binary.aggregation is None  # binary keeps its mean


# ================================================================== per-block aggregation in results
TOY_TASK = """task: graded
include: _base_yaml
doc_id_column: qid
doc_to_text: 'Say {{word}}'
judge:
  - &grade
    type: label
    metric: grade_f1
    aggregation: simplevqa_f1
    template: grade.jinja
    labels: {correct: ["正确", "A"], incorrect: ["错误", "B"], not_attempted: ["未尝试", "C"]}
  - {<<: *grade, metric: grade_co, aggregation: simplevqa_co}
  - {<<: *grade, metric: grade_in, aggregation: simplevqa_in}
  - {<<: *grade, metric: grade_na, aggregation: simplevqa_na, higher_is_better: true}
  - {type: binary, metric: judge_sum, aggregation: sum, cascade: [exact_match]}
"""


def test_per_block_aggregation_in_results(
    fault_server: FaultServer,  # noqa: F811
    toy_tasks: Path,
    tmp_path: Path,
) -> None:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    (toy_tasks / "graded.yaml").write_text(TOY_TASK)
    (toy_tasks / "grade.jinja").write_text(
        "Q: {{ question }}\nGold: {{ reference }}\nAnswer: {{ prediction }}\nGrade A/B/C."
    )
    # 12 documents, one judge call each (the four label blocks share the prompt: judge cache):
    # 6 correct (two spellings), 3 incorrect, 3 not attempted, in whatever order the calls come
    replies = ['{"预测答案0": "正确"}'] * 4 + ["A"] * 2 + ["错误"] * 3 + ['{"预测答案0": "未尝试"}'] * 3
    fault_server.push(*(Fault.reply(text) for text in replies))
    cfg = RunConfig(
        model="scripted",
        tasks=["graded"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
        judge=f"model=fake-judge,base_url={fault_server.base_url},api_key_env=NO_KEY_NEEDED",
    )
    outcome = Evaluator(cfg, model=ScriptedModel()).run()
    assert outcome.exit_code == 0, outcome.message
    res = outcome.results["results"]["graded"]
    # CO 6/12 = 1/2, IN 3/12 = 1/4, NA 3/12 = 1/4, CGA (1/2)/(1/2+1/4) = 2/3,
    # F1 2*(2/3)*(1/2)/(2/3+1/2) = (2/3)/(7/6) = 4/7
    assert res["grade_co,none"] == pytest.approx(1 / 2)
    assert res["grade_in,none"] == pytest.approx(1 / 4)
    assert res["grade_na,none"] == pytest.approx(1 / 4)
    assert res["grade_f1,none"] == pytest.approx(4 / 7)
    # the binary block (run after the label blocks used up the script): the exact_match cascade
    # decides the 8 of 12 the scripted model gets right, the judge's default "Verdict: correct" the
    # other 4 -> summed, not averaged: 8 + 4 = 12
    assert res["judge_sum,none"] == pytest.approx(12.0)
    higher = outcome.results["higher_is_better"]["graded"]
    assert higher["grade_co"] is True and higher["grade_f1"] is True
    assert higher["grade_in"] is False  # from the simplevqa_in metric
    assert higher["grade_na"] is True  # the block's own higher_is_better wins
    assert higher["judge_sum"] is True
    assert outcome.results["judge"]["summary"]["graded"]["blocks"]["grade_f1"]["calls"] == 12
