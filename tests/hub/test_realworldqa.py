"""RealWorldQA on hub-shaped fixtures (lmms-lab and xAI copies): the stored prompt, lmms-eval's
rule (default), the shared extractor for letter rows (lenient), the parse rate and the reasoning
variant (the stored letter instruction replaced)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, realworldqa
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING


class TableModel(common.TableModel):
    answers = realworldqa.ANSWERS


mirror = fixture_mirror(realworldqa.build)


def test_realworldqa_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["realworldqa", "realworldqa_xai"], TableModel())
    res = results["results"]["realworldqa"]
    # rule: 0 "C" right; 1 "Not sure" -> option "No" inside "Not" -> B right; 2 "Three" -> 3 right;
    # 3 "two" != "2"; 4 whole sentence; 5 raw <think> text; 6 B vs A -> 3 of 7
    assert res["realworldqa_acc,none"] == pytest.approx(3 / 7)
    # lenient: 0, 2 (short answer: the rule), 4 (answer statement), 5 (the option text "right
    # lane" named once) -> 4 of 7; 1 names no option
    assert res["realworldqa_acc_lenient,none"] == pytest.approx(4 / 7)
    # parsed: letters for 0, 1, 6; non-empty short answers 2, 3 -> 5 of 7
    assert res["realworldqa_parse_rate,none"] == pytest.approx(5 / 7)
    assert results["results"]["realworldqa_xai"]["realworldqa_acc,none"] == pytest.approx(3 / 7)
    assert TableModel.prompts["realworldqa:0"] == realworldqa.ROWS[0][0]  # the cell as stored
    assert records(run_dir, "realworldqa")["2"]["target"] == "3"


def test_realworldqa_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    res = run_evaluator(tmp_path, ["realworldqa"], TableModel(), prompt_variant="reasoning")[0]["results"]
    res = res["realworldqa"]
    # row 5 -> "B" after the reduction: rule 3 + 1 = 4; lenient stays 4; parsed 5 + 1 = 6
    assert res["realworldqa_acc,none"] == pytest.approx(4 / 7)
    assert res["realworldqa_acc_lenient,none"] == pytest.approx(4 / 7)
    assert res["realworldqa_parse_rate,none"] == pytest.approx(6 / 7)
    prompt = TableModel.prompts["0"]
    assert prompt == "Which direction is the car facing?\nA. Left\nB. Straight\nC. Right" + REASONING
    # a short-answer row keeps its own instruction
    assert TableModel.prompts["2"].endswith(realworldqa.SHORT + REASONING)
    assert TableModel.requests["0"].params.max_new_tokens == 4096
