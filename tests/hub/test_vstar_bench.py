"""V* Bench on a hub-shaped fixture: the prompt (instruction once), letter accuracy with the shared
extractor, per-category breakdown and tasks, the reasoning variant, the likelihood protocol,
and the 6000x4000 image reaching the model as stored."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from scripted_model import ScriptedConfig

from hub import common, vstar_bench
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.model import choice_response
from lmms_eval.api.request import Request, Response
from lmms_eval.media.image import load_image
from lmms_eval.tasks.variants import REASONING_INSTRUCTION as REASONING


class TableModel(common.TableModel):
    """Replies from ``vstar_bench.ANSWERS``; scores options so that ``vstar_bench.CHOICE`` wins.
    Keeps each request's prompt, options and decoded image sizes."""

    answers = vstar_bench.ANSWERS
    scores_choices: ClassVar[bool] = True
    recorders = (*common.TableModel.recorders, "options", "sizes")
    options: ClassVar[dict[str, list[str]]]
    sizes: ClassVar[dict[str, list[tuple[int, int]]]]

    def keep(self, r: Request) -> None:
        super().keep(r)
        self.record("options", r, list(r.choices or []))
        self.record("sizes", r, [load_image(part).size for part in r.images()])

    def score_choices(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for r in requests:
            self.keep(r)
            best = vstar_bench.CHOICE[str(r.doc_id)]
            # summed log-prob per option over 2 tokens each: the chosen one has loss 0.5, the rest 2.0
            logprobs = [-1.0 if i == best else -4.0 for i in range(len(r.choices or []))]
            out.append(choice_response(logprobs, [2] * len(logprobs)))
        return out


mirror = fixture_mirror(vstar_bench.build)


def test_generative_scores_breakdown_and_prompt(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["vstar_bench"], TableModel())
    res = results["results"]["vstar_bench"]
    # per question_id: 0 "...the answer is C." C right; 1 "Answer: B" right; 2 "A" right; 3 unparsed;
    # 4 <answer>B</answer> right; 5 raw text: the tag says "left" (no option), the only bracketed
    # letter is "(A)" -> A right; 6 "D" vs A wrong -> right 0, 1, 2, 4, 5 = 5/7; parsed all but 3 = 6/7
    assert res["vstar_acc,none"] == pytest.approx(5 / 7)
    assert res["vstar_parse_rate,none"] == pytest.approx(6 / 7)
    # direct_attributes = 0, 1, 2, 3, 6 -> 3/5; relative_position = 4, 5 -> 2/2
    assert res["vstar_acc,none,category=direct_attributes"] == pytest.approx(3 / 5)
    assert res["vstar_acc,none,category=relative_position"] == pytest.approx(1.0)
    assert results["n-samples"]["vstar_bench"]["effective"] == 7

    # the prompt is the stored text cell, the instruction once (lmms-eval 0.7 had it twice)
    cell = vstar_bench.text_cell("What is the color of the cup?", ["red", "blue", "green", "white"])
    assert TableModel.prompts["0"] == cell
    assert TableModel.prompts["0"].count(vstar_bench.INSTRUCTION) == 1
    record = records(run_dir, "vstar_bench")["0"]
    assert record["target"] == "C"
    assert record["scores"] == {"vstar_acc,none": 1.0, "vstar_parse_rate,none": 1.0}


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, ["vstar_bench"], TableModel(), prompt_variant="reasoning")
    res = results["results"]["vstar_bench"]
    # the outputs are reduced to the <answer> content: 4 -> "B" right; 5 -> "left", no option: unparsed,
    # wrong; the rest as before -> right 0, 1, 2, 4 = 4/7; parsed all but 3 and 5 = 5/7
    assert res["vstar_acc,none"] == pytest.approx(4 / 7)
    assert res["vstar_parse_rate,none"] == pytest.approx(5 / 7)
    assert res["vstar_acc,none,category=relative_position"] == pytest.approx(1 / 2)
    # the instruction is replaced, not appended to
    assert (
        TableModel.prompts["0"] == "What is the color of the cup?\n(A) red\n(B) blue\n(C) green\n(D) white" + REASONING
    )


def test_per_category_tasks_and_full_resolution_image(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(
        tmp_path,
        ["vstar_bench_direct_attributes", "vstar_bench_relative_position"],
        TableModel(ScriptedConfig(decode=True)),
    )
    res = results["results"]
    assert res["vstar_bench_direct_attributes"]["vstar_acc,none"] == pytest.approx(3 / 5)  # 0, 1, 2 of 0, 1, 2, 3, 6
    assert res["vstar_bench_relative_position"]["vstar_acc,none"] == pytest.approx(2 / 2)  # 4, 5
    assert results["n-samples"]["vstar_bench_direct_attributes"]["effective"] == 5
    assert TableModel.sizes[vstar_bench.BIG_ID] == [vstar_bench.BIG_SIZE]  # not resized by the task
    assert TableModel.sizes["0"] == [(64, 64)]


def test_likelihood_protocol(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["vstar_bench_likelihood"], TableModel())
    res = results["results"]["vstar_bench_likelihood"]
    # chosen option index -> letter vs label: 0: 2=C vs C right; 1: 0=A vs B wrong; 2: A vs A right;
    # 3: 3=D vs D right; 4: 1=B vs B right; 5: B vs A wrong; 6: A vs A right -> 5/7
    assert res["vstar_choice_acc,none"] == pytest.approx(5 / 7)
    # direct_attributes 0, 2, 3, 6 of 0, 1, 2, 3, 6 -> 4/5; relative_position 4 of 4, 5 -> 1/2
    assert res["vstar_choice_acc,none,category=direct_attributes"] == pytest.approx(4 / 5)
    assert res["vstar_choice_acc,none,category=relative_position"] == pytest.approx(1 / 2)
    # the official prompt: the bare question; the options are scored as the reply
    assert TableModel.prompts["1"] == "What is the material of the glove?"
    assert TableModel.options["1"] == ["rubber", "cotton", "kevlar", "leather"]
    record = records(run_dir, "vstar_bench_likelihood")["1"]
    assert record["raw_output"] == "A" and record["scores"] == {"vstar_choice_acc,none": 0.0}
