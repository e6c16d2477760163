"""``lmms-eval export``: leaderboard records from real run folders (the evaluator with the scripted
model, a judged toy task, MMMU val + test on its hub fixture) and from constructed ones: JSON and
CSV, the schema, the headline rule, redaction, gathered submission files."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write
from hub import common, mmmu
from hub.common import fixture_mirror, run_evaluator
from scripted_model import ScriptedModel
from servers import FaultServer, fault_server  # noqa: F401

from lmms_eval.cli.main import main
from lmms_eval.reporting.export import Run, build_records, config_hash, headline, load_run
from lmms_eval.reporting.export_schema import ExportSchemaError, load_schema, record_fields, validate_records
from lmms_eval.reporting.export_write import render
from lmms_eval.reporting.redact import REDACTED, clear_secrets

SCHEMA = Path(__file__).parents[2] / "docs" / "schemas" / "leaderboard_record.schema.json"


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def by_task(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["task"]: r for r in records}


# ---- a real run of the toy tasks ------------------------------------------------------------------
def toy_run(toy_tasks: Path, tmp_path: Path, **cfg: Any) -> tuple[dict[str, Any], Path]:
    return run_evaluator(tmp_path, ["toy_group"], ScriptedModel(), include_path=[str(toy_tasks)], **cfg)


def test_json_export_of_a_real_run(toy_tasks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, run_dir = toy_run(toy_tasks, tmp_path, limit=9)
    code, out, _ = export(capsys, str(run_dir))
    assert code == 0
    records = json.loads(out)
    assert [r["task"] for r in records] == ["say_word", "say_upper", "toy_group"]
    word = by_task(records)["say_word"]
    assert list(word) == record_fields()  # every field, in schema order
    # 9 docs: i % 3 == 0 (0, 3, 6) have a wrong reference -> 6/9 right
    assert word["value"] == pytest.approx(6 / 9)
    assert word["stderr"] == pytest.approx(results["results"]["say_word"]["exact_match_stderr,none"])
    assert (word["metric"], word["filter"], word["headline_source"]) == ("exact_match", "none", "metric_list")
    assert word["kind"] == "task" and word["model"] == "scripted" and word["limit"] == 9
    assert word["tasks"] == ["say_word", "say_upper", "toy_group"]
    assert (word["n_samples"], word["n_errors"]) == (9, 0)
    assert word["task_hash"] == results["task_hashes"]["say_word"]
    assert word["dataset_id"] == "json" and word["dataset_split"] == "train"
    assert word["dataset_fingerprint"] == results["dataset"]["say_word"]["fingerprint"]
    assert word["harness_version"] == results["environment"]["packages"]["lmms_eval"]
    assert word["git_revision"] == results["git_hash"]
    assert word["judge_model"] is None and word["submission_file"] is None
    assert re.fullmatch(r"[0-9a-f]{16}", word["config_hash"])
    group = by_task(records)["toy_group"]
    assert group["kind"] == "group" and group["headline_source"] == "group"
    assert group["value"] == pytest.approx(6 / 9) and group["n_samples"] == 18 and group["n_errors"] == 0
    assert group["task_hash"] is None and group["dataset_id"] is None


def test_csv_export_to_a_file(toy_tasks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, run_dir = toy_run(toy_tasks, tmp_path, model_args={"pretrained": "org/tiny"})
    target = tmp_path / "board.csv"
    code, out, err = export(capsys, str(run_dir), "--format", "csv", "--output", str(target))
    assert code == 0 and out == "" and "wrote 3 records" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert list(rows[0]) == record_fields()
    assert [r["task"] for r in rows] == ["say_word", "say_upper", "toy_group"]
    assert float(rows[0]["value"]) == pytest.approx(8 / 12)
    assert json.loads(rows[0]["model_args"]) == {"pretrained": "org/tiny"}  # objects as JSON
    assert json.loads(rows[0]["tasks"]) == ["say_word", "say_upper", "toy_group"]
    assert rows[0]["higher_is_better"] == "true" and rows[0]["judge_model"] == ""  # null: empty cell
    assert rows[2]["task_hash"] == ""


def test_config_hash_follows_the_configuration(toy_tasks: Path, tmp_path: Path) -> None:
    first, _ = toy_run(toy_tasks, tmp_path / "a")
    again, _ = toy_run(toy_tasks, tmp_path / "b")
    other, _ = toy_run(toy_tasks, tmp_path / "c", gen_kwargs={"temperature": 0.5})
    assert config_hash(first) == config_hash(again)  # timing and date are left out
    assert config_hash(first) != config_hash(other)
    edited = copy.deepcopy(first)
    edited["task_hashes"]["say_word"] = "0" * 16
    assert config_hash(edited) != config_hash(first)


# ---- the judge --------------------------------------------------------------------------------------
JUDGED = """task: judged
include: _base_yaml
doc_id_column: qid
doc_to_text: 'Say {{word}}'
judge:
  type: binary
  metric: judge_acc
