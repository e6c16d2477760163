"""Prompt variants (``--prompt_variant``), ``breakdown:`` sub-metrics and ``submission:`` files,
end to end through the Evaluator with a scripted model on a local JSON task."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import write
from scripted_model import ScriptedModel

from lmms_eval.api.errors import ConfigError, UsageError
from lmms_eval.api.request import Request, Response
from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.rescore import rescore_run
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.reporting.table import results_table
from lmms_eval.tasks.variants import REASONING_INSTRUCTION, reasoning_answer

ROWS = [
    # qid, subject, skills (multi-label), answer; the model's reply per qid is in REPLIES
    {"qid": "a", "question": "1+1?", "answer": "2", "meta": {"subject": "math", "skills": ["arith"]}},
    {"qid": "b", "question": "2+2?", "answer": "4", "meta": {"subject": "math", "skills": ["arith", "logic"]}},
    {"qid": "c", "question": "H2O?", "answer": "water", "meta": {"subject": "chem", "skills": ["logic"]}},
    {"qid": "d", "question": "NaCl?", "answer": "salt", "meta": {"subject": "chem", "skills": []}},
]
REPLIES = {
    "a": "<think>one and one</think><answer>2</answer>",  # right only once <answer> is read
    "b": "4",  # right either way
    "c": "<think>hmm</think>water",  # no <answer>: the text after the reasoning
    "d": "<answer>sugar</answer>",  # wrong either way
}


class TableModel(ScriptedModel):
    """Answers from REPLIES; remembers the prompts it was sent."""

    prompts: list[str] = []

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        TableModel.prompts.extend(r.prompt_text() for r in requests)
        return [Response(text=REPLIES[str(r.doc_id)]) for r in requests]


def make_task(root: Path, extra: str = "", text: str = "{{pre_prompt}}{{question}}{{post_prompt}}") -> Path:
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "qa.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    write(
        root / "qa.yaml",
        f"""
        task: qa
        dataset_path: json
        dataset_kwargs: {{data_files: data/qa.jsonl}}
        test_split: train
        doc_id_column: qid
        doc_to_text: "{text}"
        doc_to_target: answer
        lmms_eval_specific_kwargs:
          default: {{pre_prompt: "Q: ", post_prompt: "\\nAnswer briefly."}}
        metric_list:
          - metric: exact_match
        breakdown:
          - name: subject
            field: meta.subject
            macro: true
          - name: skill
            field: meta.skills
        submission: !function subm.write
        """
        + extra,
    )
    write(
        root / "subm.py",
        """
        def write(records):
            return "qa_submission.json", {str(r.doc_id): r.filtered["none"] for r in records if r.filtered}
        """,
    )
    return root


def run(root: Path, out: Path, **kw: object):
    TableModel.prompts = []
    cfg = RunConfig(
        model="scripted", tasks=["qa"], include_path=[str(root)], output_path=str(out), show_progress=False, **kw
    )
    return Evaluator(cfg, model=TableModel()).run()


def test_reasoning_answer_reduction() -> None:
    assert reasoning_answer("<think>x</think><answer> B </answer>") == "B"
    assert reasoning_answer("<think>x</think>C") == "C"
    assert reasoning_answer("<answer>1</answer> then <answer>2</answer>") == "2"  # the last one
    assert reasoning_answer("plain") == "plain"


def test_default_prompt_scores_raw_output(tmp_path: Path) -> None:
    outcome = run(make_task(tmp_path / "t"), tmp_path / "out")
    res = outcome.results["results"]["qa"]
    assert TableModel.prompts[0] == "Q: 1+1?\nAnswer briefly."
    # raw outputs: only b ("4") equals its answer -> 1/4
    assert res["exact_match,none"] == pytest.approx(1 / 4)
    assert "prompt_variant" not in outcome.results["configs"]["qa"]


def test_reasoning_variant_prompt_answer_and_ids(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t")
    plain = run(root, tmp_path / "plain")
    outcome = run(root, tmp_path / "out", prompt_variant="reasoning")
    assert outcome.exit_code == 0
    assert TableModel.prompts[0] == "Q: 1+1?" + REASONING_INSTRUCTION  # post_prompt replaced, not appended
    res = outcome.results["results"]["qa"]
    # reduced: a -> "2" right, b right, c -> "water" right, d -> "sugar" wrong: 3/4
    assert res["exact_match,none"] == pytest.approx(3 / 4)
    assert outcome.results["configs"]["qa"]["prompt_variant"] == "reasoning"
    records = [json.loads(x) for x in (Path(outcome.run_dir) / "samples_qa.jsonl").read_text().splitlines()]
    assert records[0]["raw_output"] == REPLIES["a"] and records[0]["filtered"] == {"none": "2"}
    plain_ids = {json.loads(x)["id"] for x in (Path(plain.run_dir) / "samples_qa.jsonl").read_text().splitlines()}
    assert plain_ids.isdisjoint(r["id"] for r in records)  # another prompt, other sample ids
    # re-scoring reads the variant from the run: same scores
    again = rescore_run(outcome.run_dir)
    assert again.results["results"]["qa"]["exact_match,none"] == pytest.approx(3 / 4)


def test_task_variant_overrides_builtin(tmp_path: Path) -> None:
    extra = """
        prompt_variants:
          reasoning: {post_prompt: " Think, then answer in <answer></answer>.", generation_kwargs: {max_new_tokens: 64}}
          terse: {pre_prompt: ""}
        """
    root = make_task(tmp_path / "t", extra)
    outcome = run(root, tmp_path / "out", prompt_variant="reasoning")
    assert TableModel.prompts[0] == "Q: 1+1? Think, then answer in <answer></answer>."
    record = json.loads((Path(outcome.run_dir) / "samples_qa.jsonl").read_text().splitlines()[0])
    assert record["generation"]["max_new_tokens"] == 64
    run(root, tmp_path / "terse", prompt_variant="terse")
    assert TableModel.prompts[0] == "1+1?\nAnswer briefly."


def test_unknown_variant_and_a_variant_that_changes_nothing(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t")
    with pytest.raises(UsageError, match="no prompt variant 'reasonig'.*Did you mean 'reasoning'"):
        run(root, tmp_path / "out", prompt_variant="reasonig")
    fixed = make_task(tmp_path / "u", text="{{question}}")  # reads no post_prompt
    with pytest.raises(ConfigError, match="does not change the prompt of task 'qa'"):
        run(fixed, tmp_path / "out2", prompt_variant="reasoning")
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").rglob("samples_*.jsonl"))


def test_breakdown_sub_metrics_by_hand(tmp_path: Path) -> None:
    outcome = run(make_task(tmp_path / "t"), tmp_path / "out", prompt_variant="reasoning")
    res = outcome.results["results"]["qa"]
    # scores a=1 b=1 c=1 d=0; math = {a, b} -> 1.0, chem = {c, d} -> 0.5
    assert res["exact_match,none,subject=math"] == pytest.approx(1.0)
    assert res["exact_match,none,subject=chem"] == pytest.approx(0.5)
    assert res["exact_match_macro_subject,none"] == pytest.approx((1.0 + 0.5) / 2)
    # skills: arith = {a, b} -> 1.0; logic = {b, c} -> 1.0; d has none and is in no skill
    assert res["exact_match,none,skill=arith"] == pytest.approx(1.0)
    assert res["exact_match,none,skill=logic"] == pytest.approx(1.0)
    assert res["breakdown_n"] == {"subject": {"chem": 2, "math": 2}, "skill": {"arith": 2, "logic": 2}}
    # stderr of chem's two values (1, 0): sample std / sqrt(n) = sqrt(0.5) / sqrt(2) = 0.5
    assert res["exact_match_stderr,none,subject=chem"] == pytest.approx(math.sqrt(0.5) / math.sqrt(2))
    assert outcome.results["higher_is_better"]["qa"]["exact_match_macro_subject"] is True
    table = results_table(outcome.results)
    assert "exact_match_macro_subject" in table and "subject=chem" not in table


def test_submission_file_written_and_rewritten_by_score(tmp_path: Path) -> None:
    outcome = run(make_task(tmp_path / "t"), tmp_path / "out", predict_only=True)
    assert outcome.exit_code == 0
    assert outcome.results["submissions"] == {"qa": "submissions/qa_submission.json"}
    path = Path(outcome.run_dir) / "submissions" / "qa_submission.json"
    assert json.loads(path.read_text()) == {k: v for k, v in REPLIES.items()}
    path.unlink()
    rescore_run(outcome.run_dir)
    assert json.loads(path.read_text())["b"] == "4"


def test_failing_submission_writer_keeps_results_and_exits_non_zero(tmp_path: Path) -> None:
    root = make_task(tmp_path / "t")
    write(root / "subm.py", "def write(records):\n    raise KeyError('pid')\n")
    outcome = run(root, tmp_path / "out")
    assert outcome.exit_code == 1 and "no submission file for qa" in outcome.message
    assert outcome.results["results"]["qa"]["exact_match,none"] == pytest.approx(1 / 4)
    assert "KeyError" in outcome.results["submissions"]["qa"]["error"]
    assert (Path(outcome.run_dir) / "results.json").exists()


def test_reasoning_variant_refused_for_likelihood_tasks(tmp_path: Path) -> None:
    from lmms_eval.tasks.task import Task

    extra = """
        output_type: multiple_choice
        doc_to_choice: [a, b]
        """
    root = make_task(tmp_path / "t", extra)
    task = Task.from_yaml(str(root / "qa.yaml"))
    with pytest.raises(UsageError, match="scores its options by likelihood.*run it without the variant"):
        task.set_prompt_variant("reasoning")


def test_system_prompt_reaches_doc_to_messages_tasks(tmp_path: Path) -> None:
    from lmms_eval.tasks.task import Task

    extra = """
        doc_to_messages: !function subm.messages
        system_prompt: Be brief.
        prompt_variants:
          terse: {system_prompt: Answer in one word.}
        """
    root = make_task(tmp_path / "t", extra)
    with open(root / "subm.py", "a", encoding="utf-8") as fh:
        fh.write("\n\ndef messages(doc):\n    return [{'role': 'user', 'content': doc['question']}]\n")
    task = Task.from_yaml(str(root / "qa.yaml"))
    chat = task.build_messages(ROWS[0], None)
    assert [(m.role, m.text()) for m in chat] == [("system", "Be brief."), ("user", "1+1?")]
    task.set_prompt_variant("terse")
    assert task.build_messages(ROWS[0], None)[0].text() == "Answer in one word."


def test_suites_select_the_reported_benchmarks() -> None:
    from lmms_eval.tasks import load_selection

    stem = load_selection(["general_stem"])
    assert list(stem.tasks) == [
        "mmk12_test",
        "mathverse_testmini",
        "mathvision_testmini",
        "mathvista_testmini",
        "mmmu_val",
    ]
    high_res = load_selection(["mgpo_high_res"])
    assert list(high_res.tasks) == ["vstar_bench", "mme_realworld_lite"]


def test_task_entry_is_laid_over_the_builtin_reasoning_variant(tmp_path: Path) -> None:
    extra = """
        prompt_variants:
          reasoning: {generation_kwargs: {max_new_tokens: 4096}}
        """
    outcome = run(make_task(tmp_path / "t", extra), tmp_path / "out", prompt_variant="reasoning")
    assert TableModel.prompts[0] == "Q: 1+1?" + REASONING_INSTRUCTION  # the built-in instruction kept
    record = json.loads((Path(outcome.run_dir) / "samples_qa.jsonl").read_text().splitlines()[0])
    assert record["generation"]["max_new_tokens"] == 4096
