"""The command line under bad input, full disks, signals and changed data: one clear line, the
right exit code, no stray run folder, nothing finished lost."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import resource
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SCRIPTED = "scripted_model:ScriptedModel"
MODEL_DIR = "scripted_model_ScriptedModel"


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lmms_eval", *args], capture_output=True, text=True, env=env(), timeout=120, **kw
    )


def run_args(toy_tasks: Path, out: Path, *extra: str) -> list[str]:
    return ["--model", SCRIPTED, "--tasks", "say_word", "--include_path", str(toy_tasks), "--output_path", str(out)]


def comparable(results_path: Path) -> dict:
    data = json.loads(results_path.read_text())
    for volatile in ("date", "timing"):
        data.pop(volatile)
    return data


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--limit", "0"], "--limit must be > 0"),
        (["--limit", "-1"], "--limit must be > 0"),
        (["--limit", "2.5"], "give a whole number"),
        (["--offset", "-1"], "--offset must be >= 0"),
        (["--offset", "12"], "--offset 12 is past the end of task 'say_word' (12 documents)"),
        (["--batch_size", "0"], "--batch_size must be a whole number >= 1"),
        (["--batch_size", "-2"], "--batch_size must be a whole number >= 1"),
        (["--max_error_rate", "2"], "--max_error_rate is a share of samples in [0, 1]"),
        (["--modle", "x"], "unknown flag '--modle'. Did you mean '--model'"),
        (["--limit", "abc"], "invalid float value: 'abc'"),
    ],
)
def test_bad_numbers_and_flags_are_usage_errors(toy_tasks: Path, tmp_path: Path, flags, expected) -> None:
    out = cli(*run_args(toy_tasks, tmp_path), "--no_progress", *flags)
    assert out.returncode == 2, out.stderr
    assert expected in one_line(out.stderr)
    assert not (tmp_path / MODEL_DIR).exists(), "a refused run leaves no run folder"


def test_tasks_pattern_that_matches_nothing(toy_tasks: Path) -> None:
    out = cli("tasks", "say_wrd", "--include_path", str(toy_tasks))
    assert out.returncode == 2
    assert "no task, group or tag matches 'say_wrd'. Did you mean 'say_word'" in one_line(out.stderr)
    found = cli("tasks", "say", "--include_path", str(toy_tasks))  # a plain word matches as a substring
    assert found.returncode == 0 and "say_word" in found.stdout and "say_upper" in found.stdout


def test_failures_before_the_first_sample_leave_no_run_folder(toy_tasks: Path, tmp_path: Path) -> None:
    bad_args = cli(*run_args(toy_tasks, tmp_path), "--model_args", "batch=-x", "--no_progress")
    assert bad_args.returncode == 2
    (toy_tasks / "data" / "words.jsonl").write_text('{"qid": "q0", "word": "w0", "answer": "w0"}\n{broken\n')
    bad_data = cli(*run_args(toy_tasks, tmp_path), "--no_progress")
    assert bad_data.returncode == 1 and "words.jsonl:2 is not valid JSON" in one_line(bad_data.stderr)
    assert not (tmp_path / MODEL_DIR).exists(), list((tmp_path / MODEL_DIR).iterdir())


def test_resume_skips_a_run_that_wrote_no_sample(toy_tasks: Path, tmp_path: Path) -> None:
    """A run killed while loading the model (run.json, no sample) is not the one --resume continues."""
    first = cli(*run_args(toy_tasks, tmp_path), "--no_progress", "--limit", "2")
    assert first.returncode == 0, first.stderr
    (run_dir,) = (tmp_path / MODEL_DIR).iterdir()
    for log in run_dir.glob("samples_*.jsonl"):
        log.write_text("")
    (run_dir / "results.json").unlink()
    again = cli(*run_args(toy_tasks, tmp_path), "--no_progress", "--limit", "2", "--resume")
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / MODEL_DIR).iterdir())) == 2


def test_resume_refuses_changed_data(toy_tasks: Path, tmp_path: Path) -> None:
    args = [*run_args(toy_tasks, tmp_path), "--no_progress", "--model_args", "sleep_s=0.2,batch=1", "--limit", "4"]
    proc = subprocess.Popen([sys.executable, "-m", "lmms_eval", *args], env=env(), stderr=subprocess.DEVNULL)
    wait_for_samples(tmp_path, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = toy_tasks / "data" / "words.jsonl"
    data.write_text(data.read_text().replace('"w2"', '"changed"'))
    out = cli(*args, "--resume")
    assert out.returncode == 2
    line = one_line(out.stderr)
    assert "the data of task 'say_word' changed since run" in line and "lmms-eval score" in line
    assert not list(tmp_path.rglob("results.json"))


def wait_for_samples(out: Path, n: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if sum(len(p.read_bytes().splitlines()) for p in out.rglob("samples_*.jsonl")) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {n} samples written in {timeout} s")


def test_full_disk_names_the_file_and_resume_finishes(toy_tasks: Path, tmp_path: Path) -> None:
    """A file-size limit makes writes fail (EFBIG) like a full disk: the error names the sample log
    and the fix; --resume afterwards ends with the results of an uninterrupted run."""
    common = ["--model", SCRIPTED, "--tasks", "say_word", "--include_path", str(toy_tasks), "--no_progress"]
    clean = cli(*common, "--output_path", str(tmp_path / "clean"))
    expected = comparable(next((tmp_path / "clean").rglob("results.json")))

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2500, resource.RLIM_INFINITY))

    full = cli(*common, "--output_path", str(tmp_path / "full"), preexec_fn=small_files)
    assert clean.returncode == 0 and full.returncode == 1, full.stderr
    line = one_line(full.stderr)
    assert "cannot write " in line and "samples_say_word.jsonl: File too large" in line and "--resume" in line
    resumed = cli(*common, "--output_path", str(tmp_path / "full"), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(next((tmp_path / "full").rglob("results.json"))) == expected


def test_unwritable_output_folder_names_the_path(toy_tasks: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = cli(*run_args(toy_tasks, blocker / "logs"), "--no_progress")
    assert out.returncode == 1
    line = one_line(out.stderr)
    assert f"cannot write {blocker}" in line and "--output_path" in line


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_cleanly_and_resume(toy_tasks: Path, tmp_path: Path, signame: str) -> None:
    common = ["--model", SCRIPTED, "--tasks", "say_word", "--include_path", str(toy_tasks), "--no_progress"]
    common += ["--model_args", "sleep_s=0.1,batch=1"]
    clean = cli(*common, "--output_path", str(tmp_path / "clean"))
    expected = comparable(next((tmp_path / "clean").rglob("results.json")))
    out_dir = tmp_path / "stopped"
    args = [*common, "--output_path", str(out_dir)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval", *args], env=env(), stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    wait_for_samples(out_dir, 3)
    signum = getattr(signal, signame)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert clean.returncode == 0 and proc.returncode == 128 + signum, stderr
    assert f"stopped by {signame}; finished samples are saved; rerun with --resume" in one_line(stderr)
    resumed = cli(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(next(out_dir.rglob("results.json"))) == expected


def test_judge_flag_without_judged_tasks_warns(toy_tasks: Path, tmp_path: Path) -> None:
    out = cli(*run_args(toy_tasks, tmp_path), "--no_progress", "--judge", "model=x,base_url=http://127.0.0.1:9/v1")
    assert out.returncode == 0, out.stderr
    assert "--judge is ignored: none of the selected tasks (say_word) has a judge: block" in out.stderr


def test_table_shows_each_metrics_scale(tmp_path: Path, toy_tasks: Path) -> None:
    from lmms_eval.reporting.table import results_table

    out = cli(*run_args(toy_tasks, tmp_path), "--no_progress")
    assert "| exact_match (0-1) |" in out.stdout
    results = {
        "results": {"asr": {"wer,none": 12.5, "cer,none": 3.0}},
        "higher_is_better": {"asr": {"wer": False, "cer": False}},
        "units": {"asr": {"wer": "%", "cer": "%"}},
    }
    table = results_table(results)
    assert "| wer (%) | ↓ | 12.5000 |" in table and "| cer (%) |" in table


def test_progress_says_the_task_and_phase(toy_tasks: Path, tmp_path: Path) -> None:
    logged = cli(*run_args(toy_tasks, tmp_path / "log"), "--limit", "3")
    assert logged.returncode == 0 and "generating say_word" in logged.stderr
    # on a terminal the phases are named as they start
    code, seen = on_a_terminal(*run_args(toy_tasks, tmp_path / "tty"), "--limit", "3")
    assert code == 0 and "loading model scripted" in seen and "generating say_word" in seen
    code, seen = on_a_terminal("score", str(next((tmp_path / "tty").rglob("run.json")).parent))
    assert code == 0 and "scoring say_word" in seen


def on_a_terminal(*args: str) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal 120 columns wide; its exit code and stderr."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmms_eval", *args], env=env(), stdout=subprocess.DEVNULL, stderr=slave
    )
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        try:
            chunk = os.read(master, 4096) if ready else b""
        except OSError:
            chunk = b""
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, seen.decode(errors="replace")


def test_metrics_and_filters_subcommands_list_the_names_errors_point_to() -> None:
    metrics = cli("metrics")
    assert metrics.returncode == 0, metrics.stderr
    assert "exact_match" in metrics.stdout and "wer" in metrics.stdout and "unit %" in metrics.stdout
    assert "aggregations" in metrics.stdout and "mean" in metrics.stdout
    filters = cli("filters")
    assert filters.returncode == 0 and "regex" in filters.stdout


def test_validate_knows_the_include_path_root(toy_tasks: Path) -> None:
    shared = toy_tasks / "shared"
    shared.mkdir()
    (shared / "common.py").write_text("def text(doc):\n    return 'Say ' + doc['word']\n")
    sub = toy_tasks / "sub"
    sub.mkdir()
    (sub / "data").symlink_to(toy_tasks / "data")
    (sub / "uses_shared.yaml").write_text(
        "task: uses_shared\ndataset_path: json\ndataset_kwargs: {data_files: data/words.jsonl}\ntest_split: train\n"
        "doc_to_text: !function ../shared/common.text\ndoc_to_target: answer\nmetric_list: [{metric: exact_match}]\n"
    )
    refused = cli("validate", str(sub / "uses_shared.yaml"))
    assert refused.returncode == 2 and "uses_shared.yaml" in refused.stdout
    ok = cli("validate", str(sub / "uses_shared.yaml"), "--include_path", str(toy_tasks), "--check_data")
    assert ok.returncode == 0, ok.stdout
