"""MATH-Vision on a hub-shaped fixture: loading, the official prompt and rule, the breakdowns by
subject and level, both scored splits, the reasoning variant."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scripted_model import ScriptedModel

from hub import mathvision
from lmms_eval.api.request import Request, Response
from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.tasks.mathvision import utils

INSTRUCTION = (
    '\nPlease solve the problem and put your answer in one "\\boxed{}". '
    'If it is a multiple choice question, only one letter is allowed in the "\\boxed{}".'
)


class TableModel(ScriptedModel):
    """Answers each document from ``mathvision.ANSWERS`` keyed by id; keeps the prompts."""

    prompts: dict[str, str] = {}

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        for r in requests:
            TableModel.prompts[str(r.doc_id)] = r.prompt_text()
        return [Response(text=mathvision.ANSWERS[str(r.doc_id)]) for r in requests]


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mirror")
    mathvision.build(root)
    return root


def run(tmp_path: Path, tasks: list[str], **kwargs: object) -> dict:
    cfg = RunConfig(model="scripted", tasks=tasks, output_path=str(tmp_path / "out"), show_progress=False, **kwargs)
    outcome = Evaluator(cfg, model=TableModel()).run()
    assert outcome.exit_code == 0
    return outcome.results["results"]


def test_prompt_formats_options_as_the_official_code() -> None:
    doc = {"question": "Q?\n<image1>", "options": ["3", "4", "5", "6", "7"]}
    kwargs = {"pre_prompt": "", "post_prompt": "\nEND"}
    assert utils.doc_to_text(doc, kwargs) == "Q?\n<image1>\n(A) 3\n(B) 4\n(C) 5\n(D) 6\n(E) 7\nEND"
    # options that are only the letters are drawn in the image: no option lines
    assert utils.doc_to_text({"question": "Q?", "options": list("ABCDE")}, kwargs) == "Q?\nEND"
    assert utils.doc_to_text({"question": "Q?", "options": []}, kwargs) == "Q?\nEND"


def test_testmini_scores_by_hand(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(mirror))
    res = run(tmp_path, ["mathvision_testmini"])["mathvision_testmini"]
    # 1 boxed C = C: right; 2 boxed 4 = text of option B: right; 3 3/4 = 0.75: right; 4 "12cm" != 12;
    # 5 raw <think>/<answer> text is no number: wrong; 6 "a" is neither D nor its text "D": wrong -> 3/6
    assert res["mathvision_acc,none"] == pytest.approx(3 / 6)
    # parsed: 1, 2, 3, 6 (boxed); 4 and 5 have no marker and are no number -> 4/6
    assert res["mathvision_parse_rate,none"] == pytest.approx(4 / 6)
    # subject: length {1 right, 4 wrong} 1/2; counting {2} 1; arithmetic {3 right, 5 wrong} 1/2; solid {6} 0
    assert res["mathvision_acc,none,subject=metric geometry - length"] == pytest.approx(0.5)
    assert res["mathvision_acc,none,subject=counting"] == pytest.approx(1.0)
    assert res["mathvision_acc,none,subject=solid geometry"] == pytest.approx(0.0)
    assert res["mathvision_acc_macro_subject,none"] == pytest.approx((0.5 + 1 + 0.5 + 0) / 4)
    # level 1 {1, 6} 1/2; level 2 {2, 3} 1; level 3 {4, 5} 0
    assert res["mathvision_acc,none,level=1"] == pytest.approx(0.5)
    assert res["mathvision_acc,none,level=2"] == pytest.approx(1.0)
    assert res["mathvision_acc,none,level=3"] == pytest.approx(0.0)
    assert TableModel.prompts["2"] == "How many triangles?\n<image1>\n(A) 3\n(B) 4\n(C) 5\n(D) 6\n(E) 7" + INSTRUCTION
    assert TableModel.prompts["6"] == "Which picture shows the cube?\n<image1>" + INSTRUCTION


def test_reasoning_variant_and_test_split(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(mirror))
    results = run(tmp_path, ["mathvision_testmini", "mathvision_test"], prompt_variant="reasoning")
    # id 5 "<think>..</think><answer>5</answer>" -> "5": right and parsed (a number); others unchanged
    assert results["mathvision_testmini"]["mathvision_acc,none"] == pytest.approx(4 / 6)
    assert results["mathvision_testmini"]["mathvision_parse_rate,none"] == pytest.approx(5 / 6)
    assert TableModel.prompts["5"].startswith("What is the sum?\n<image1>\nPlease reason step by step.")
    # test split is scored too (answers public): 11 boxed 60 right; 12 "e" vs answer A wrong
    assert results["mathvision_test"]["mathvision_acc,none"] == pytest.approx(1 / 2)
