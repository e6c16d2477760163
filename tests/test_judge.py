"""The LLM-judge stage: strict verdict parsing, configuration, templates, cache, cascade, and
transport against a real ``transformers serve`` plus a fault-injecting peer.

The served judge models are scripted (tests/servers.py): each always replies one fixed string,
so the happy paths (binary, rating, pairwise, extraction) run through the real server, and the
parsers are checked separately on fixed strings.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from servers import Fault, FaultServer, LocalOpenAIServer, fault_server, free_port, openai_server  # noqa: F401

from lmms_eval.api.errors import ConfigError, UsageError
from lmms_eval.api.record import SampleRecord
from lmms_eval.clients.openai_chat import AsyncChatClient, UsageMeter
from lmms_eval.judge import (
    JudgeCache,
    JudgeConfig,
    judge_records_sync,
    judge_summary,
    parse_judge_arg,
    parse_spec,
)
from lmms_eval.judge.cache import cache_key
from lmms_eval.judge.parsing import (
    VerdictError,
    parse_binary,
    parse_extracted,
    parse_pair,
    parse_rating,
    parse_rubric,
)


def make_record(i: int, prediction: str, target: Any = "42", question: str | None = None) -> SampleRecord:
    """A finished sample record in the shape the evaluator writes."""
    question = question or f"What is {i} + {42 - i}?"
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


def judge_cfg(base_url: str, model: str = "judge", **extra: Any) -> JudgeConfig:
    values = {"model": model, "base_url": base_url, "backoff_initial": 0.01, "backoff_max": 0.05, **extra}
    return parse_judge_arg(values)


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


# ================================================================== parsing (fixed strings)
@pytest.mark.parametrize(
    "reply, expected",
    [
        ("Verdict: correct", True),
        ("The model says 42, same as the reference.\nVerdict: **Correct**", True),
        ("verdict: incorrect", False),
        ("Verdict：incorrect", False),
        ("Correct.", True),
        ("incorrect", False),
        ("Verdict: correct\nVerdict: incorrect", None),  # conflicting
        ("I think it is correct", None),  # no verdict line
        ("Verdict: correctness is unclear", None),
        ("", None),
    ],
)
def test_parse_binary(reply: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(VerdictError):
            parse_binary(reply)
    else:
        assert parse_binary(reply) is expected


def test_parse_binary_custom_labels() -> None:
    labels = {"correct": ["yes"], "incorrect": ["no"]}
    assert parse_binary("Yes, they match.", r"^\s*(yes|no)\b", labels) is True
    assert parse_binary("no", None, labels) is False
    with pytest.raises(VerdictError):
        parse_binary("Verdict: correct", r"^\s*(yes|no)\b", labels)


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("Good answer. Rating: [[7]]", 7.0),
        ("[[ 8.5 ]]", 8.5),
        ("[[7]] as said, [[7]]", 7.0),
        ("[[3]] or [[9]]", None),
        ("Rating: [[11]]", None),
        ("Rating: 7", None),
        ("[[0]]", None),
    ],
)
def test_parse_rating(reply: str, expected: float | None) -> None:
    if expected is None:
        with pytest.raises(VerdictError):
            parse_rating(reply, 1, 10)
    else:
        assert parse_rating(reply, 1, 10) == expected


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("8 6\nAssistant 1 is more precise.", (8.0, 6.0)),
        ("\n 7.5, 9 \nbecause", (7.5, 9.0)),
        ("**3 4**", (3.0, 4.0)),
        ("Assistant 1: 8\nAssistant 2: 6", None),
        ("11 3", None),
        ("8", None),
        ("", None),
    ],
)
def test_parse_pair(reply: str, expected: tuple | None) -> None:
    if expected is None:
        with pytest.raises(VerdictError):
            parse_pair(reply)
    else:
        assert parse_pair(reply) == expected


COMPONENTS = [{"name": "mentions the cat", "weight": 6}, {"name": "one sentence", "weight": 4}]


@pytest.mark.parametrize(
    "reply, expected",
    [
        ('{"scores": {"mentions the cat": 6, "one sentence": 2}}', {"mentions the cat": 6.0, "one sentence": 2.0}),
        (
            'Here you go:\n```json\n{"scores": {"mentions the cat": 3.5, "one sentence": "4"}}\n```',
            {"mentions the cat": 3.5, "one sentence": 4.0},
        ),
        (
            'first {"x": 1} then {"scores": {"mentions the cat": 0, "one sentence": 0}}',
            {"mentions the cat": 0.0, "one sentence": 0.0},
        ),
        ('{"scores": {"mentions the cat": 6}}', None),  # a component left out
        ('{"scores": {"mentions the cat": 6, "one sentence": 1, "tone": 1}}', None),  # unknown component
        ('{"scores": {"mentions the cat": 7, "one sentence": 1}}', None),  # above its weight
        ('{"scores": {"mentions the cat": "most", "one sentence": 1}}', None),
        ('{"scores": {"mentions the cat": true, "one sentence": 1}}', None),
        ("mentions the cat: 6/6, one sentence: 4/4", None),
    ],
)
def test_parse_rubric(reply: str, expected: dict | None) -> None:
    if expected is None:
        with pytest.raises(VerdictError):
            parse_rubric(reply, COMPONENTS)
    else:
        assert parse_rubric(reply, COMPONENTS) == expected


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("Extracted answer: 42", "42"),
        ("The model concludes B.\nExtracted answer: B\n", "B"),
        ("20.25", "20.25"),
        ("Extracted answer:", ""),
        ("first line\nsecond line", None),
        ("   ", None),
    ],
)
def test_parse_extracted(reply: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(VerdictError):
            parse_extracted(reply)
    else:
        assert parse_extracted(reply) == expected


# ================================================================== config, spec, templates, cache keys
def test_parse_judge_arg_forms() -> None:
    cfg = parse_judge_arg("openai:gpt-4o-2024-11-20")
    assert (cfg.model, cfg.base_url, cfg.api_key_env, cfg.temperature) == (
        "gpt-4o-2024-11-20",
        None,
        "OPENAI_API_KEY",
        0.0,
    )
    cfg = parse_judge_arg("gpt-4o-mini,concurrency=32,timeout=120")
    assert (cfg.model, cfg.concurrency, cfg.timeout) == ("gpt-4o-mini", 32, 120.0)
    cfg = parse_judge_arg("model=Qwen/Qwen2.5-72B-Instruct,base_url=http://127.0.0.1:8000/v1,api_key_env=VLLM_KEY")
    assert (cfg.model, cfg.base_url, cfg.api_key_env) == (
        "Qwen/Qwen2.5-72B-Instruct",
        "http://127.0.0.1:8000/v1",
        "VLLM_KEY",
    )
    assert parse_judge_arg("qwen2.5:7b").model == "qwen2.5:7b"  # only a known provider prefix is stripped
    assert parse_judge_arg("m,max_tokens=64,seed=1").call_params() == {"temperature": 0.0, "max_tokens": 64, "seed": 1}
    with pytest.raises(UsageError, match="Did you mean 'concurrency'"):
        parse_judge_arg("openai:gpt-4o,concurency=3")
    with pytest.raises(UsageError, match="needs a model"):
        parse_judge_arg("concurrency=3")
    with pytest.raises(UsageError, match="concurrency"):
        parse_judge_arg("m,concurrency=0")


def test_spec_validation_names_the_problem() -> None:
    with pytest.raises(ConfigError, match="cascade only applies"):
        parse_spec({"type": "rating", "cascade": ["exact_match"]}, "tasks/x.yaml")
    with pytest.raises(ConfigError, match="rubric grading needs components"):
        parse_spec({"type": "rubric"}, "tasks/x.yaml")
    with pytest.raises(ConfigError, match="extract grading needs score_with"):
        parse_spec({"type": "extract"}, "tasks/x.yaml")
    with pytest.raises(ConfigError, match=r"tasks/x.yaml.*unknown key 'cascad'.*Did you mean 'cascade'"):
        parse_spec({"type": "binary", "cascad": ["exact_match"]}, "tasks/x.yaml")
    assert parse_spec({"type": "binary"}).metric_name == "judge_correct"


def test_cache_key_covers_model_template_inputs_and_params() -> None:
    msgs = [{"role": "user", "content": "q"}]
    base = cache_key("m", "t", msgs, {"temperature": 0})[0]
    assert base == cache_key("m", "t", [{"role": "user", "content": "q"}], {"temperature": 0})[0]
    assert (
        len(
            {
                base,
                cache_key("m2", "t", msgs, {"temperature": 0})[0],
                cache_key("m", "t2", msgs, {"temperature": 0})[0],
                cache_key("m", "t", [{"role": "user", "content": "q2"}], {"temperature": 0})[0],
                cache_key("m", "t", msgs, {"temperature": 0.5})[0],
            }
        )
        == 5
    )


def test_task_templates_and_missing_variables(tmp_path: Path, fault_server: FaultServer) -> None:
    (tmp_path / "my_judge.jinja").write_text("Q={{ question }} A={{ prediction }} R={{ reference }} X={{ doc.extra }}")
    records = [make_record(0, "41"), make_record(1, "40")]
    records[0].doc["extra"] = "hint"
    fault_server.default = Fault.reply("Verdict: incorrect")
    judge_records_sync(
        records,
        {"type": "binary", "template": "my_judge.jinja"},
        judge_cfg(fault_server.base_url),
        str(tmp_path / "c.sqlite"),
        template_dir=str(tmp_path),
    )
    assert fault_server.requests == 1
    sent = fault_server.bodies[0]["messages"][0]["content"]
    assert sent == "Q=What is 0 + 42? A=41 R=42 X=hint"
    assert records[0].scores["judge_correct,none"] == 0.0
    assert records[1].status == "judge_error" and "'dict object' has no attribute 'extra'" in records[1].error
    assert "judge_correct,none" not in records[1].scores
    (tmp_path / "bad.jinja").write_text("{{ question ")
    with pytest.raises(ConfigError, match="bad.jinja line 1"):
        judge_records_sync(
            records,
            {"type": "binary", "template": "bad.jinja"},
            judge_cfg(fault_server.base_url),
            str(tmp_path / "c.sqlite"),
            template_dir=str(tmp_path),
        )
    with pytest.raises(ConfigError, match="not found"):
        judge_records_sync(
            records,
            {"type": "binary", "template": "nope.jinja"},
            judge_cfg(fault_server.base_url),
            str(tmp_path / "c.sqlite"),
            template_dir=str(tmp_path),
        )


# ================================================================== real server: happy paths
def test_binary_judge_on_real_server_and_rerun_costs_nothing(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    records = [make_record(i, str(40 + i)) for i in range(6)]
    fresh = copy.deepcopy(records)
    cfg = judge_cfg(openai_server.base_url, openai_server.model("Verdict: correct"), concurrency=4)
    cache_path = str(tmp_path / "judge.sqlite")
    judge_records_sync(records, {"type": "binary"}, cfg, cache_path)
    assert [r.scores["judge_correct,none"] for r in records] == [1.0] * 6
    entry = records[3].judge["filters"]["none"]
    call = entry["calls"][0]
    assert entry["stage"] == "judge" and entry["verdict"] == "correct" and call["cached"] is False
    assert call["reply"] == "Verdict: correct" and call["usage"]["completion_tokens"] == 5
    prompt = call["prompt"][0]["content"]
    assert "Question: What is 3 + 39?" in prompt and "Reference answer: 42" in prompt and "Model answer: 43" in prompt
    assert records[3].judge["judge_model"] == cfg.model and len(records[3].judge["template_hash"]) == 16
    assert judge_summary(records)["calls"] == 6 and len(JudgeCache(cache_path)) == 6

    # Re-run with the same cache against an address where nothing listens: any call would fail.
    meter = UsageMeter()
    dead = cfg.model_copy(update={"base_url": dead_url(), "max_retries": 0})
    client = AsyncChatClient(dead.client_settings(dead.concurrency), meter)
    judge_records_sync(fresh, {"type": "binary"}, dead, cache_path, client=client)
    assert meter.calls == 0
    assert [r.scores for r in fresh] == [r.scores for r in records]
    summary = judge_summary(fresh)
    assert summary["calls"] == 0 and summary["cached_calls"] == 6 and summary["judge_errors"] == 0


def test_cascade_counts_each_stage(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    records = [make_record(i, "42" if i < 3 else f"4{i}") for i in range(6)]  # 3 exact, 3 not
    cfg = judge_cfg(openai_server.base_url, openai_server.model("Verdict: incorrect"))
    judge_records_sync(records, {"type": "binary", "cascade": ["exact_match"]}, cfg, str(tmp_path / "c.sqlite"))
    assert [r.scores["judge_correct,none"] for r in records] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert [r.judge["filters"]["none"]["stage"] for r in records] == ["rule"] * 3 + ["judge"] * 3
    assert records[0].judge["filters"]["none"]["calls"] == []
    assert records[0].judge["filters"]["none"]["rules"] == {"exact_match": 1.0}
    summary = judge_summary(records)
    assert (summary["decided_by_rule"], summary["decided_by_judge"], summary["calls"]) == (3, 3, 3)

    # judge_when=unparsed: a parsed wrong answer is decided by the rule; only the empty one is judged.
    records = [make_record(0, "41"), make_record(1, "")]
    judge_records_sync(
        records,
        {"type": "binary", "cascade": ["exact_match"], "judge_when": "unparsed"},
        cfg,
        str(tmp_path / "c.sqlite"),
    )
    assert [r.judge["filters"]["none"]["stage"] for r in records] == ["rule", "judge"]
    assert [r.scores["judge_correct,none"] for r in records] == [0.0, 0.0]


def test_rating_and_pairwise_rating_on_real_server(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    records = [make_record(i, f"answer {i}", target=f"reference {i}") for i in range(2)]
    cfg = judge_cfg(openai_server.base_url, openai_server.model("Rating: [[7]]"))
    judge_records_sync(records, {"type": "rating"}, cfg, str(tmp_path / "c.sqlite"))
    assert [r.scores["judge_rating,none"] for r in records] == [7.0, 7.0]

    # The scripted judge always says "8 6": the prediction gets 6 as Assistant 2 and 8 as
    # Assistant 1, so its score is (6 + 8) / 2 = 7 and the reference's (8 + 6) / 2 = 7 too.
    cfg = judge_cfg(openai_server.base_url, openai_server.model("8 6"))
    judge_records_sync(records, {"type": "pairwise_rating"}, cfg, str(tmp_path / "c.sqlite"))
    entry = records[0].judge["filters"]["none"]
    assert records[0].scores["judge_pairwise_rating,none"] == 7.0
    assert entry["verdict"] == {
        "orders": [[8.0, 6.0], [8.0, 6.0]],
        "prediction_scores": [6.0, 8.0],
        "reference_scores": [8.0, 6.0],
    }
    first, second = (c["prompt"][0]["content"] for c in entry["calls"])
    assert first.index("reference 0") < first.index("answer 0") and second.index("answer 0") < second.index(
        "reference 0"
    )


def test_answer_extraction_then_rule_scoring(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    records = [make_record(0, "", target="42"), make_record(1, "", target="41"), make_record(2, "42", target="42")]
    cfg = judge_cfg(openai_server.base_url, openai_server.model("Extracted answer: 42"))
    spec = {"type": "extract", "cascade": ["exact_match"], "judge_when": "unparsed"}
    judge_records_sync(records, spec, cfg, str(tmp_path / "c.sqlite"))
    assert [r.scores["judge_extract,none"] for r in records] == [1.0, 0.0, 1.0]
    assert [r.judge["filters"]["none"]["verdict"] for r in records] == ["42", "42", "rule"]
    assert (
        "Model response: I think the answer is ."
        in records[0].judge["filters"]["none"]["calls"][0]["prompt"][0]["content"]
    )


def test_rubric_weighted_sum(fault_server: FaultServer, tmp_path: Path) -> None:
    record = make_record(0, "A cat sits. It is fluffy.")
    record.doc.update(components=["mentions the cat", "one sentence"], component_weight=[6, 4])
    fault_server.default = Fault.reply('{"scores": {"mentions the cat": 6, "one sentence": 1}}')
    spec = {"type": "rubric", "components_field": "components", "weights_field": "component_weight"}
    judge_records_sync([record], spec, judge_cfg(fault_server.base_url), str(tmp_path / "c.sqlite"))
    assert record.scores["judge_rubric,none"] == pytest.approx(7 / 10)
    assert record.judge["filters"]["none"]["verdict"] == {"mentions the cat": 6.0, "one sentence": 1.0}
    assert "- mentions the cat (weight 6.0)" in fault_server.bodies[0]["messages"][0]["content"]


def test_unparseable_verdict_is_a_judge_error_not_a_zero(openai_server: LocalOpenAIServer, tmp_path: Path) -> None:
    records = [make_record(i, f"wrong {i}") for i in range(3)]
    cfg = judge_cfg(openai_server.base_url, openai_server.model("The quick brown fox"))
    judge_records_sync(records, {"type": "binary", "cascade": ["exact_match"]}, cfg, str(tmp_path / "c.sqlite"))
    for record in records:
        assert record.status == "judge_error" and "unparseable judge verdict" in record.error
        assert "judge_correct,none" not in record.scores  # nothing scored
        assert record.scores["exact_match,none"] == 0.0  # the rule value is kept for inspection
        assert record.judge["filters"]["none"]["calls"][0]["reply"] == "The quick brown fox"
    summary = judge_summary(records)
    assert (
        summary["judge_errors"] == 3 and summary["samples_with_judge_error"] == 3 and summary["decided_by_judge"] == 0
    )


def test_engine_records_through_the_judge(openai_server: LocalOpenAIServer, toy_tasks: Path, tmp_path: Path) -> None:
    """Records written by the evaluator (scripted model) go through the cascade unchanged in shape."""
    from scripted_model import ScriptedModel

    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    cfg = RunConfig(
        model="scripted",
        tasks=["say_word"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
    )
    outcome = Evaluator(cfg, model=ScriptedModel()).run()
    lines = (Path(outcome.run_dir) / "samples_say_word.jsonl").read_text().splitlines()
    records = [SampleRecord.from_json(line) for line in lines]
    judge = judge_cfg(openai_server.base_url, openai_server.model("Verdict: correct"))
    judge_records_sync(records, {"type": "binary", "cascade": ["exact_match"]}, judge, run_dir=outcome.run_dir)
    summary = judge_summary(records)
    assert (summary["decided_by_rule"], summary["decided_by_judge"]) == (8, 4)  # q0, q3, q6, q9 have "nope"
    assert all(r.scores["judge_correct,none"] == 1.0 for r in records)
    assert (Path(outcome.run_dir) / "cache.sqlite").exists()  # the cache lives with the run
    assert (
        "Question: Please Say w0"
        in next(r for r in records if r.doc_id == "q0").judge["filters"]["none"]["calls"][0]["prompt"][0]["content"]
    )


# ================================================================== faults
def test_server_down_marks_errors_caches_nothing_and_retries_later(tmp_path: Path, fault_server: FaultServer) -> None:
    records = [make_record(i, f"4{i}") for i in range(3)]
    cache_path = str(tmp_path / "c.sqlite")
    judge_records_sync(records, {"type": "binary"}, judge_cfg(dead_url(), max_retries=2), cache_path)
    for record in records:
        assert record.status == "judge_error" and "APIConnectionError" in record.error
        assert "after 3 attempts" in record.error and "judge_correct,none" not in record.scores
    assert len(JudgeCache(cache_path)) == 0
    assert judge_summary(records)["samples_with_judge_error"] == 3

    # Later the judge is reachable: the same records (marked judge_error) are judged again.
    fault_server.default = Fault.reply("Verdict: correct")
    judge_records_sync(records, {"type": "binary"}, judge_cfg(fault_server.base_url), cache_path)
    assert [(r.status, r.error, r.scores["judge_correct,none"]) for r in records] == [("ok", None, 1.0)] * 3


def test_429_then_success_is_retried_and_cached(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.push(
        Fault.status(429, retry_after=0), Fault.status(429, retry_after=0), Fault.reply("Verdict: correct")
    )
    records = [make_record(0, "42")]
    cache = JudgeCache(str(tmp_path / "c.sqlite"))
    judge_records_sync(records, {"type": "binary"}, judge_cfg(fault_server.base_url), cache)
    call = records[0].judge["filters"]["none"]["calls"][0]
    assert records[0].scores["judge_correct,none"] == 1.0 and call["usage"]["attempts"] == 3
    assert fault_server.requests == 3 and len(cache) == 1


def test_slow_judge_times_out_without_scoring(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.push(Fault.sleep(3.0), Fault.sleep(3.0))
    records = [make_record(i, f"4{i}") for i in range(3)]
    started = time.perf_counter()
    judge_records_sync(
        records,
        {"type": "binary"},
        judge_cfg(fault_server.base_url, timeout=0.4, max_retries=1, concurrency=1),
        str(tmp_path / "c.sqlite"),
    )
    assert time.perf_counter() - started < 2.9
    assert records[0].status == "judge_error" and "Timeout" in records[0].error
    assert "judge_correct,none" not in records[0].scores
    assert [r.scores["judge_correct,none"] for r in records[1:]] == [1.0, 1.0]


def test_malformed_reply_is_an_error_not_retried_not_cached(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.push(Fault("malformed"))
    records = [make_record(0, "41")]
    cache = JudgeCache(str(tmp_path / "c.sqlite"))
    judge_records_sync(records, {"type": "binary"}, judge_cfg(fault_server.base_url), cache)
    assert records[0].status == "judge_error" and "MalformedReply" in records[0].error
    assert fault_server.requests == 1 and len(cache) == 0


def test_concurrency_is_bounded_and_overlaps(fault_server: FaultServer, tmp_path: Path) -> None:
    fault_server.default = Fault.sleep(0.15)
    records = [make_record(i, f"x{i}") for i in range(12)]
    started = time.perf_counter()
    judge_records_sync(
        records, {"type": "binary"}, judge_cfg(fault_server.base_url, concurrency=4), str(tmp_path / "c.sqlite")
    )
    elapsed = time.perf_counter() - started
    assert fault_server.max_inflight == 4 and fault_server.requests == 12
    assert elapsed < 12 * 0.15 * 0.6
    assert all(r.scores["judge_correct,none"] == 1.0 for r in records)


def test_judge_sees_the_image_and_the_log_keeps_only_its_hash(fault_server: FaultServer, tmp_path: Path) -> None:
    records = [make_record(0, "red")]
    image = PILImage.new("RGB", (8, 8), (255, 0, 0))
    judge_records_sync(
        records,
        {"type": "binary", "image": "image", "question": "question"},
        judge_cfg(fault_server.base_url),
        str(tmp_path / "c.sqlite"),
        doc_loader=lambda r: {**r.doc, "image": image},
    )
    content = fault_server.bodies[0]["messages"][0]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,") and content[1]["type"] == "text"
    logged = records[0].judge["filters"]["none"]["calls"][0]["prompt"][0]["content"]
    assert logged[0]["type"] == "image" and len(logged[0]["sha256_16"]) == 16
    assert b"base64" not in records[0].to_json()
    # without a loader the logged doc has no image: a clear per-sample error
    records = [make_record(1, "red")]
    judge_records_sync(
        records, {"type": "binary", "image": "image"}, judge_cfg(fault_server.base_url), str(tmp_path / "c.sqlite")
    )
    assert records[0].status == "judge_error" and "doc_loader" in records[0].error


def test_key_needed_only_when_a_call_is_made(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    records = [make_record(0, "42")]
    cache = JudgeCache(str(tmp_path / "c.sqlite"))
    cfg = parse_judge_arg("openai:gpt-4o-2024-11-20")
    with pytest.raises(UsageError, match="OPENAI_API_KEY is not set"):
        judge_records_sync(copy.deepcopy(records), {"type": "binary"}, cfg, cache)
    # a run whose replies are all cached needs no key (re-scoring offline)
    from lmms_eval.judge.stage import JudgeStage

    stage = JudgeStage({"type": "binary"}, cfg, cache)
    item = stage._plan(copy.deepcopy(records))[0]
    cache.put(item.calls[0].key, cfg.model, stage.template_hash, item.calls[0].inputs_hash, "Verdict: correct")
    judge_records_sync(records, {"type": "binary"}, cfg, cache)
    assert records[0].scores["judge_correct,none"] == 1.0


def test_judge_empty_false_lets_the_rules_decide_an_empty_answer() -> None:
    from lmms_eval.judge.grading import rule_decision
    from lmms_eval.judge.spec import parse_spec

    block = {"type": "extract", "cascade": ["exact_match"], "judge_when": "unparsed", "score_with": "exact_match"}
    asks = rule_decision(parse_spec(block), "", "x", {}, None, "none")
    assert not asks.decided("unparsed")  # default: an empty answer goes to the judge
    rules = rule_decision(parse_spec({**block, "judge_empty": False}), "", "x", {}, None, "none")
    assert rules.decided("unparsed") and not rules.passed  # MathVista: "" is extracted without the LLM


def test_extract_reply_modes() -> None:
    from lmms_eval.judge.parsing import VerdictError, parse_extracted

    reply = "Extracted Answer: 5"
    assert parse_extracted(reply) == "5"  # tagged: after the tag
    assert parse_extracted(reply, "whole") == "Extracted Answer: 5"  # MathVista keeps the reply as it is
    assert parse_extracted(reply, "whole_untagged") == "5"  # MathVerse removes the repeated tag
    assert parse_extracted(" 12\n(cm) ", "whole") == "12\n(cm)"
    with pytest.raises(VerdictError):
        parse_extracted("two\nlines")
    with pytest.raises(VerdictError):
        parse_extracted("  ", "whole")
