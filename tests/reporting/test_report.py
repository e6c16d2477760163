"""``lmms-eval report``: one self-contained HTML file from real run folders (scripted model on the
demo OCR/ASR tasks, a toy task with breakdowns and hostile outputs, an agentic InfoSeek run)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile

from lmms_eval.cli.main import main
from lmms_eval.html_report.assets import JS, script_hash
from lmms_eval.html_report.markup import esc, fmt
from lmms_eval.html_report.samples import wer_by_length

from .report_runs import AGENT_TASK, HOSTILE, agent_run, demo_runs, toy_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The run folders, made once for the module (own task-index cache)."""
    root = tmp_path_factory.mktemp("report_runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LMMS_EVAL_CACHE", str(root / "cache"))
        a, b = demo_runs(root / "demo")
        yield {"a": a, "b": b, "toy": toy_run(root / "toy"), "agent": agent_run(root / "agent")}


def report(tmp_path: Path, *args: str) -> str:
    out = tmp_path / "report.html"
    assert main(["report", *args, "--output", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def results(run: Path) -> dict[str, Any]:
    return json.loads((run / "results.json").read_text())


def records(run: Path, task: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / f"samples_{task}.jsonl").read_text().splitlines()]


def external_refs(html: str) -> list[str]:
    """Attribute or CSS references that would make the browser fetch something."""
    attrs = re.findall(r"""\b(?:src|href|action|poster|data)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]*)""", html, re.I)
    css = re.findall(r"url\(\s*['\"]?\s*((?:https?:)?//[^)'\"]*)", html, re.I)
    return attrs + css + re.findall(r"<(?:link|iframe|object|embed)\b", html, re.I)


def test_single_run_report_holds_summary_charts_media_and_wer_by_length(runs: dict[str, Path], tmp_path: Path) -> None:
    html = report(tmp_path, str(runs["a"]))
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert external_refs(html) == []
    assert "http://" not in html and "https://" not in html  # no URL at all: no svg namespaces either
    res = results(runs["a"])["results"]
    for task, metrics in (("demo_ocr", ("exact_match", "anls")), ("demo_asr", ("wer", "cer"))):
        for metric in metrics:
            value, stderr = res[task][f"{metric},none"], res[task][f"{metric}_stderr,none"]
            row = re.search(rf"<td>{task}</td><td>{metric} [^<]*</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>", html)
            assert row is not None, (task, metric)
            assert row.groups() == (fmt(value), fmt(stderr))
    assert html.count("<svg") >= 2  # one bar chart per task (+ the WER-by-length chart)
    assert "<rect" in html or "<path" in html
    # the sample browser: every sample (20 per task, under the cap), images and audio embedded
    assert html.count('<article class="sample"') == 40
    assert (
        html.count('src="data:image/') == 20 and html.count('<audio controls preload="none" src="data:audio/flac') == 20
    )
    # WER by input length, by hand: durations from the files' headers, 4 bins of 5 by length
    points = []
    for r in records(runs["a"], "demo_asr"):
        path = r["prompt"][0]["content"][0]["path"]
        points.append(
            (soundfile.info(path).duration, r["scores"]["wer,none"]["errors"], r["scores"]["wer,none"]["words"])
        )
    points.sort()
    section = html[html.index('id="wer-length"') : html.index('id="samples"')]
    for i in range(4):
        chunk = points[5 * i : 5 * i + 5]
        wer = 100 * sum(p[1] for p in chunk) / sum(p[2] for p in chunk)
        label = f"{chunk[0][0]:.1f}–{chunk[-1][0]:.1f} s"
        assert f'<td>{label}</td><td class="num">5</td>' in section
        assert fmt(wer) in section
    total = wer_by_length(points, n_bins=1)[0]
    assert total.wer == pytest.approx(res["demo_asr"]["wer,none"])


def test_model_output_is_escaped_and_inert(runs: dict[str, Path], tmp_path: Path) -> None:
    html = report(tmp_path, str(runs["toy"]))
    assert HOSTILE not in html and esc(HOSTILE) in html
    assert html.count("<script") == 1  # the report's own script, nothing from a sample
    assert "<img src=x" not in html and esc('"><img src=x onerror=alert(1)>') in html
    assert external_refs(html) == []
    # the script that may run is pinned by hash in the CSP: an injected one would be blocked too
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp is not None and "default-src &#x27;none&#x27;" in csp.group(1)
    assert esc(script_hash(JS)) in csp.group(1) and f"<script>{JS}</script>" in html


def test_breakdown_rows_and_filter_attributes(runs: dict[str, Path], tmp_path: Path) -> None:
    html = report(tmp_path, str(runs["toy"]))
    # by hand: a right, b wrong (math 1/2); c right, d wrong (chem 1/2); e failed (not scored)
    res = results(runs["toy"])["results"]["qa_report"]
    assert res["exact_match,none,subject=math"] == pytest.approx(0.5)
    for label in ("math", "chem"):
        stderr = fmt(res[f"exact_match_stderr,none,subject={label}"])
        assert f'<td>subject={label}</td><td class="num">{fmt(0.5)}</td><td class="num">{stderr}</td>' in html
        assert '<td class="num">2</td>' in html  # breakdown_n
    assert "exact_match_macro_subject" in html
    assert "by subject</h3>" in html and html.count("<svg") >= 2
    cards = re.findall(r'<article class="sample" ([^>]*)>', html)
    assert len(cards) == 5
    assert sum('data-wrong="1"' in c for c in cards) == 2
    assert sum('data-status="error"' in c for c in cards) == 1
    assert sum("|qa_report::subject=chem|" in c for c in cards) == 3
    for control in ('id="f-wrong"', 'id="f-errors"', 'id="f-task"', '<option value="qa_report::subject=math">'):
        assert control in html
    assert "scripted failure on doc e" in html


def test_two_runs_side_by_side_with_deltas(runs: dict[str, Path], tmp_path: Path) -> None:
    html = report(tmp_path, str(runs["a"]), str(runs["b"]))
    a, b = results(runs["a"]), results(runs["b"])
    section = html[html.index('id="compare"') : html.index('id="charts"')]
    for task, metric in (("demo_asr", "wer"), ("demo_ocr", "anls")):
        va, vb = a["results"][task][f"{metric},none"], b["results"][task][f"{metric},none"]
        sa, sb = a["results"][task][f"{metric}_stderr,none"], b["results"][task][f"{metric}_stderr,none"]
        d = vb - va
        delta = f"{d:+.4f}" if abs(d) < 10 else f"{d:+.2f}"
        row = re.search(rf"<tr><td>{task}</td><td>{metric} [^<]*</td>(.*?)</tr>", section)
        assert row is not None
        assert esc(fmt(va, sa)) in row.group(1) and esc(fmt(vb, sb)) in row.group(1) and delta in row.group(1)
    assert a["results"]["demo_asr"]["wer,none"] != b["results"]["demo_asr"]["wer,none"]
    assert section.count("<svg") == 2  # one grouped chart per task
    assert 'id="f-run"' in html  # the browser filters by run too
    assert html.count('<article class="sample"') == 80


def test_agent_run_shows_tool_use_and_transcript(runs: dict[str, Path], tmp_path: Path) -> None:
    html = report(tmp_path, str(runs["agent"]))
    res = results(runs["agent"])["results"][AGENT_TASK]
    section = html[html.index('id="tool-use"') : html.index('id="samples"')]
    assert res["search_ratio,agent"] == pytest.approx(0.5)  # one of the two samples searched
    assert f'<td>search_ratio</td><td class="num">{fmt(0.5)}</td>' in section and "<svg" in section
    assert "&lt;text_search&gt;kingdom spain&lt;/text_search&gt;" in html  # a transcript turn
    assert "<summary>transcript</summary>" in html
    assert f'<option value="{AGENT_TASK}::searched=yes">' in html
    assert external_refs(html) == []


def test_caps_keep_the_page_bounded_and_say_so(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "small.html"
    code = main(["report", str(runs["a"]), "-o", str(out), "--max-samples", "3", "--max-media-mb", "0.02"])
    html = out.read_text()
    assert code == 0 and html.count('<article class="sample"') == 6
    assert "the first 3 are shown: --max-samples 3" in html and "20 samples" in html
    assert "media budget (0.02 MB) is spent" in html and "were not embedded: the media budget was spent" in html
    assert len(html) < len(report(tmp_path, str(runs["a"]))) / 3


def test_bad_input_is_one_line_naming_the_file(runs: dict[str, Path], tmp_path: Path, capsys: Any) -> None:
    assert main(["report", str(tmp_path / "missing"), "-o", str(tmp_path / "r.html")]) == 2
    assert "missing does not exist" in capsys.readouterr().err
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "run.json").write_text("{}")
    assert main(["report", str(unfinished)]) == 2
    assert "did not finish" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text("{not json")
    assert main(["report", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "results.json" in err and len(err.strip().splitlines()) == 1
    assert main(["report", str(runs["a"]), "--max-samples", "-1"]) == 2
