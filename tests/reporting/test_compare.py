"""``lmms-eval compare`` on constructed run folders: verdicts, exit codes, warnings, formats,
golden files and reported numbers."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from lmms_eval.api.record import SampleRecord
from lmms_eval.cli.main import main
from lmms_eval.engine.stats import mean_stderr

ROOT = Path(__file__).parents[2]


def _aggregate(metric: str, values: Sequence[Any]) -> float:
    if metric == "wer":
        return 100.0 * sum(v["errors"] for v in values) / sum(v["words"] for v in values)
    return sum(float(v) for v in values) / len(values)


def make_run(
    folder: Path,
    tasks: Mapping[str, Any],
    *,
    doc_ids: dict[str, list[int]] | None = None,
    gen: dict[str, Any] | None = None,
    prompt: str = "What is shown?",
    model_args: dict[str, Any] | None = None,
    task_hash: str = "h1",
    revision: str | None = None,
) -> Path:
    """A run folder as the evaluator writes it: results.json, run.json and one sample log per
    task. ``tasks``: task -> metric -> per-sample values (``wer`` values are {errors, words})."""
    folder.mkdir(parents=True)
    gen = gen if gen is not None else {"max_new_tokens": 16, "do_sample": False}
    results: dict[str, Any] = {}
    hib: dict[str, dict[str, bool]] = {}
    units: dict[str, dict[str, str]] = {}
    for task, metrics in tasks.items():
        ids = (doc_ids or {}).get(task) or list(range(len(next(iter(metrics.values())))))
        entry: dict[str, Any] = {"alias": task}
        for metric, values in metrics.items():
            entry[f"{metric},none"] = _aggregate(metric, values)
            numeric = [float(v) for v in values] if metric != "wer" else []
            entry[f"{metric}_stderr,none"] = mean_stderr(numeric) if numeric else 1.0
            hib.setdefault(task, {})[metric] = metric != "wer"
            units.setdefault(task, {})[metric] = "%" if metric == "wer" else "0-1"
        entry["n_samples"], entry["n_errors"] = len(ids), 0
        results[task] = entry
        with open(folder / f"samples_{task}.jsonl", "w") as fh:
            for i, doc in enumerate(ids):
                record = SampleRecord(
                    id=f"{task_hash}-{task}-{doc}",
                    task=task,
                    doc_id=f"d{doc}",
                    index=doc,
                    prompt=[
                        {
                            "role": "user",
                            "content": [{"type": "image", "path": f"/x/{doc}.png"}, {"type": "text", "text": prompt}],
                        }
                    ],
                    generation=gen,
                    raw_output="a",
                    scores={f"{m},none": vals[i] for m, vals in metrics.items()},
                )
                fh.write(record.to_json().decode() + "\n")
    payload = {
        "results": results,
        "higher_is_better": hib,
        "units": units,
        "versions": {t: 1 for t in tasks},
        "configs": {t: {"task": t, "doc_to_text": prompt, "generation_kwargs": {"max_new_tokens": 16}} for t in tasks},
        "config": {"model": "toy", "model_args": model_args or {}, "gen_kwargs": {}, "limit": None, "seed": 0},
        "task_hashes": {t: task_hash for t in tasks},
        "dataset": {t: {"path": "toy/data", "split": "test", "revision": revision} for t in tasks},
    }
    (folder / "results.json").write_text(json.dumps(payload))
    (folder / "run.json").write_text(json.dumps({"status": "finished", "config": {"include_path": []}}))
    return folder


def wer_samples(errors: list[int], words: int = 10) -> list[dict[str, float]]:
    return [{"errors": float(e), "words": float(words)} for e in errors]


def compare(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    code = main(["compare", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def compare_json(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, dict[str, Any]]:
    code, out, _ = compare(capsys, *argv, "--format", "json")
    return code, json.loads(out)


def row(result: dict[str, Any], task: str, metric: str) -> dict[str, Any]:
    return next(r for r in result["rows"] if r["task"] == task and r["metric"] == metric)


ACC_40 = [1] * 30 + [0] * 10  # 0.75


def test_no_change_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = {"toy_qa": {"exact_match": ACC_40}, "toy_asr": {"wer": wer_samples([1, 0, 2, 1, 0, 3, 1, 1])}}
    a = make_run(tmp_path / "a", tasks)
    b = make_run(tmp_path / "b", tasks)
    code, out, _ = compare(capsys, a, b)
    assert code == 0, out
    assert "no regression" in out and "REGRESSION" not in out
    code, result = compare_json(capsys, a, b)
    assert result["warnings"] == []
    qa, asr = row(result, "toy_qa", "exact_match,none"), row(result, "toy_asr", "wer,none")
    assert qa["test"]["method"] == "mcnemar exact" and qa["test"]["p_value"] == 1.0
    assert asr["test"]["method"] == "paired bootstrap" and asr["test"]["n_shared"] == 8
    assert qa["delta"] == 0.0 and qa["verdict"] == asr["verdict"] == "ok"


def test_significant_accuracy_drop_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}})
    # the candidate loses 10 of the 30 right answers and gains none: McNemar b=10, c=0
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": [1] * 20 + [0] * 20}})
    code, result = compare_json(capsys, a, b)
    assert code == 1
    r = row(result, "toy_qa", "exact_match,none")
    assert r["verdict"] == "regression"
    assert r["delta"] == pytest.approx(-0.25)
    assert r["test"]["discordant"] == {"baseline_only_right": 10, "candidate_only_right": 0}
    assert r["test"]["p_value"] == pytest.approx(2 / 2**10)
    assert result["regressions"] == 1
    code, out, _ = compare(capsys, a, b)
    assert code == 1 and "REGRESSION" in out


def test_drop_within_tolerance_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}})
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": [1] * 20 + [0] * 20}})
    assert compare(capsys, a, b, "--max-drop", "0.3")[0] == 0
    assert compare(capsys, a, b, "--max-drop", "exact_match=0.3")[0] == 0
    assert compare(capsys, a, b, "--max-drop", "toy_qa/exact_match=0.3", "--max-drop", "0.01")[0] == 0
    assert compare(capsys, a, b, "--max-drop", "exact_match=0.2")[0] == 1
    assert compare(capsys, a, b, "--max-drop", "wer=0.3")[0] == 1  # another metric's tolerance


def test_small_drop_is_not_significant_unless_fail_on_any(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}})
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": [1] * 29 + [0] * 11}})  # one answer lost
    code, result = compare_json(capsys, a, b)
    assert code == 0
    r = row(result, "toy_qa", "exact_match,none")
    assert r["verdict"] == "ok" and r["significant"] is False and "not significant" in r["note"]
    assert compare(capsys, a, b, "--fail-on", "any")[0] == 1
    assert compare(capsys, a, b, "--fail-on", "any", "--max-drop", "0.05")[0] == 0


def test_wer_direction_a_rise_is_the_regression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = wer_samples([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
    worse = wer_samples([3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2])
    a = make_run(tmp_path / "a", {"toy_asr": {"wer": base}})
    b = make_run(tmp_path / "b", {"toy_asr": {"wer": worse}})
    code, result = compare_json(capsys, a, b)
    r = row(result, "toy_asr", "wer,none")
    assert code == 1 and r["verdict"] == "regression"
    assert r["delta"] == pytest.approx(25.0 - 5.0)  # corpus WER in %
    assert r["test"]["method"] == "paired bootstrap" and r["test"]["ci_low"] > 0
    assert compare(capsys, a, b, "--max-drop", "wer=25")[0] == 0  # in the metric's own units (%)
    code, result = compare_json(capsys, b, a)  # the other way round: WER fell, an improvement
    assert code == 0 and row(result, "toy_asr", "wer,none")["verdict"] == "improved"


def test_mismatched_configs_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = {"toy_qa": {"exact_match": ACC_40}}
    a = make_run(tmp_path / "a", tasks)
    b = make_run(
        tmp_path / "b",
        tasks,
        gen={"max_new_tokens": 64, "do_sample": False},
        prompt="Describe the image.",
        model_args={"pretrained": "org/other"},
        task_hash="h2",
        revision="abc123",
    )
    code, out, _ = compare(capsys, a, b)
    assert code == 0
    assert "not like for like" in out
    code, result = compare_json(capsys, a, b)
    text = "\n".join(result["warnings"])
    assert "model_args differ" in text
    assert "prompts differ on 40 of 40 shared samples" in text
    assert "generation parameters differ on 40 of 40" in text
    assert "toy_qa: doc_to_text differ" in text
    assert "dataset revision differ" in text
    # samples still pair across the changed task config (paired on doc id + repeat, not record id)
    assert row(result, "toy_qa", "exact_match,none")["test"]["n_shared"] == 40


def test_media_paths_alone_do_not_warn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = {"toy_qa": {"exact_match": ACC_40}}
    a = make_run(tmp_path / "a", tasks)
    b = make_run(tmp_path / "b", tasks)
    log = b / "samples_toy_qa.jsonl"
    log.write_text(log.read_text().replace('"/x/', '"/elsewhere/x/'))
    assert compare_json(capsys, a, b)[1]["warnings"] == []


def test_disjoint_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": [1] * 10}}, doc_ids={"toy_qa": list(range(10))})
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": [1] * 9 + [0]}}, doc_ids={"toy_qa": list(range(10, 20))})
    code, result = compare_json(capsys, a, b)
    r = row(result, "toy_qa", "exact_match,none")
    assert r["test"]["method"] == "none" and r["test"]["n_shared"] == 0
    assert r["test"]["n_only_baseline"] == 10 and r["test"]["n_only_candidate"] == 10
    assert any("share no sample" in w for w in result["warnings"])
    assert "no test: tolerance alone" in r["note"]
    assert code == 1  # without a test, the 0.1 drop is judged by the tolerance (0) alone
    assert compare(capsys, a, b, "--max-drop", "0.1")[0] == 0


def test_partly_overlapping_samples_compare_the_intersection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": [1] * 20}}, doc_ids={"toy_qa": list(range(20))})
    b = make_run(
        tmp_path / "b", {"toy_qa": {"exact_match": [0] * 5 + [1] * 20}}, doc_ids={"toy_qa": list(range(-5, 20))}
    )
    code, result = compare_json(capsys, a, b)
    r = row(result, "toy_qa", "exact_match,none")
    assert r["test"]["n_shared"] == 20 and r["test"]["n_only_candidate"] == 5
    assert r["delta"] == pytest.approx(-0.2)  # the recorded values differ ...
    assert r["delta_tested"] == 0.0  # ... but on the shared samples nothing changed
    assert code == 0 and "tested on the 20 shared samples" in r["note"]
    assert any("20 shared, 0 in the baseline only, 5 in the candidate only" in w for w in result["warnings"])


def test_tasks_in_one_run_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}, "toy_old": {"exact_match": ACC_40}})
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": ACC_40}, "toy_new": {"exact_match": ACC_40}})
    code, result = compare_json(capsys, a, b)
    assert code == 1
    assert row(result, "toy_old", "exact_match,none")["verdict"] == "regression"
    assert "missing from the candidate" in row(result, "toy_old", "exact_match,none")["note"]
    assert row(result, "toy_new", "exact_match,none")["verdict"] == "new"
    assert compare(capsys, a, b, "--allow-missing")[0] == 0
    assert compare(capsys, a, b, "--tasks", "toy_qa")[0] == 0


def test_results_json_only_uses_recorded_stderrs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}})
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": [1] * 20 + [0] * 20}})
    for folder in (a, b):
        (folder / "samples_toy_qa.jsonl").unlink()
    code, result = compare_json(capsys, a / "results.json", b / "results.json")
    r = row(result, "toy_qa", "exact_match,none")
    sa, sb = mean_stderr([float(x) for x in ACC_40]), mean_stderr([1.0] * 20 + [0.0] * 20)
    z = -0.25 / math.sqrt(sa * sa + sb * sb)
    assert r["test"]["method"].startswith("z ")
    assert r["test"]["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert code == 1


def test_formats_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}})
    b = make_run(tmp_path / "b", {"toy_qa": {"exact_match": [1] * 20 + [0] * 20}})
    code, out, _ = compare(capsys, a, b, "--format", "markdown")
    assert code == 1
    assert "| task | metric | baseline | candidate | delta | p |" in out
    assert "| toy_qa | exact_match,none (0-1) ↑ | 0.7500 | 0.5000 | -0.2500 |" in out
    target = tmp_path / "out" / "cmp.json"
    code, out, err = compare(capsys, a, b, "--format", "json", "--output", target)
    assert code == 1 and out == "" and "REGRESSION" in err
    assert json.loads(target.read_text())["exit_code"] == 1


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_run(tmp_path / "a", {"toy_qa": {"exact_match": ACC_40}})
    assert compare(capsys, a)[0] == 2
    code, _, err = compare(capsys, a, tmp_path / "nope")
    assert code == 2 and "does not exist" in err
    assert compare(capsys, a, a, "--max-drop", "wer=lots")[0] == 2
    assert compare(capsys, a, a, "--fail-on", "sometimes")[0] == 2
    (tmp_path / "bad.json").write_text("{not json")
    code, _, err = compare(capsys, tmp_path / "bad.json", a)
    assert code == 2 and "not valid JSON" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = compare(capsys, empty, a)
    assert code == 2 and "no results.json" in err


def test_golden_file_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = {"toy_qa": {"exact_match": ACC_40}, "toy_asr": {"wer": wer_samples([1, 0, 2, 1])}}
    a = make_run(tmp_path / "a", tasks)
    code, out, _ = compare(capsys, "--write-golden", a, "--max-drop", "wer=2", "--max-drop", "0.05")
    golden = json.loads(out)
    assert code == 0 and golden["format"] == "lmms-eval-golden"
    assert golden["tasks"]["toy_asr"]["wer,none"] == {
        "value": 10.0,
        "tolerance": 2.0,
        "higher_is_better": False,
        "unit": "%",
    }
    assert golden["tasks"]["toy_qa"]["exact_match,none"]["tolerance"] == 0.05
    path = tmp_path / "golden.json"
    path.write_text(out)
    assert compare(capsys, "--baseline", path, a)[0] == 0
    # WER up by 2.5 points: beyond the golden's 2.0 (a regression), within an explicit wer=3
    worse = make_run(tmp_path / "w", {**tasks, "toy_asr": {"wer": wer_samples([2, 0, 2, 1])}})
    code, result = compare_json(capsys, "--baseline", path, worse)
    assert code == 1 and row(result, "toy_asr", "wer,none")["max_drop"] == 2.0
    assert compare(capsys, "--baseline", path, worse, "--max-drop", "wer=3")[0] == 0
    # shorthand golden: task -> metric -> number
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"tasks": {"toy_qa": {"exact_match": 0.8}}}))
    code, result = compare_json(capsys, "--baseline", short, a, "--max-drop", "0.1")
    assert code == 0 and row(result, "toy_qa", "exact_match,none")["baseline"] == 0.8
    assert compare(capsys, a, path)[0] == 2  # a golden file cannot be the candidate


REFERENCE = """
source: test
unit: "%"
tolerance: 1.0
models:
  Toy-7B:
    pretrained: [org/toy-7b]
    toy_qa:
      exact_match: 75.5
    toy_asr:
      wer: {value: 9.0, tolerance: 0.5}
    toy_missing:
      exact_match: 50
  Other:
    toy_qa:
      exact_match,none: {value: 7.5, scale: 10, unit: points}
