"""Several judge blocks per task: order, shared cache, ``answer_from``, per-block counts, record shape.

Judge replies come from the real local ``transformers serve`` of tests/servers.py (scripted
models: each always says one fixed reply). The default model says ``Verdict: correct``, which
is also a valid one-line extraction reply, so one model can serve an extract block and a
binary block of the same pipeline.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from scripted_model import ScriptedModel
from servers import LocalOpenAIServer, free_port, openai_server  # noqa: F401

from lmms_eval.api.errors import ConfigError
from lmms_eval.api.record import SampleRecord
from lmms_eval.clients.openai_chat import AsyncChatClient, UsageMeter
from lmms_eval.judge import JudgeConfig, judge_records_sync, judge_summary, parse_judge_arg, parse_specs

SAY = "Verdict: correct"  # the default scripted judge's reply


def make_record(i: int, prediction: str, target: Any = "42") -> SampleRecord:
    """A finished sample record in the shape the evaluator writes."""
    question = f"What is {i} + {42 - i}?"
    return SampleRecord(
        id=f"r{i}",
        task="toy",
        doc_id=i,
        index=i,
        prompt=[{"role": "user", "content": [{"type": "text", "text": question}]}],
        raw_output=f"I think the answer is {prediction}.",
        filtered={"none": prediction},
        target=target,
        scores={"exact_match,none": float(prediction == target)},
        doc={"question": question, "answer": target},
    )


def judge_cfg(server: LocalOpenAIServer, reply: str = SAY, **extra: Any) -> JudgeConfig:
    values = {"model": server.model(reply), "base_url": server.base_url, "backoff_initial": 0.01, **extra}
    return parse_judge_arg(values)


def metered_client(cfg: JudgeConfig) -> tuple[AsyncChatClient, UsageMeter]:
    meter = UsageMeter()
    return AsyncChatClient(cfg.client_settings(cfg.concurrency), meter), meter


# ================================================================== load-time validation
def test_spec_list_validation() -> None:
    with pytest.raises(ConfigError, match=r"x\.yaml: judge\[0\] and judge\[1\] both produce metric 'judge_correct'"):
        parse_specs([{"type": "binary"}, {"type": "binary", "cascade": ["exact_match"]}], "x.yaml")
    with pytest.raises(ConfigError, match=r"judge\[1\]: answer_from names 'nope'.*earlier blocks: 'a'"):
        parse_specs([{"type": "binary", "metric": "a"}, {"type": "binary", "metric": "b", "answer_from": "nope"}])
    with pytest.raises(ConfigError, match="a binary block; it must name a block of type extract"):
        parse_specs([{"type": "binary", "metric": "a"}, {"type": "binary", "metric": "b", "answer_from": "a"}])
    later_first = [
        {"type": "binary", "metric": "b", "answer_from": "a"},
        {"type": "extract", "metric": "a", "score_with": "exact_match"},
    ]
    with pytest.raises(ConfigError, match="not the metric of an earlier judge block"):
        parse_specs(later_first)
    narrow = [
        {"type": "extract", "metric": "a", "score_with": "exact_match", "filters": ["strict"]},
        {"type": "binary", "metric": "b", "answer_from": "a"},  # all filters, but 'a' extracts only 'strict'
    ]
    with pytest.raises(ConfigError, match="does not extract"):
        parse_specs(narrow)
    with pytest.raises(ConfigError, match=r"judge\[1\] block.*unknown key 'cascad'"):
        parse_specs([{"type": "binary", "metric": "a"}, {"type": "binary", "cascad": []}], "x.yaml")
    specs = parse_specs(
        [{"type": "extract", "metric": "a", "score_with": "exact_match"}, {"type": "binary", "answer_from": "a"}]
    )
    assert [s.metric_name for s in specs] == ["a", "judge_correct"]
    assert parse_specs({"type": "binary"})[0].metric_name == "judge_correct" and parse_specs(None) == []


def test_duplicate_metric_names_refused_when_the_task_loads(toy_tasks: Path) -> None:
    from lmms_eval.tasks.task import Task

    path = toy_tasks / "say_twice.yaml"
    path.write_text(
        "task: say_twice\ninclude: _base_yaml\ndoc_id_column: qid\ndoc_to_text: 'Say {{word}}'\n"
        "judge:\n  - type: binary\n  - type: binary\n    cascade: [exact_match]\n"
    )
    with pytest.raises(ConfigError, match=r"say_twice\.yaml: judge\[0\] and judge\[1\] both produce metric"):
        Task.from_yaml(str(path))
    path.write_text(
        "task: say_twice\ninclude: _base_yaml\ndoc_id_column: qid\ndoc_to_text: 'Say {{word}}'\n"
        "judge:\n  - {type: binary, metric: all_judged}\n  - {type: binary, template: nope.jinja}\n"
    )
    with pytest.raises(ConfigError, match=r"say_twice\.yaml: judge\[1\] \(judge_correct\): .*nope\.jinja"):
        Task.from_yaml(str(path))


# ================================================================== real server
def test_single_block_record_shape_unchanged(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    cfg = judge_cfg(openai_server)
    as_dict = [make_record(0, "41")]
    as_list = [make_record(0, "41")]
    judge_records_sync(as_dict, {"type": "binary"}, cfg, str(tmp_path / "c.sqlite"))
    judge_records_sync(as_list, [{"type": "binary"}], cfg, str(tmp_path / "c.sqlite"))
    for records in (as_dict, as_list):
        info = records[0].judge
        assert set(info) == {"type", "metric", "judge_model", "template", "template_hash", "status", "filters"}
        assert set(info["filters"]["none"]) == {"stage", "rules", "verdict", "value", "error", "calls"}
        assert info["status"] == "ok" and records[0].scores["judge_correct,none"] == 1.0
    summary = judge_summary(as_list)
    assert summary["decided_by_judge"] == 1 and summary["blocks"]["judge_correct"]["decided_by_judge"] == 1


def test_cascade_block_reuses_the_first_blocks_replies(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    """MMK12's two metrics: the judge on every sample, then rules first and the same prompt where
    they fail. Identical prompts hit the cache, so the cascade costs no extra call."""
    records = [make_record(i, "42" if i < 3 else f"4{i}") for i in range(6)]  # 3 exact, 3 not
    fresh = copy.deepcopy(records)
    blocks = [
        {"type": "binary", "metric": "judge_all"},
        {"type": "binary", "metric": "judge_cascade", "cascade": ["exact_match"]},
    ]
    cfg = judge_cfg(openai_server, "Verdict: incorrect")
    client, meter = metered_client(cfg)
    judge_records_sync(records, blocks, cfg, str(tmp_path / "c.sqlite"), client=client)
    assert meter.calls == 6  # block 1 asks about all 6; block 2's 3 prompts are among them
    assert [r.scores["judge_all,none"] for r in records] == [0.0] * 6  # the judge says incorrect
    assert [r.scores["judge_cascade,none"] for r in records] == [1.0] * 3 + [0.0] * 3  # rule 1.0, else judge
    info = records[4].judge
    assert set(info) == {"status", "blocks"} and info["status"] == "ok" and records[4].status == "ok"
    assert list(info["blocks"]) == ["judge_all", "judge_cascade"]
    assert info["blocks"]["judge_cascade"]["filters"]["none"]["calls"][0]["cached"] is True
    assert info["blocks"]["judge_cascade"]["filters"]["none"]["rules"] == {"exact_match": 0.0}

    summary = judge_summary(records)
    per = summary["blocks"]
    assert (per["judge_all"]["decided_by_rule"], per["judge_all"]["decided_by_judge"]) == (0, 6)
    assert (per["judge_all"]["calls"], per["judge_all"]["cached_calls"]) == (6, 0)
    assert (per["judge_cascade"]["decided_by_rule"], per["judge_cascade"]["decided_by_judge"]) == (3, 3)
    assert (per["judge_cascade"]["calls"], per["judge_cascade"]["cached_calls"]) == (0, 3)
    # totals over the blocks: rule 0 + 3, judge 6 + 3, calls 6 + 0, cached 0 + 3
    assert [summary[k] for k in ("decided_by_rule", "decided_by_judge", "calls", "cached_calls")] == [3, 9, 6, 3]
    assert summary["samples"] == 6 and summary["judge_errors"] == 0

    # Again with the same cache and a judge address where nothing listens: 9 replies, all cached.
    dead = cfg.model_copy(update={"base_url": f"http://127.0.0.1:{free_port()}/v1", "max_retries": 0})
    client, meter = metered_client(dead)
    judge_records_sync(fresh, blocks, dead, str(tmp_path / "c.sqlite"), client=client)
    assert meter.calls == 0 and [r.scores for r in fresh] == [r.scores for r in records]
    assert (judge_summary(fresh)["calls"], judge_summary(fresh)["cached_calls"]) == (0, 9)


def test_answer_from_judges_the_extracted_answer(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    """MathVerse's two steps: an extraction prompt, then a scoring prompt over what was extracted."""
    records = [make_record(0, "forty-two", target=SAY), make_record(1, "forty-one", target="41")]
    blocks = [
        {"type": "extract", "metric": "extracted", "score_with": "exact_match"},
        {"type": "binary", "metric": "judge_correct", "answer_from": "extracted"},
    ]
    judge_records_sync(records, blocks, judge_cfg(openai_server), str(tmp_path / "c.sqlite"))
    # The scripted judge replies "Verdict: correct" to both prompts. As an extraction reply (one
    # line) that is the extracted answer: exact_match against the targets SAY and "41" gives 1, 0.
    assert [r.scores["extracted,none"] for r in records] == [1.0, 0.0]
    assert [r.scores["judge_correct,none"] for r in records] == [1.0, 1.0]
    for record in records:
        blocks_info = record.judge["blocks"]
        assert blocks_info["extracted"]["filters"]["none"]["verdict"] == SAY
        assert blocks_info["judge_correct"]["answer_from"] == "extracted"
        prompt = blocks_info["judge_correct"]["filters"]["none"]["calls"][0]["prompt"][0]["content"]
        assert f"Model answer: {SAY}\n" in prompt  # the extracted answer, not the filtered output
        assert "forty" not in prompt
    summary = judge_summary(records)["blocks"]
    assert summary["extracted"]["decided_by_judge"] == 2 and summary["judge_correct"]["decided_by_judge"] == 2


