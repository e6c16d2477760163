"""Table-driven metric tests: every file in ``cases/`` checks one registered metric.

A case file holds ``metric``, optional ``defaults`` (merged into each row), ``cases`` (one
prediction/reference each, with ``expected`` per-sample value or ``raises``) and ``corpus``
(groups of samples whose aggregated value is ``expected``). Expected numbers are written by
hand; a string ``"=<arithmetic>"`` is evaluated so the hand computation stays visible.
"""

from __future__ import annotations

import ast
import operator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lmms_eval.api import errors
from lmms_eval.api.registry import METRICS

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))

_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _arith(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _arith(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.operand))
    raise ValueError(f"not plain arithmetic: {ast.dump(node)}")


def expected_value(raw: Any) -> Any:
    """A case's expected value: numbers approximate, "=expr" evaluated, dicts per key."""
    if isinstance(raw, str) and raw.startswith("="):
        return pytest.approx(_arith(ast.parse(raw[1:], mode="eval")), rel=1e-9, abs=1e-9)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)):
        return pytest.approx(float(raw), rel=1e-9, abs=1e-9)
    if isinstance(raw, dict):
        return {k: expected_value(v) for k, v in raw.items()}
    return raw


def load(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert data["metric"] == path.stem, f"{path.name} must test the metric named like the file"
    return data


def _rows(kind: str) -> list[Any]:
    params = []
    for path in CASE_FILES:
        data = load(path)
        defaults = data.get("defaults", {})
        for i, row in enumerate(data.get(kind) or []):
            params.append(pytest.param(data["metric"], {**defaults, **row}, id=f"{path.stem}-{i}"))
    return params


def compute(metric_name: str, row: dict[str, Any]) -> Any:
    metric = METRICS.get(metric_name)
    return metric.compute(
        row.get("prediction", ""),
        row.get("reference"),
        doc=row.get("doc"),
        choices=row.get("choices"),
        **row.get("kwargs", {}),
    )


@pytest.mark.parametrize(("metric_name", "row"), _rows("cases"))
def test_case(metric_name: str, row: dict[str, Any]) -> None:
    if "raises" in row:
        with pytest.raises(getattr(errors, row["raises"])):
            compute(metric_name, row)
        return
    assert compute(metric_name, row) == expected_value(row["expected"]), row.get("note", "")


@pytest.mark.parametrize(("metric_name", "group"), _rows("corpus"))
def test_corpus(metric_name: str, group: dict[str, Any]) -> None:
    defaults = {k: v for k, v in group.items() if k not in ("samples", "expected", "name")}
    values = [compute(metric_name, {**defaults, **sample}) for sample in group["samples"]]
    metric = METRICS.get(metric_name)
    assert metric.aggregate(values) == expected_value(group["expected"]), group["name"]


def test_every_builtin_metric_has_a_case_file() -> None:
    builtin = {
        name
        for name, value in METRICS.items()
        if getattr(value, "compute", None) is not None
        and getattr(value.compute, "__module__", "").startswith("lmms_eval.metrics")
    }
    have = {path.stem for path in CASE_FILES}
    assert builtin - have == set()


def test_metric_contract() -> None:
    """Every built-in metric documents its rule in one line and declares its direction."""
    for name in (path.stem for path in CASE_FILES):
        metric = METRICS.get(name)
        assert metric.description and not metric.description.endswith(":"), name
        assert isinstance(metric.higher_is_better, bool)
        assert callable(metric.aggregate)
