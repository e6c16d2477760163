"""MMSearch's requery (BLEU-1 + ROUGE-L), rerank, summarization and final-score functions."""

from __future__ import annotations

import math

import pytest

from lmms_eval.metrics import mmsearch as m


def test_bleu1_is_clipped_unigram_precision_times_brevity() -> None:
    # hyp "a a b" vs ref "a b c d": clipped matches a:1 + b:1 = 2 of 3; c=3 < r=4 -> BP exp(1 - 4/3)
    assert m.bleu1("a a b", "a b c d") == pytest.approx(math.exp(1 - 4 / 3) * 2 / 3)
    assert m.bleu1("x y", "a b") == 0.0  # no unigram match: NLTK returns 0
    assert m.bleu1("A b c", "a b") == pytest.approx(1 / 3)  # case kept: only "b"; c > r -> BP 1


def test_rouge_l_counts_distinct_words() -> None:
    # one sentence each: LCS "a b" -> hits 2; distinct words ref {a,b,c} 3, hyp {a,b} 2 -> R 2/3, P 1
    assert m.rouge_l_f("a b", "a b c") == pytest.approx(2 * (2 / 3) / (1 + 2 / 3 + 1e-8))
    # "a a" vs "a a": the LCS "a a" has one distinct word; vocabularies have 1 -> F ~ 1
    assert m.rouge_l_f("a a", "a a") == pytest.approx(1.0, abs=1e-7)
    # sentences on ".": ref "a b. c d", hyp "c d. a b" -> the union of LCS words covers all 4 -> F ~ 1
    assert m.rouge_l_f("c d. a b", "a b. c d") == pytest.approx(1.0, abs=1e-7)
    assert m.rouge_l_f("", "a b") == 0.0  # the rouge package raises; scored 0 here


def test_requery_score_averages_the_two() -> None:
    got = m.requery_score("iPhone 16 release date", "iPhone 16 release date")
    assert got["bleu"] == pytest.approx(1.0) and got["score"] == pytest.approx(1.0, abs=1e-7)


def test_rerank() -> None:
    assert m.parse_rerank("<Website 2>", 1) == ([1], True)
    assert m.parse_rerank("<Website 2>,<Website 3>", 1) == ([1], False)
    assert m.parse_rerank("none", 2) == ([0, 1], False)
    assert m.rerank_score("I pick <Website 3>", valid=[2], not_sure=[0]) == 1.0
    assert m.rerank_score("<Website 1>", valid=[2], not_sure=[0]) == 0.5
    assert m.rerank_score("<Website 5>", valid=[2], not_sure=[0]) == 0.0
    assert m.rerank_score("<Website 3><Website 1>", valid=[2], not_sure=[0]) == 0.0  # not well formed


def test_summarization_and_final_score() -> None:
    assert m.summarization_score("Paris", "Rome", ["Paris, France"]) == pytest.approx(2 * 1 * 0.5 / 1.5)
    averages = {"end2end": 0.4, "requery": 0.6, "rerank": 0.5, "summarization": 0.8}
    # 0.75 * 0.4 + 0.05 * 0.6 + 0.1 * 0.5 + 0.1 * 0.8 = 0.3 + 0.03 + 0.05 + 0.08
    assert m.final_score(averages) == pytest.approx(0.46)
    with pytest.raises(ValueError, match="rerank"):
        m.final_score({"end2end": 0.4, "requery": 0.6, "summarization": 0.8})