def test_failed_block_is_kept_and_answer_from_skips_it(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    """Record 1's doc lacks the variable the extraction template needs: that block fails for it,
    the answer_from block skips it, a later independent block succeeds, and the record stays
    judge_error with the first block's reason. Fixing the doc and judging again recovers it."""
    (tmp_path / "extract_hint.jinja").write_text("Hint {{ doc.hint }}. Response: {{ raw_output }}")
    records = [make_record(0, "42"), make_record(1, "41")]
    records[0].doc["hint"] = "add"
    blocks = [
        {"type": "extract", "metric": "extracted", "template": "extract_hint.jinja", "score_with": "exact_match"},
        {"type": "binary", "metric": "scored", "answer_from": "extracted"},
        {"type": "binary", "metric": "independent"},
    ]
    cache = str(tmp_path / "c.sqlite")
    judge_records_sync(records, blocks, judge_cfg(openai_server), cache, template_dir=str(tmp_path))

    ok, failed = records
    assert ok.status == "ok" and ok.scores["scored,none"] == 1.0 and ok.scores["independent,none"] == 1.0
    assert failed.status == "judge_error"  # the last block succeeded and did not clear it
    assert failed.error.startswith("judge: extracted: none: cannot build the judge prompt") and "hint" in failed.error
    assert "scored" not in failed.error  # the skip adds no error of its own
    assert "extracted,none" not in failed.scores and "scored,none" not in failed.scores  # never scored
    assert failed.scores["independent,none"] == 1.0
    skipped = failed.judge["blocks"]["scored"]
    assert skipped["status"] == "skipped" and skipped["filters"]["none"]["stage"] == "skipped"
    assert skipped["filters"]["none"]["calls"] == [] and "'extracted' failed" in skipped["filters"]["none"]["skipped"]
    assert failed.judge["status"] == "judge_error" and failed.judge["blocks"]["independent"]["status"] == "ok"

    summary = judge_summary(records)
    assert summary["samples_with_judge_error"] == 1
    per = summary["blocks"]
    assert (per["extracted"]["judge_errors"], per["extracted"]["decided_by_judge"]) == (1, 1)
    assert (per["scored"]["skipped"], per["scored"]["decided_by_judge"], per["scored"]["judge_errors"]) == (1, 1, 0)
    assert per["independent"]["decided_by_judge"] == 2
    # totals: errors 1 + 0 + 0, skipped 0 + 1 + 0, judged 1 + 1 + 2
    assert (summary["judge_errors"], summary["skipped"], summary["decided_by_judge"]) == (1, 1, 4)

    # Re-running (resume / `score --judge`) judges the judge_error record again.
    failed.doc["hint"] = "add"
    judge_records_sync(records, blocks, judge_cfg(openai_server), cache, template_dir=str(tmp_path))
    assert failed.status == "ok" and failed.error is None
    assert failed.scores["extracted,none"] == 0.0  # "Verdict: correct" extracted; target "42"
    assert failed.scores["scored,none"] == 1.0
    again = judge_summary(records)
    assert again["samples_with_judge_error"] == 0 and again["blocks"]["scored"]["skipped"] == 0
    # record 0: 3 prompts as before (cached); record 1: "independent" as before (cached), and two new
    # prompts (the extraction now renders, then scoring what it extracted): 3 + 1 cached, 2 paid
    assert (again["cached_calls"], again["calls"]) == (4, 2)


def test_engine_run_and_rescore_with_two_blocks(
    openai_server: LocalOpenAIServer, toy_tasks: Path, tmp_path: Path
) -> None:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.rescore import rescore_run
    from lmms_eval.engine.run_config import RunConfig

    (toy_tasks / "say_judged_twice.yaml").write_text(
        "task: say_judged_twice\ninclude: _base_yaml\ndoc_id_column: qid\ndoc_to_text: 'Say {{word}}'\n"
        "judge:\n  - {type: binary, metric: judge_all}\n"
        "  - {type: binary, metric: judge_cascade, cascade: [exact_match]}\n"
    )
    judge = f"model={openai_server.model(SAY)},base_url={openai_server.base_url},api_key_env=NO_KEY_NEEDED"
    cfg = RunConfig(
        model="scripted",
        tasks=["say_judged_twice"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
        judge=judge,
    )
    outcome = Evaluator(cfg, model=ScriptedModel()).run()
    res = outcome.results["results"]["say_judged_twice"]
    assert res["exact_match,none"] == 8 / 12  # the scripted model says "nope" on 4 of 12 documents
    assert res["judge_all,none"] == 1.0 and res["judge_cascade,none"] == 1.0  # the judge says correct
    assert outcome.results["units"]["say_judged_twice"]["judge_all"] == "0-1"
    per = outcome.results["judge"]["summary"]["say_judged_twice"]["blocks"]
    assert (per["judge_all"]["decided_by_judge"], per["judge_all"]["calls"]) == (12, 12)
    cascade = per["judge_cascade"]
    assert (cascade["decided_by_rule"], cascade["decided_by_judge"], cascade["calls"], cascade["cached_calls"]) == (
        8,
        4,
        0,
        4,
    )
    line = json.loads((Path(outcome.run_dir) / "samples_say_judged_twice.jsonl").read_text().splitlines()[0])
    assert set(line["judge"]["blocks"]) == {"judge_all", "judge_cascade"}

    again = rescore_run(outcome.run_dir)
    summary = again.results["judge"]["summary"]["say_judged_twice"]
    assert (summary["calls"], summary["cached_calls"]) == (0, 16)  # 12 + 4 replies, all from the cache
    assert again.results["results"]["say_judged_twice"]["judge_cascade,none"] == 1.0
