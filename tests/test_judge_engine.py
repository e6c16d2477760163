"""The judge stage wired into a run and into `lmms-eval score`, against a real local server."""

from __future__ import annotations

import json
from pathlib import Path

from scripted_model import ScriptedModel
from servers import LocalOpenAIServer, openai_server  # noqa: F401

from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.rescore import rescore_run
from lmms_eval.engine.run_config import RunConfig


def add_judged_task(toy_tasks: Path) -> None:
    (toy_tasks / "say_judged.yaml").write_text(
        "task: say_judged\ninclude: _base_yaml\ndoc_id_column: qid\ndoc_to_text: 'Say {{word}}'\n"
        "judge:\n  type: binary\n  cascade: [exact_match]\n"
    )


def test_run_and_rescore_with_judge(openai_server: LocalOpenAIServer, toy_tasks: Path, tmp_path: Path) -> None:
    add_judged_task(toy_tasks)
    judge = (
        f"model={openai_server.model('Verdict: correct')},base_url={openai_server.base_url},api_key_env=NO_KEY_NEEDED"
    )
    cfg = RunConfig(
        model="scripted",
        tasks=["say_judged"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
        judge=judge,
    )
    outcome = Evaluator(cfg, model=ScriptedModel()).run()
    res = outcome.results["results"]["say_judged"]
    assert res["exact_match,none"] == 8 / 12
    assert res["judge_correct,none"] == 1.0  # the 4 rule failures went to the judge, which says correct
    summary = outcome.results["judge"]["summary"]["say_judged"]
    assert (summary["decided_by_rule"], summary["decided_by_judge"], summary["calls"]) == (8, 4, 4)
    assert outcome.results["judge"]["config"]["api_key_env"] == "NO_KEY_NEEDED"  # a variable name, kept
    record = json.loads((Path(outcome.run_dir) / "samples_say_judged.jsonl").read_text().splitlines()[0])
    assert "judge" in record and record["scores"]["judge_correct,none"] == 1.0  # the log line as written

    # re-scoring re-runs the judge from the logs: every reply comes from the cache
    again = rescore_run(outcome.run_dir)
    assert again.results["results"]["say_judged"]["judge_correct,none"] == 1.0
    assert again.results["judge"]["summary"]["say_judged"]["calls"] == 0
    assert again.results["judge"]["summary"]["say_judged"]["cached_calls"] == 4


def test_judge_block_without_judge_flag_is_reported(toy_tasks: Path, tmp_path: Path) -> None:
    add_judged_task(toy_tasks)
    cfg = RunConfig(
        model="scripted",
        tasks=["say_judged"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
    )
    outcome = Evaluator(cfg, model=ScriptedModel()).run()
    assert outcome.results["judge"]["skipped"] == ["say_judged"]
    assert "judge_correct,none" not in outcome.results["results"]["say_judged"]
