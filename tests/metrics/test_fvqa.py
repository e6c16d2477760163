"""FVQA's exact-match rule against the official behaviour (MMSearch-R1 @ 583c6b4
``mmsearch_r1_score.py`` ``em_check``/``extract_solution`` and the reward manager's references),
and the task's reference list built from ``reward_model``."""

from __future__ import annotations

import pytest

from lmms_eval.api.errors import SampleError
from lmms_eval.api.registry import METRICS
from lmms_eval.metrics.fvqa import fvqa_answer, fvqa_em
from lmms_eval.tasks.fvqa.utils import doc_to_target, doc_to_text, question


def test_answer_is_the_last_tag_or_the_whole_reply() -> None:
    assert fvqa_answer("<reason>x</reason><answer> Titanic </answer>") == "Titanic"
    assert fvqa_answer("<answer>a</answer><answer>b</answer>") == "b"
    assert fvqa_answer("  plain  ") == "plain"
    assert fvqa_answer(None) == ""


def test_squad_normalisation_as_the_official_em_check() -> None:
    # lower -> drop punctuation -> drop a/an/the -> collapse spaces: "The  U.S.A." -> "usa"
    assert fvqa_em("<answer>The  U.S.A.</answer>", ["usa"]) == 1.0
    assert fvqa_em("<answer>an apple a day</answer>", ["apple day"]) == 1.0
    # no partial credit (SubEM is a training option, not the default EM)
    assert fvqa_em("<answer>Gautama Buddha statue</answer>", ["Gautama Buddha"]) == 0.0


def test_references_are_ground_truth_then_candidates_strings_only() -> None:
    reward = {"ground_truth": "Spain", "candidate_answers": '["ES", 3, "Kingdom of Spain"]'}
    doc = {"data_id": "x", "reward_model": reward}
    assert doc_to_target(doc) == ["Spain", "ES", "Kingdom of Spain"]  # the number is dropped, as officially
    assert doc_to_target({"data_id": "y", "reward_model": {"ground_truth": "Rome", "candidate_answers": "[]"}}) == [
        "Rome"
    ]
    with pytest.raises(SampleError, match="not a JSON list"):
        doc_to_target({"data_id": "z", "reward_model": {"ground_truth": "a", "candidate_answers": "[oops"}})


def test_prompt_is_the_user_question() -> None:
    doc = {"data_id": "q", "prompt": [{"role": "user", "content": " What is this? "}]}
    assert question(doc) == "What is this?"
    assert doc_to_text(doc, {"pre_prompt": "", "post_prompt": "\nP"}) == "What is this?\nP"
    with pytest.raises(SampleError, match="no user turn"):
        question({"data_id": "q", "prompt": []})


def test_registered_directions() -> None:
    assert METRICS.get("fvqa_em").higher_is_better and METRICS.get("fvqa_parse_rate").higher_is_better
