"""MMAU test-mini on a hub-shaped fixture: loading, prompt, the official string_match, the group."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from scripted_model import ScriptedModel

from hub import mmau
from hub.common import needs_flite
from lmms_eval.api.errors import SampleError
from lmms_eval.api.request import Request, Response
from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.tasks.mmau import utils


class TableModel(ScriptedModel):
    """Answers each document from a table keyed by doc id."""

    table: dict[str, str] = {}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [Response(text=self.table[str(r.doc_id)]) for r in requests]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mirror")
    mmau.build(root)
    return root


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
def test_mmau_test_mini_scores_by_hand(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(mirror))
    TableModel.table = dict(mmau.ANSWERS)
    cfg = RunConfig(model="scripted", tasks=["mmau_test_mini"], output_path=str(tmp_path / "out"), show_progress=False)
    outcome = Evaluator(cfg, model=TableModel()).run()
    assert outcome.exit_code == 0
    res = outcome.results["results"]
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
    assert outcome.results["n-samples"]["mmau_test_mini_sound"]["effective"] == 3

    lines = (Path(outcome.run_dir) / "samples_mmau_test_mini_speech.jsonl").read_text().splitlines()
    record = next(r for r in map(json.loads, lines) if r["doc_id"] == "p2")
    prompt_text = "".join(p.get("text", "") for m in record["prompt"] for p in m["content"])
    assert "How many speakers are there?\nA. One speaker\nB. Two speakers\nC. Three speakers\n" in prompt_text
    assert prompt_text.endswith("Answer with the option's letter from the given choices directly.")
    assert record["target"] == "Two speakers"
    assert record["scores"] == {"accuracy,none": 1.0, "string_match_raw,none": 0.0, "parse_rate,none": 1.0}
