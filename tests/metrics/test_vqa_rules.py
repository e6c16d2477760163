"""The two VQA accuracy rules: their normalisers step by step, and both metrics run through a task.

Expected values are by hand from the official scripts (GT-Vision-Lab/VQA ``vqaEval.py`` and MMF
``m4c_evaluators.py``); the per-sample tables are in ``cases/vqa_accuracy.yaml`` and
``cases/textvqa_accuracy.yaml``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write
from scripted_model import ScriptedModel

from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.metrics.normalize import (
    normalize_textvqa,
    normalize_vqa,
    vqa_process_digit_article,
    vqa_process_punctuation,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3-4", "3 4"),  # a mark touching no space becomes a space
        ("(yes)", " yes "),  # and stays a space: the punctuation step does not strip
        ("yes, no", "yes no"),  # ", " touches a space: every "," is deleted
        ("a, b,c", "a bc"),  # decided once per mark for the whole text: "b,c" is joined too
        ("1,000 apples!", "1000 apples"),  # a digit,digit comma: every mark is deleted
        ("5+3", "5 3"),
        ("yes.", "yes"),
        ("3.5", "3.5"),  # a period before a digit stays
        ("e.g.", "eg"),
        ("y" + "." * 33, "y."),  # only 32 periods go (re.UNICODE passed as the count)
        ("that's", "that's"),  # "'" and ":" are not marks
        ("a:b", "a:b"),
    ],
)
def test_vqa_process_punctuation(text: str, expected: str) -> None:
    assert vqa_process_punctuation(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Two dogs", "2 dogs"),
        ("none", "0"),
        ("ten", "10"),
        ("eleven", "eleven"),  # only zero..ten and none
        ("dont", "don't"),
        ("Im", "im"),  # the table's capitalised keys never apply after lower-casing
        ("somebody'd", "somebodyd"),  # the table's own oddity
        ("the  dog", "dog"),
        ("An apple", "apple"),
        ("", ""),
    ],
)
def test_vqa_process_digit_article(text: str, expected: str) -> None:
    assert vqa_process_digit_article(text) == expected


@pytest.mark.parametrize(
    ("text", "vqa", "textvqa"),
    [
        ("  Yes.\n", "yes", "yes"),
        ("red,white", "red white", "redwhite"),  # vqaEval spaces the comma, MMF deletes it first
        ("Why?Not", "why not", "whynot"),
        ("that's", "that's", "that 's"),  # MMF splits "'s" off before anything else
        ("thats", "that's", "that's"),
        ("McDonald's", "mcdonald's", "mcdonald 's"),
        ("1,000", "1000", "1000"),
        ("Two\tdogs", "2 dogs", "2 dogs"),
        ("(the) end", "end", "end"),  # "(" touches a space: both parentheses deleted
    ],
)
def test_whole_processors(text: str, vqa: str, textvqa: str) -> None:
    assert normalize_vqa(text) == vqa
    assert normalize_textvqa(text) == textvqa


# ---- both metrics through a task --------------------------------------------------------------

# (the model's reply, the ten human answers); the scripted model answers the prompt's last word.
DOCS = [
    ("Yes", ["yes"] * 10),
    ("two", ["2"] * 3 + ["3"] * 7),
    ("thats", ["that's"] * 3 + ["no"] * 7),
    ("red,white", ["red white"] * 3 + ["blue"] * 7),
]
# per doc:                  vqa_accuracy (2021)   textvqa_accuracy      vqa_accuracy version 2016
#  "Yes" vs 10 x "yes"      0 (unanimous: raw)    1                     1 (prediction processed)
#  "two" vs 3 x "2"         0.9                   0.9                   0.9
#  "thats" vs 3 x "that's"  0.9                   0 ("that 's")         0.9
#  "red,white" vs 3 x ...   0.9 ("red white")     0 ("redwhite")        0.9


def _tasks(root: Path) -> Path:
    strings = [{"qid": f"q{i}", "reply": reply, "answers": answers} for i, (reply, answers) in enumerate(DOCS)]
    # VQAv2's layout: answer dicts with answer_confidence and a distinct answer_id each.
    dicts = [
        {
            "qid": f"q{i}",
            "reply": reply,
            "answers": [{"answer": a, "answer_confidence": "yes", "answer_id": j + 1} for j, a in enumerate(answers)],
        }
        for i, (reply, answers) in enumerate(DOCS)
    ]
    for name, rows in (("strings", strings), ("dicts", dicts)):
        path = root / "data" / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    base = """
        dataset_path: json
        test_split: train
        doc_id_column: qid
        doc_to_text: "Answer: {{reply}}"
        doc_to_target: answers
        """
    write(
        root / "vqa_rules_strings.yaml",
        base
        + """
        task: vqa_rules_strings
        dataset_kwargs: {data_files: data/strings.jsonl}
        metric_list:
          - metric: vqa_accuracy
          - metric: textvqa_accuracy
        """,
    )
    write(
        root / "vqa_rules_dicts.yaml",
        base
        + """
        task: vqa_rules_dicts
        dataset_kwargs: {data_files: data/dicts.jsonl}
        metric_list:
          - metric: vqa_accuracy
            version: "2016"
        """,
    )
    return root


def test_both_rules_through_a_task(tmp_path: Path) -> None:
    config = RunConfig(
        model="scripted",
        tasks=["vqa_rules_strings", "vqa_rules_dicts"],
        include_path=[str(_tasks(tmp_path / "tasks"))],
        output_path=str(tmp_path / "out"),
        show_progress=False,
    )
    outcome = Evaluator(config, model=ScriptedModel()).run()
    assert outcome.exit_code == 0, outcome.message
    res = outcome.results["results"]
    assert res["vqa_rules_strings"]["vqa_accuracy,none"] == pytest.approx((0 + 0.9 + 0.9 + 0.9) / 4)
    assert res["vqa_rules_strings"]["textvqa_accuracy,none"] == pytest.approx((1 + 0.9 + 0 + 0) / 4)
    assert res["vqa_rules_dicts"]["vqa_accuracy,none"] == pytest.approx((1 + 0.9 + 0.9 + 0.9) / 4)
    lines = (Path(outcome.run_dir) / "samples_vqa_rules_strings.jsonl").read_text().splitlines()
    first = next(r for r in map(json.loads, lines) if r["doc_id"] == "q0")
    assert first["raw_output"] == "Yes" and first["target"] == ["yes"] * 10
    assert first["scores"] == {"vqa_accuracy,none": 0.0, "textvqa_accuracy,none": 1.0}
