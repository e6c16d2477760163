"""The CLI as users run it: subprocesses, exit codes, one-line errors, resume after SIGKILL, plugins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SCRIPTED = "scripted_model:ScriptedModel"


def cli(*args: str, env_extra: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "lmms_eval", *args], capture_output=True, text=True, env=env, timeout=120, **kw
    )


def comparable(results_path: Path) -> dict:
    data = json.loads(results_path.read_text())
    for volatile in ("date", "timing"):
        data.pop(volatile)
    return data


def test_tasks_and_models_listing(toy_tasks: Path) -> None:
    out = cli("tasks", "--include_path", str(toy_tasks))
    assert out.returncode == 0
    assert "say_word" in out.stdout and "toy_group" in out.stdout and "demo_asr" in out.stdout
    models = cli("models")
    assert models.returncode == 0 and "qwen2_5_vl" in models.stdout and "demo" in models.stdout


def test_listing_does_not_import_torch(toy_tasks: Path) -> None:
    code = (
        "import sys; from lmms_eval.cli.main import main; main(['tasks']); main(['models']);"
        "assert 'torch' not in sys.modules and 'datasets' not in sys.modules, 'heavy import'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["--model", SCRIPTED, "--tasks", "say_wrod"], "unknown task 'say_wrod'. Did you mean 'say_word'"),
        (["--model", "qwen2_5_v", "--tasks", "say_word"], "unknown model 'qwen2_5_v'. Did you mean 'qwen2_5_vl'"),
        (
            ["--model", SCRIPTED, "--tasks", "say_word", "--model_args", "batchsize=3"],
            "has no argument 'batchsize'. Did you mean 'batch'",
        ),
        (["--model", SCRIPTED, "--tasks", "say_word", "--model_args", "oops"], "cannot read 'oops' as key=value"),
        (["--tasks", "say_word"], "--model is required"),
    ],
)
def test_usage_errors_are_one_line_exit_2(toy_tasks: Path, tmp_path: Path, args: list[str], pattern: str) -> None:
    out = cli(*args, "--include_path", str(toy_tasks), "--output_path", str(tmp_path))
    assert out.returncode == 2, out.stderr
    assert pattern in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_broken_yaml_names_file_and_line(toy_tasks: Path, tmp_path: Path) -> None:
    (toy_tasks / "say_word.yaml").write_text("task: say_word\ndataset_path: json\n  bad: indent\n")
    out = cli("--model", SCRIPTED, "--tasks", "say_word", "--include_path", str(toy_tasks))
    assert out.returncode == 2 and "say_word" in out.stderr and "Traceback" not in out.stderr


def test_validate_subcommand(toy_tasks: Path) -> None:
    ok = cli("validate", str(toy_tasks / "say_word.yaml"), str(toy_tasks / "toy_group.yaml"), "--check_data")
    assert ok.returncode == 0 and ok.stdout.count("ok ") == 2
    (toy_tasks / "typo.yaml").write_text("task: typo\ndataset_path: json\nmetrc_list: []\n")
    bad = cli("validate", str(toy_tasks / "typo.yaml"))
    assert bad.returncode == 2 and "Did you mean 'metric_list'" in bad.stdout


def test_run_prints_table_and_writes_outputs(toy_tasks: Path, tmp_path: Path) -> None:
    out = cli(
        "--model",
        SCRIPTED,
        "--tasks",
        "toy_group",
        "--include_path",
        str(toy_tasks),
        "--output_path",
        str(tmp_path),
        "--no_progress",
        "--log_samples",
    )
    assert out.returncode == 0, out.stderr
    assert "| say_word" in out.stdout and "exact_match" in out.stdout and "0.6667" in out.stdout
    run_dir = next((tmp_path / "scripted_model_ScriptedModel").iterdir())
    assert {p.name for p in run_dir.iterdir()} >= {"results.json", "run.json", "samples_say_word.jsonl"}


def test_config_file_and_flag_override(toy_tasks: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"model: {SCRIPTED}\ntasks: [say_word]\ninclude_path: [{toy_tasks}]\nlimit: 3\n")
    out = cli("--config", str(cfg), "--limit", "5", "--output_path", str(tmp_path / "o"), "--no_progress")
    assert out.returncode == 0, out.stderr
    results = json.loads(next((tmp_path / "o").rglob("results.json")).read_text())
    assert results["n-samples"]["say_word"]["effective"] == 5


def test_sigkill_then_resume_matches_uninterrupted(toy_tasks: Path, tmp_path: Path) -> None:
    common = [
        "--model",
        SCRIPTED,
        "--tasks",
        "toy_group",
        "--include_path",
        str(toy_tasks),
        "--model_args",
        "sleep_s=0.04,batch=1",
        "--no_progress",
    ]
    clean = cli(*common, "--output_path", str(tmp_path / "clean"))
    assert clean.returncode == 0, clean.stderr
    expected = comparable(next((tmp_path / "clean").rglob("results.json")))

    out_dir = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    for kill_after in (3, 11):
        proc = subprocess.Popen(
            [sys.executable, "-m", "lmms_eval", *common, "--output_path", str(out_dir), "--resume"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            done = sum(len(p.read_bytes().splitlines()) for p in out_dir.rglob("samples_*.jsonl"))
            if done >= kill_after:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not list(out_dir.rglob("results.json")), "the run was killed before finishing"
    resumed = cli(*common, "--output_path", str(out_dir), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    run_dirs = list((out_dir / "scripted_model_ScriptedModel").iterdir())
    assert len(run_dirs) == 1, "resume must continue the same run folder"
    assert comparable(run_dirs[0] / "results.json") == expected
    # every sample exactly once among the ok records
    ids = [json.loads(line)["id"] for p in run_dirs[0].glob("samples_*.jsonl") for line in p.read_text().splitlines()]
    assert len(set(ids)) == 24


def test_plugin_package_provides_model_task_and_metric(tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(TESTS / "plugin_pkg"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    env = {"PYTHONPATH": str(target)}
    listed = cli("tasks", env_extra=env)
    assert "plugin_words" in listed.stdout
    assert "plugin_reverse" in cli("models", env_extra=env).stdout
    out = cli(
        "--model",
        "plugin_reverse",
        "--tasks",
        "plugin_words",
        "--output_path",
        str(tmp_path / "o"),
        "--no_progress",
        env_extra=env,
    )
    assert out.returncode == 0, out.stderr
    results = json.loads(next((tmp_path / "o").rglob("results.json")).read_text())["results"]["plugin_words"]
    # reversed words: "cba" != "abc", "level" == "level", "yx", "noon": palindrome_match is 1 for all four,
    # exact_match only for the two palindromes.
    assert results["palindrome_match,none"] == 1.0
    assert results["exact_match,none"] == 0.5