"""


def test_judged_task_headline_and_judge_fields(
    fault_server: FaultServer,  # noqa: F811
    toy_tasks: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "judge-secret-0123456789"
    monkeypatch.setenv("MY_JUDGE_KEY", secret)
    (toy_tasks / "judged.yaml").write_text(JUDGED)
    judge = f"model=fake-judge,base_url={fault_server.base_url},api_key_env=MY_JUDGE_KEY"
    _, run_dir = run_evaluator(tmp_path, ["judged"], ScriptedModel(), include_path=[str(toy_tasks)], judge=judge)
    (record,) = build_records(load_run(str(run_dir)))
    validate_records([record])
    # the server's default reply "Verdict: correct" -> every sample right by the judge (8/12 by rule)
    assert (record["metric"], record["headline_source"], record["value"]) == ("judge_acc", "judge", 1.0)
    assert record["judge_model"] == "fake-judge"
    logged = {json.loads(line)["judge"]["template_hash"] for line in (run_dir / "samples_judged.jsonl").open()}
    assert [record["judge_prompt_hash"]] == sorted(logged) and re.fullmatch(r"[0-9a-f]{16}", logged.pop())
    assert secret not in json.dumps(record)

    # the same task without --judge: the judge metric is not computed, metric_list's first metric heads
    _, plain_dir = run_evaluator(tmp_path / "plain", ["judged"], ScriptedModel(), include_path=[str(toy_tasks)])
    (plain,) = build_records(load_run(str(plain_dir)))
    assert (plain["metric"], plain["headline_source"]) == ("exact_match", "metric_list")
    assert plain["value"] == pytest.approx(8 / 12) and plain["judge_model"] is None
    assert plain["config_hash"] != record["config_hash"]


# ---- the headline rule on constructed entries ---------------------------------------------------
def test_headline_rule() -> None:
    entry = {"alias": "t", "acc_rule,none": 0.5, "acc_rule_stderr,none": 0.1, "acc,none": 0.7, "acc_stderr,none": 0.1}
    cfg = {"metric_list": [{"metric": "acc_rule"}], "judge": {"type": "extract", "metric": "acc"}}
    assert headline(entry, cfg) == headline(entry, {**cfg, "judge": [cfg["judge"], {"metric": "x"}]})
    assert (headline(entry, cfg).metric, headline(entry, cfg).source) == ("acc", "judge")
    skipped = {**entry, "acc,none": None}  # judge not run: the rule metric
    assert (headline(skipped, cfg).metric, headline(skipped, cfg).source) == ("acc_rule", "metric_list")
    # the first filter_list pipeline, not the first key recorded
    entry2 = {"em,lenient": 0.9, "em,strict": 0.4}
    cfg2 = {"metric_list": [{"metric": "em"}], "filter_list": [{"name": "strict"}, {"name": "lenient"}]}
    assert headline(entry2, cfg2).filter == "strict"
    assert headline(entry2, {"metric_list": [{"metric": "em"}]}).filter == "lenient"  # no 'none': first recorded
    # no metric_list, no judge: the first metric results.json records (breakdowns and stderrs skipped)
    entry3 = {"alias": "t", "f1_stderr,none": 0.1, "f1,none,cat=a": 1.0, "f1,none": 0.3}
    assert (headline(entry3, {}).metric, headline(entry3, {}).source) == ("f1", "results")
    assert headline({"alias": "t", "n_samples": 3}, {}).source == "none"
    # predict-only: the metric named, no value
    assert headline({"alias": "t", "n_samples": 3}, {"metric_list": [{"metric": "acc"}]}).metric == "acc"


# ---- schema ----------------------------------------------------------------------------------------
def constructed_results() -> dict[str, Any]:
    return {
        "results": {"t1": {"alias": "t1", "acc,none": 0.25, "acc_stderr,none": 0.05, "n_samples": 4, "n_errors": 1}},
        "configs": {"t1": {"task": "t1", "metric_list": [{"metric": "acc"}]}},
        "versions": {"t1": 1},
        "higher_is_better": {"t1": {"acc": True}},
        "config": {"model": "openai_compat", "model_args": {"model": "gpt-x"}, "limit": None},
        "task_hashes": {"t1": "abcdef0123456789"},
        "dataset": {"t1": {"path": "org/data", "name": "cfg", "split": "test", "revision": "r1", "fingerprint": "f"}},
        "git_hash": None,
        "environment": {"packages": {"lmms_eval": "0.1.0"}},
        "date": "2026-01-01T00:00:00",
    }


def make_run(tmp_path: Path, results: dict[str, Any]) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "results.json").write_text(json.dumps(results))
    return run_dir


def test_schema_file_is_the_one_checked_in_and_records_validate(tmp_path: Path) -> None:
    assert load_schema() == json.loads(SCHEMA.read_text())
    assert set(load_schema()["required"]) == set(record_fields())
    (record,) = build_records(load_run(str(make_run(tmp_path, constructed_results()))))
    validate_records([record])
    assert record["dataset_revision"] == "r1" and record["n_errors"] == 1 and record["value"] == 0.25


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.pop("config_hash"), "config_hash"),
        (lambda r: r.update(value="0.25"), "value"),
        (lambda r: r.update(n_errors=-1), "n_errors"),
        (lambda r: r.update(kind="suite"), "kind"),
        (lambda r: r.update(extra_field=1), "extra_field"),
    ],
)
def test_a_record_that_breaks_the_schema_fails(tmp_path: Path, change: Any, where: str) -> None:
    (record,) = build_records(load_run(str(make_run(tmp_path, constructed_results()))))
    change(record)
    with pytest.raises(ExportSchemaError, match=f"task 't1'.*{where}|{where}.*task 't1'"):
        validate_records([record])


def test_cli_fails_loudly_on_an_invalid_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmms_eval.reporting import export as export_module

    real = export_module.build_records
    monkeypatch.setattr(export_module, "build_records", lambda run: [{**r, "n_samples": "4"} for r in real(run)])
    target = tmp_path / "out.json"
    code, _, err = export(capsys, str(make_run(tmp_path, constructed_results())), "--output", str(target))
    assert code == 1 and "bug: the export record of task 't1'" in err and "n_samples" in err
    assert not target.exists()


def test_bad_inputs_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = export(capsys, str(tmp_path / "missing"))
    assert code == 2 and "is not a run folder" in err
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "run.json").write_text("{}")
    code, _, err = export(capsys, str(unfinished))
    assert code == 2 and "has not finished" in err and "lmms-eval score" in err
    broken = make_run(tmp_path / "b", constructed_results())
    (broken / "results.json").write_text("{not json")
    code, _, err = export(capsys, str(broken))
    assert code == 2 and "cannot read" in err and err.count("\n") == 1
    code, _, err = export(capsys, str(make_run(tmp_path / "c", constructed_results())), "--format", "xml")
    assert code == 2 and "invalid choice" in err


# ---- redaction ---------------------------------------------------------------------------------------
def test_secrets_are_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hf_token = "hf_" + "a" * 30
    signature = "signature-value-42"
    monkeypatch.setenv("HF_TOKEN", hf_token)
    monkeypatch.setenv("SIG", signature)
    monkeypatch.setenv("LMMS_EVAL_REDACT", "SIG")
    results = constructed_results()
    results["config"]["model_args"] = {  # as an older or hand-made results.json might hold them
        "model": "gpt-x",
        "api_key": "sk-" + "b" * 30,
        "base_url": f"https://proxy.example/v1?t={hf_token}",
        "extra_body": json.dumps({"x_sig": signature}),
        "default_headers": {"X-Auth": "some-header-secret"},
        "max_tokens": 64,
    }
    (record,) = build_records(load_run(str(make_run(tmp_path, results))))
    text = render([record], "json") + render([record], "csv")
    for secret in (hf_token, signature, "b" * 30, "some-header-secret"):
        assert secret not in text
    args = record["model_args"]
    assert args["api_key"] == REDACTED and args["default_headers"] == {"X-Auth": REDACTED}
    assert args["base_url"] == f"https://proxy.example/v1?t={REDACTED}"
    assert args["model"] == "gpt-x" and args["max_tokens"] == 64  # the rest kept


# ---- submissions -----------------------------------------------------------------------------------
SUBMITTING = """task: answered
include: _base_yaml
doc_id_column: qid
doc_to_text: 'Say {{word}}'
submission: !function subm.write
"""


def test_submissions_gathered_with_a_manifest(
    toy_tasks: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (toy_tasks / "answered.yaml").write_text(SUBMITTING)
    write(
        toy_tasks / "subm.py",
        "def write(records):\n    return 'answers.json', {r.doc_id: r.raw_output for r in records}\n",
    )
    _, run_dir = run_evaluator(
        tmp_path, ["answered", "say_word"], ScriptedModel(), include_path=[str(toy_tasks)], predict_only=True, limit=3
    )
    dest = tmp_path / "export" / "subs"
    code, out, err = export(capsys, str(run_dir), "--submissions", str(dest))
    assert code == 0 and "copied 1 submission files" in err
    original = (run_dir / "submissions" / "answers.json").read_bytes()
    assert (dest / "answers.json").read_bytes() == original
    assert json.loads(original) == {"q0": "w0", "q1": "w1", "q2": "w2"}
    digest = hashlib.sha256(original).hexdigest()
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["model"] == "scripted"
    assert manifest["files"] == [
        {
            "task": "answered",
            "file": "answers.json",
            "bytes": len(original),
            "sha256": digest,
            "dataset_id": "json",
            "dataset_split": "train",
        }
    ]
    records = by_task(json.loads(out))
    assert manifest["config_hash"] == records["answered"]["config_hash"]
    assert records["answered"]["submission_file"] == "submissions/answers.json"
    assert records["answered"]["submission_sha256"] == digest
    assert records["say_word"]["submission_file"] is None
    # predict-only: the headline metric is named, its value is null
    assert records["answered"]["metric"] == "exact_match" and records["answered"]["value"] is None


def test_submission_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = make_run(tmp_path, constructed_results())
    code, _, err = export(capsys, str(run_dir), "--submissions", str(tmp_path / "subs"))
    assert code == 2 and "wrote no submission files" in err
    failed = constructed_results()
    failed["submissions"] = {"t1": {"error": "submission writer w failed: KeyError: 'pid'"}}
    run_dir = make_run(tmp_path / "f", failed)
    code, _, err = export(capsys, str(run_dir), "--submissions", str(tmp_path / "subs"))
    assert code == 1 and "no submission file for t1" in err and "KeyError" in err and "lmms-eval score" in err
    failed["submissions"] = {"t1": "submissions/gone.json"}
    run_dir = make_run(tmp_path / "g", failed)
    code, _, err = export(capsys, str(run_dir), "--submissions", str(tmp_path / "subs"))
    assert code == 1 and "gone.json" in err and "is missing" in err


# ---- a built-in test-split benchmark: MMMU val + test on its hub fixture -----------------------------
class MMMUModel(common.TableModel):
    answers = mmmu.ANSWERS


mirror = fixture_mirror(mmmu.build)


def test_mmmu_export_gathers_the_evalai_file(mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results, run_dir = run_evaluator(tmp_path, ["mmmu_val", "mmmu_test"], MMMUModel())
    dest = tmp_path / "subs"
    code, out, _ = export(capsys, str(run_dir), "--submissions", str(dest))
    assert code == 0
    records = by_task(json.loads(out))
    validate_records(records.values())
    test = records["mmmu_test"]
    assert test["submission_file"] == "submissions/mmmu_test_for_submission.json"
    assert (dest / "mmmu_test_for_submission.json").read_bytes() == (
        run_dir / "submissions" / "mmmu_test_for_submission.json"
    ).read_bytes()
    files = json.loads((dest / "manifest.json").read_text())["files"]
    # MMMU writes a prediction file for validation too; both are gathered, each with its split
    assert {f["task"]: f["dataset_split"] for f in files} == {"mmmu_val": "validation", "mmmu_test": "test"}
    assert sorted(p.name for p in dest.iterdir()) == sorted([*(f["file"] for f in files), "manifest.json"])
    assert test["dataset_split"] == "test" and test["metric"] == "mmmu_parse_rate"
    val = records["mmmu_val"]
    first = results["configs"]["mmmu_val"]["metric_list"][0]["metric"]
    assert val["metric"] == first and val["value"] == results["results"]["mmmu_val"][f"{first},{val['filter']}"]
    assert val["dataset_id"] == results["dataset"]["mmmu_val"]["path"]


def test_library_api_round_trip(tmp_path: Path) -> None:
    run = load_run(str(make_run(tmp_path, constructed_results()) / "results.json"))
    assert isinstance(run, Run) and run.run_dir == str(tmp_path / "run")
    assert json.loads(render(build_records(run), "json"))[0]["task"] == "t1"
