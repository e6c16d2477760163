"""The example CI gate end to end: the workflow's own commands on a fresh offline demo run,
against the checked-in golden file (and a tampered copy, which must fail the gate)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("pocketsphinx")
pytest.importorskip("rapidocr")

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "lmms-eval-gate.yml"
GOLDEN = ROOT / "examples" / "ci" / "golden.json"


def _commands() -> list[str]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["gate"]["steps"]
    return [s["run"] for s in steps if "run" in s and s["run"].lstrip().startswith("lmms-eval")]


def _bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "LMMS_EVAL_CACHE": str(cwd / "cache"),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
    }
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_golden_file_is_a_valid_golden_of_the_demo() -> None:
    golden = json.loads(GOLDEN.read_text())
    assert golden["format"] == "lmms-eval-golden"
    assert set(golden["tasks"]) == {"demo_asr", "demo_asr_long", "demo_ocr"}
    assert golden["config"]["limit"] == 2
    assert golden["tasks"]["demo_asr"]["wer,none"]["higher_is_better"] is False


def test_workflow_commands_pass_on_a_fresh_demo_run_and_fail_on_a_regression(tmp_path: Path) -> None:
    evaluate, gate = _commands()
    assert "--limit" in evaluate and "--baseline examples/ci/golden.json" in gate
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    run = _bash(evaluate, tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    out = _bash(gate, tmp_path)
    report = (tmp_path / "compare.md").read_text()
    assert out.returncode == 0, report + out.stderr
    assert "**no regression" in report and "| demo_asr | wer,none (%) ↓ |" in report
    assert "not like for like" not in report  # same config, tasks and data as the golden run
    # the same gate against a golden that expects a better WER than the run gives: exit 1
    golden = json.loads(GOLDEN.read_text())
    golden["tasks"]["demo_asr"]["wer,none"]["value"] -= 5.0
    (tmp_path / "stricter.json").write_text(json.dumps(golden))
    out = _bash(gate.replace("examples/ci/golden.json", "stricter.json"), tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "REGRESSION" in (tmp_path / "compare.md").read_text()
