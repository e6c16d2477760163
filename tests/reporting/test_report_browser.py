"""The HTML report in a real headless browser (Chromium): the page's own script runs under its
Content-Security-Policy (the filter count is filled in), nothing is refused or fetched, no script
error, and a hostile model output stays text. Skipped where Chromium is not installed
(scripts/test installs it with apt)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lmms_eval.cli.main import main

from .report_runs import HOSTILE, toy_run

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (apt-get install chromium)")


def test_the_report_runs_in_a_headless_browser_with_nothing_refused(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
        run = toy_run(tmp_path / "toy")
    page = tmp_path / "report.html"
    assert main(["report", str(run), "--output", str(page)]) == 0
    assert BROWSER is not None
    out = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    # the inline script ran (the CSP hash allowed it): it wrote the count of shown samples
    count = re.search(r'id="f-count"[^>]*>([^<]*)<', dom)
    assert count is not None and re.fullmatch(r"\d+ of \d+ samples shown", count.group(1).strip()), dom[-2000:]
    console = out.stderr
    assert "Refused to" not in console, console[-3000:]  # no CSP violation: nothing blocked or fetched
    assert "Uncaught" not in console, console[-3000:]
    assert "pwned" not in console  # the hostile <script> in a model output never ran
    assert HOSTILE not in dom and "&lt;script&gt;alert" in dom  # it is shown as text
