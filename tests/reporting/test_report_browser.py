"""The HTML report in a real headless Chromium driven by Selenium (chromedriver): the summary
table, a chart and the sample browser render; the page's own script runs under its
Content-Security-Policy; ticking "wrong only" changes the shown samples; the browser console holds
no error; a hostile model output stays text. A screenshot is written beside the page (and copied to
``$LMMS_EVAL_ARTIFACTS`` when set). Skipped where Chromium, chromedriver or Selenium are missing
(scripts/test installs them)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from lmms_eval.cli.main import main

from .report_runs import HOSTILE, REPLIES, toy_run

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
selenium = pytest.importorskip("selenium", reason="pip install selenium")
pytestmark = pytest.mark.skipif(
    BROWSER is None or DRIVER is None,
    reason="Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
)


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    yield driver
    driver.quit()


def shown(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return [card for card in driver.find_elements(By.CSS_SELECTOR, "article.sample") if card.is_displayed()]


def test_the_report_renders_and_filters_in_headless_chromium(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
        run = toy_run(tmp_path / "toy")
    page = tmp_path / "report.html"
    assert main(["report", str(run), "--output", str(page)]) == 0
    browser.get(page.as_uri())

    tables = browser.find_elements(By.CSS_SELECTOR, "table")
    assert tables and tables[0].is_displayed() and "qa_report exact_match" in tables[0].text  # the summary
    charts = browser.find_elements(By.CSS_SELECTOR, "div.chart svg")
    assert charts and charts[0].size["width"] > 100  # a chart, drawn
    cards = browser.find_elements(By.CSS_SELECTOR, "article.sample")
    assert len(cards) == len(REPLIES) + 1 and len(shown(browser)) == len(cards)  # the sample browser
    count = browser.find_element(By.ID, "f-count")
    assert count.text == f"{len(cards)} of {len(cards)} samples shown"  # the script ran under the CSP

    browser.find_element(By.ID, "f-wrong").click()  # "wrong only"
    after = shown(browser)
    wrong = [card for card in cards if card.get_attribute("data-wrong") == "1"]
    assert 0 < len(after) == len(wrong) < len(cards)
    assert count.text == f"{len(after)} of {len(cards)} samples shown"

    body = browser.find_element(By.TAG_NAME, "body").text
    assert HOSTILE in body  # shown as text, never run
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    if os.environ.get("LMMS_EVAL_ARTIFACTS"):
        shutil.copy(screenshot, Path(os.environ["LMMS_EVAL_ARTIFACTS"]) / "report.png")
