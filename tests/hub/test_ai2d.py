"""AI2D on a hub-shaped fixture: lmms-eval's prompt and rule (default), the shared extractor
(lenient), the parse rate, the reasoning variant and the likelihood task."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from hub import ai2d, common
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.model import choice_response
from lmms_eval.api.request import Request, Response
from lmms_eval.tasks.ai2d import utils
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING

INSTRUCTION = "\nAnswer with the option's letter from the given choices directly."


class TableModel(common.TableModel):
    """Replies from ``ai2d.ANSWERS``; scores options so that ``ai2d.CHOICE`` wins."""

    answers = ai2d.ANSWERS
    scores_choices: ClassVar[bool] = True
    recorders = (*common.TableModel.recorders, "options")
    options: ClassVar[dict[str, list[str]]]

    def keep(self, r: Request) -> None:
        super().keep(r)
        self.record("options", r, list(r.choices or []))

    def score_choices(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for r in requests:
            self.keep(r)
            best = ai2d.CHOICE[str(r.doc_id)]
            logprobs = [-1.0 if i == best else -4.0 for i in range(len(r.choices or []))]
            out.append(choice_response(logprobs, [2] * len(logprobs)))
        return out


mirror = fixture_mirror(ai2d.build)


def test_prompt_is_lmms_evals() -> None:
    doc = {"question": "Q?", "options": ["x", "y"], "answer": "1"}
    kwargs = {"pre_prompt": "", "post_prompt": INSTRUCTION}
    assert utils.doc_to_text(doc, kwargs) == "Q?\nA. x\nB. y" + INSTRUCTION
    assert utils.doc_to_target(doc) == "B"
    assert utils.doc_to_question(doc, {"pre_prompt": "", "post_prompt": ""}) == "Q?"


def test_ai2d_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["ai2d"], TableModel())
    res = results["results"]["ai2d"]
    # default (lmms-eval): 0 "B" right; 1 "C. earth" -> C right; 2 "the answer is d" != "d";
    # 3 B vs A; 4 unparsed; 5 raw <think> text; 6 "answerbanswer" -> 2 of 7
    assert res["ai2d_acc,none"] == pytest.approx(2 / 7)
    # lenient: 0, 1, 2 (answer statement), 6 (<answer> tag); 5 names A and B -> none -> 4 of 7
    assert res["ai2d_acc_lenient,none"] == pytest.approx(4 / 7)
    # the rule leaves a single option letter for 0, 1, 3 -> 3 of 7
    assert res["ai2d_parse_rate,none"] == pytest.approx(3 / 7)
    assert TableModel.prompts["1"] == "Which body gives light to the others?\nA. sun\nB. moon\nC. earth" + INSTRUCTION
    record = records(run_dir, "ai2d")["6"]
    assert record["target"] == "B" and record["scores"]["ai2d_acc,none"] == 0.0


def test_ai2d_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["ai2d"], TableModel(), prompt_variant="reasoning")[0]["results"]["ai2d"]
    # the reduction leaves "B" for rows 5 (think removed) and 6 (<answer> content):
    # default 2 + 2 = 4 of 7; lenient 4 + 1 (row 5) = 5 of 7; parsed 3 + 2 = 5 of 7
    assert res["ai2d_acc,none"] == pytest.approx(4 / 7)
    assert res["ai2d_acc_lenient,none"] == pytest.approx(5 / 7)
    assert res["ai2d_parse_rate,none"] == pytest.approx(5 / 7)
    request = TableModel.requests["3"]
    assert request.prompt_text().endswith("B. carnivore" + REASONING)
    assert request.params.max_new_tokens == 4096


def test_ai2d_likelihood(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["ai2d_likelihood"], TableModel())
    res = results["results"]["ai2d_likelihood"]
    # chosen index -> letter vs gold: 0 B=B, 1 A!=C, 2 D=D, 3 A=A, 4 A=A, 5 C!=B, 6 B=B -> 5 of 7
    assert res["ai2d_choice_acc,none"] == pytest.approx(5 / 7)
    assert TableModel.prompts["2"] == "Which stage comes after the pupa?"
    assert TableModel.options["2"] == ["larva", "pupa", "adult", "egg"]
    assert records(run_dir, "ai2d_likelihood")["1"]["raw_output"] == "A"
