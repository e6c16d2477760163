"""Every task YAML that ships with the package passes ``lmms-eval validate`` (as users run it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TASKS = Path(__file__).resolve().parents[1] / "lmms_eval" / "tasks"


def test_every_builtin_task_yaml_validates() -> None:
    yamls = sorted(str(p) for p in TASKS.rglob("*.yaml"))
    assert len(yamls) > 50
    out = subprocess.run(
        [sys.executable, "-m", "lmms_eval", "validate", *yamls], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) >= len(yamls) and all(line.startswith("ok") for line in lines), out.stdout[-3000:]