"""


def test_reference_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tasks = {"toy_qa": {"exact_match": ACC_40}, "toy_asr": {"wer": wer_samples([1, 0, 2, 1])}}
    run = make_run(tmp_path / "a", tasks, model_args={"pretrained": "org/toy-7b"})
    ref = tmp_path / "reported.yaml"
    ref.write_text(REFERENCE)
    code, result = compare_json(capsys, "--reference", ref, run)
    assert result["model"] == "Toy-7B"  # matched by the run's pretrained id
    qa, asr = row(result, "toy_qa", "exact_match,none"), row(result, "toy_asr", "wer,none")
    assert qa["run"] == pytest.approx(75.0) and qa["conversion"] == "0-1 -> %" and qa["status"] == "match"
    assert asr["diff"] == pytest.approx(1.0) and asr["status"] == "above" and asr["worse"] is True
    assert row(result, "toy_missing", "exact_match,none")["status"] == "not in run"
    assert code == 1 and result["diverged"] == 1 and result["checked"] == 2
    assert (
        compare(capsys, "--reference", ref, run, "--tolerance", "2", "--model-name", "Toy-7B")[0] == 1
    )  # per-metric 0.5 wins
    code, out, _ = compare(capsys, "--reference", ref, run, "--model-name", "Other")
    assert code == 0 and "x10" in out
    assert compare(capsys, "--reference", ref, run, "--model-name", "Nobody")[0] == 2
    (tmp_path / "bad.yaml").write_text("models: [1, 2]")
    assert compare(capsys, "--reference", tmp_path / "bad.yaml", run)[0] == 2


def test_seed_reference_file_names_real_tasks_and_metrics() -> None:
    import yaml

    from lmms_eval.tasks import load_selection

    data = yaml.safe_load((ROOT / "examples" / "reference" / "seed_reported.yaml").read_text())
    assert {"Qwen2.5-VL-7B", "General STEM", "Aero-1-Audio"} <= set(data["models"])
    assert data["models"]["Qwen2.5-VL-7B"]["mmmu_val"]["mmmu_acc"] == 49.8
    names = sorted({t for m in data["models"].values() for t in m if t not in ("pretrained", "note")})
    selection = load_selection(names, [])
    for model in data["models"].values():
        for task, metrics in model.items():
            if task in ("pretrained", "note"):
                continue
            if task in selection.groups:
                continue  # a group's aggregate or report value: not a member task's metric
            known = {s.metric for s in selection.tasks[task].config.metric_list}
            known |= {j.metric_name for j in selection.tasks[task].judge_specs}
            for metric in metrics:
                assert metric.split(",")[0] in known, (task, metric)
