"""The SQuAD normaliser (the VQA ones: test_vqa_rules.py), MME helpers, math-verify off the main
thread, and a cheap package import."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from lmms_eval.api.registry import METRICS
from lmms_eval.metrics.mme import MME_COGNITION, MME_PERCEPTION, mme_category_scores, mme_total
from lmms_eval.metrics.normalize import normalize_squad


@pytest.mark.parametrize(
    ("text", "expected"),
    [("The Cat!", "cat"), ("A  b-c. d", "bc d"), ("an answer", "answer"), ("theory", "theory"), ("", "")],
)
def test_normalize_squad(text: str, expected: str) -> None:
    assert normalize_squad(text) == expected


def test_mme_category_scores_and_totals() -> None:
    values = [
        {"category": "existence", "image": "e1", "correct": 1},
        {"category": "existence", "image": "e1", "correct": 1},
        {"category": "existence", "image": "e2", "correct": 1},
        {"category": "existence", "image": "e2", "correct": 0},
        {"category": "code_reasoning", "image": "c1", "correct": 0},
        {"category": "code_reasoning", "image": "c1", "correct": 1},
    ]
    scores = mme_category_scores(values)
    assert scores["existence"] == {"acc": 75.0, "acc_plus": 50.0, "score": 125.0, "n": 4.0}
    assert scores["code_reasoning"] == {"acc": 50.0, "acc_plus": 0.0, "score": 50.0, "n": 2.0}
    assert mme_total(values, MME_PERCEPTION) == 125.0
    assert mme_total(values, MME_COGNITION) == 50.0
    assert mme_total(values) == 175.0
    assert len(MME_PERCEPTION) == 10 and len(MME_COGNITION) == 4


def test_math_verify_works_off_the_main_thread() -> None:
    metric = METRICS.get("math_verify")
    results: list[float] = []
    worker = threading.Thread(target=lambda: results.append(metric.compute("\\boxed{\\frac{1}{2}}", "0.5")))
    worker.start()
    worker.join(60)
    assert results == [1.0]


def test_importing_metrics_loads_no_heavy_library() -> None:
    code = (
        "import sys, lmms_eval.metrics, lmms_eval.filters\n"
        "heavy = ['sacrebleu', 'math_verify', 'jiwer', 'whisper_normalizer', 'rouge_score', 'sympy', 'torch']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
