"""MMAU test-mini on a hub-shaped fixture: loading, prompt, the official string_match, the group."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, mmau
from hub.common import fixture_mirror, needs_flite, records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.tasks.mmau import utils


class TableModel(common.TableModel):
    """Answers each document from ``mmau.ANSWERS`` keyed by doc id."""

    answers = mmau.ANSWERS


mirror = fixture_mirror(mmau.build)


# (answer, prediction, choices, expected) checked against evaluation.py's rule by hand
STRING_MATCH_TABLE = [
    ("Man", "Man", ["Man", "Woman", "Child", "Robot"], True),
    ("Man", "A", ["Man", "Woman", "Child", "Robot"], False),  # answer token "man" missing
    ("Man", "The man, not the woman", ["Man", "Woman"], False),  # "woman" is a wrong option's token
    ("Car horn", "it is a CAR HORN!", ["Dog barking", "Car horn"], True),  # case and punctuation ignored
    ("Two speakers", "two speakers", ["One speaker", "Two speakers"], True),
    # the shared token "speakers" is not a wrong token: only "three" is
    ("Two speakers", "two speakers", ["Two speakers", "Three speakers"], True),
    ("Slow", "", ["Fast", "Slow"], False),  # empty prediction
    ("Slow", "slow and steady", ["Fast", "Slow"], True),  # extra words are fine
]


@pytest.mark.parametrize(("answer", "prediction", "choices", "expected"), STRING_MATCH_TABLE)
def test_string_match_table(answer: str, prediction: str, choices: list[str], expected: bool) -> None:
    assert utils.string_match(answer, prediction, choices) is expected


def test_bad_choices_cell_is_one_sample_error() -> None:
    with pytest.raises(SampleError, match="'x1'.*not JSON.*JSON list of option strings"):
        utils.parse_choices({"id": "x1", "choices": "['a', 'b']"})
    with pytest.raises(SampleError, match="not a non-empty list"):
        utils.parse_choices({"id": "x2", "choices": "[]"})
    assert utils.parse_choices({"choices": '["a", "b"]'}) == ["a", "b"]


def test_prompt_lists_lettered_options() -> None:
    doc = {"question": "Fast or slow?", "choices": '["Fast", "Slow"]'}
    text = utils.doc_to_text(doc, {"pre_prompt": "", "post_prompt": "\nAnswer with the option's letter."})
    assert text == "Fast or slow?\nA. Fast\nB. Slow\nAnswer with the option's letter."


@needs_flite
def test_mmau_test_mini_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mmau_test_mini"], TableModel())
    res = results["results"]
    # sound s1 s2 s3: extracted text right 3/3; raw string_match: s2, s3 -> 2/3; parsed 3/3
    assert res["mmau_test_mini_sound"]["accuracy,none"] == pytest.approx(1.0)
    assert res["mmau_test_mini_sound"]["string_match_raw,none"] == pytest.approx(2 / 3)
    assert res["mmau_test_mini_sound"]["parse_rate,none"] == pytest.approx(1.0)
    # music m1 ("B" -> Guitar, answer Violin) and m2 (unparsed): 0/2 right; parsed 1/2
    assert res["mmau_test_mini_music"]["accuracy,none"] == pytest.approx(0.0)
    assert res["mmau_test_mini_music"]["parse_rate,none"] == pytest.approx(0.5)
    # speech p1 (two options named: unparsed, wrong), p2 ("(B)" -> Two speakers): 1/2; raw 0/2
    assert res["mmau_test_mini_speech"]["accuracy,none"] == pytest.approx(0.5)
    assert res["mmau_test_mini_speech"]["string_match_raw,none"] == pytest.approx(0.0)
    # group = correct / total over all 7 items (micro, as evaluation.py's Total Accuracy):
    # accuracy (3 + 0 + 1) / 7 = 4/7 (a macro mean would be (1 + 0 + 0.5) / 3 = 0.5);
    # raw (2 + 0 + 0) / 7; parse rate (3 + 1 + 1) / 7
    group = res["mmau_test_mini"]
    assert group["accuracy,none"] == pytest.approx(4 / 7)
    assert group["string_match_raw,none"] == pytest.approx(2 / 7)
    assert group["parse_rate,none"] == pytest.approx(5 / 7)
    assert group["n_samples"] == 7
    assert results["n-samples"]["mmau_test_mini_sound"]["effective"] == 3

    record = records(run_dir, "mmau_test_mini_speech")["p2"]
    prompt_text = common.prompt_text(record)
    assert "How many speakers are there?\nA. One speaker\nB. Two speakers\nC. Three speakers\n" in prompt_text
    assert prompt_text.endswith("Answer with the option's letter from the given choices directly.")
    assert record["target"] == "Two speakers"
    assert record["scores"] == {"accuracy,none": 1.0, "string_match_raw,none": 0.0, "parse_rate,none": 1.0}
