"""InfoSeek's official numerical parsing and range rule, the split routing and the final score."""

from __future__ import annotations

import math

import pytest

from lmms_eval.metrics import infoseek as m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9-10", [9.0, 10.0]),  # the dash after a digit is a range dash
        ("-5 degrees", -5.0),  # a leading minus is a sign
        ("1,234,567 people", 1234567.0),
        ("1.5e3 m", 1500.0),
        (".5", 5.0),  # officially stripped of its leading point
        ("version 1.2.3", [1.2, 3.0]),  # the pattern reads "1.2" then ".3" (stripped: 3)
        ("between 20 and 10", 20.0),  # first > second: the first number
        ("3, 4 and 5", [3.0, 4.0]),  # the first two numbers only
        ("no idea", [0.0, 0.0]),
    ],
)
def test_parse_numerical_prediction(text: str, expected: float | list[float]) -> None:
    assert m.parse_numerical_prediction(text) == expected


def test_range_rule() -> None:
    assert m.numerical_match(100.0, [90.0, 110.0]) and not m.numerical_match(111.0, [90.0, 110.0])
    assert m.numerical_match([95.0, 105.0], [90.0, 110.0])  # inside
    # [100, 300] vs [90, 110]: overlap 10, union 210 -> 0.048: wrong
    assert not m.numerical_match([100.0, 300.0], [90.0, 110.0])
    # [80, 100] vs [90, 110]: overlap 10, union 30 -> 0.33: wrong; [85, 110]: 20 / 25 = 0.8: right
    assert not m.numerical_match([80.0, 100.0], [90.0, 110.0])
    assert m.numerical_match([85.0, 110.0], [90.0, 110.0])
    # exactly IoU 0.5: [90, 130] vs [90, 110]: 20 / 40
    assert m.numerical_match([90.0, 130.0], [90.0, 110.0])


def test_split_routing_and_harmonic_mean() -> None:
    assert m.split_of("val_unseen_question") == "unseen_question"
    assert m.split_of("val_unseen_entity") == "unseen_entity"
    assert m.split_of("anything") == "unseen_entity"  # the official else branch
    values = [{"split": "unseen_question", "correct": c} for c in (1, 1, 1, 0)] + [
        {"split": "unseen_entity", "correct": c} for c in (1, 0, 0)
    ]
    # 75.00 and 33.33 (rounded first, as officially) -> 2 / (1/75 + 1/33.33) = 46.15
    assert m.harmonic_mean_score(values) == pytest.approx(round(2 / (1 / 75 + 1 / 33.33), 2))
    assert math.isnan(m.harmonic_mean_score(values[:4]))  # one split only


def test_time_has_no_one_year_relaxation() -> None:
    assert not m.infoseek_correct("1999", ["2000"], "time")
    assert m.infoseek_correct("the 2000", ["2000"], "time")
