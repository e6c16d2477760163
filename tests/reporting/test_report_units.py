"""The HTML report's pieces on constructed input: WER by length and right/wrong by hand, charts as
inline SVG, media caps, results keys, and the filter script run in Node on a report's cards."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from lmms_eval.html_report import charts
from lmms_eval.html_report.assets import JS
from lmms_eval.html_report.media import MediaEmbedder
from lmms_eval.html_report.runs import task_result
from lmms_eval.html_report.samples import audio_seconds, is_wrong, primary_key, wer_by_length


def test_wer_by_length_by_hand() -> None:
    # (seconds, errors, words); sorted by length and cut into 2 bins of 5
    points = [(9.0, 1, 10), (1.0, 0, 4), (3.0, 2, 8), (2.0, 1, 5), (5.0, 0, 6), (8.0, 3, 12), (7.0, 0, 9),
              (4.0, 1, 7), (6.0, 2, 11), (10.0, 4, 20)]  # fmt: skip
    bins = wer_by_length(points, n_bins=5, min_per_bin=5)
    assert [(b.lo, b.hi, b.n) for b in bins] == [(1.0, 5.0, 5), (6.0, 10.0, 5)]
    assert bins[0].wer == pytest.approx(100 * (0 + 1 + 2 + 1 + 0) / (4 + 5 + 8 + 7 + 6))
    assert bins[1].wer == pytest.approx(100 * (2 + 0 + 3 + 1 + 4) / (11 + 9 + 12 + 10 + 20))
    assert len(wer_by_length(points, n_bins=5, min_per_bin=2)) == 5
    assert len(wer_by_length(points[:4], n_bins=5, min_per_bin=5)) == 1


def test_right_and_wrong_by_unit_and_direction() -> None:
    assert is_wrong(1.0, True, "0-1") is False and is_wrong(0.99, True, "0-1") is True
    assert is_wrong(100.0, True, "%") is False and is_wrong(50.0, True, "0-100") is True
    assert is_wrong({"errors": 0, "words": 5}, False, "%") is False
    assert is_wrong({"errors": 2, "words": 5}, False, "%") is True
    assert is_wrong(0.0, False, None) is False and is_wrong(3.0, False, None) is True
    assert is_wrong(7.0, True, "points") is False and is_wrong(0.0, True, "points") is True
    assert is_wrong({"split": "x"}, True, "0-1") is None and is_wrong(None, True, None) is None


def test_results_keys_split_into_headline_breakdown_and_tool_use() -> None:
    values = {"alias": "t", "acc,none": 0.5, "acc_stderr,none": 0.1, "acc,none,cat=a,b": 1.0,
              "acc_stderr,none,cat=a,b": 0.0, "acc_macro_cat,none": 0.75, "turns,agent": 2.0,
              "breakdown_n": {"cat": {"a,b": 3}}, "n_samples": 4, "n_errors": 1}  # fmt: skip
    t = task_result("t", values, {"higher_is_better": {"t": {"acc": True}}, "units": {"t": {"acc": "0-1"}}})
    assert [(v.metric, v.value, v.stderr) for v in t.headline] == [("acc", 0.5, 0.1), ("acc_macro_cat", 0.75, None)]
    assert t.breakdowns[0].name == "cat" and t.breakdowns[0].rows == [("a,b", 1.0, 0.0, 3)]
    assert [(v.metric, v.filter) for v in t.agent] == [("turns", "agent")]
    assert (t.n_samples, t.n_errors) == (4, 1)
    # a per-sample value that is no number is never the deciding score
    assert primary_key(t, {"acc,none": {"split": "x"}, "turns,agent": 2, "other,none": 1}) == "other,none"


def test_charts_are_inline_svg_with_unique_ids_and_no_url() -> None:
    one = charts.bar_chart(["a", "costs $5 and $6"], [0.5, 0.7], [0.1, None], "t")
    two = charts.bar_chart(["a", "costs $5 and $6"], [0.5, 0.7], [0.1, None], "t")
    for svg in (one, two):
        assert svg.startswith("<svg") and svg.endswith("</svg>") and "http" not in svg and "<?xml" not in svg
    ids_one, ids_two = set(re.findall(r'id="([^"]+)"', one)), set(re.findall(r'id="([^"]+)"', two))
    assert ids_one and not ids_one & ids_two
    for ref in re.findall(r'href="#([^"]+)"', one):
        assert ref in ids_one
    assert "costs $5 and $6" in one  # a $ is text, not matplotlib math


def test_media_caps_and_notes(tmp_path: Path) -> None:
    wav = tmp_path / "a.wav"
    soundfile.write(wav, np.zeros(16000, np.float32), 16000)
    media = MediaEmbedder(budget_bytes=10_000_000, max_audio_bytes=1000)
    got = media.audio(str(wav))
    assert got.uri is None and "too large to embed" in got.note and "--max-audio-mb" in got.note
    assert "not fetched" in (media.image("https://example.org/x.png").note)
    assert "not found" in media.image(str(tmp_path / "none.png")).note
    assert "no path" in media.image(None).note
    small = MediaEmbedder(budget_bytes=10_000_000, max_audio_bytes=10_000_000)
    uri = small.audio(str(wav)).uri
    assert uri is not None and uri.startswith("data:audio/wav;base64,")
    spent = MediaEmbedder(budget_bytes=100, max_audio_bytes=10_000_000)
    assert "budget" in spent.audio(str(wav)).note and spent.skipped == 1
    # the length of an audio input: the logged seconds, else the file's header
    record: dict[str, Any] = {"prompt": [{"role": "user", "content": [{"type": "audio", "path": str(wav)}]}]}
    assert audio_seconds(record) == pytest.approx(1.0)
    record["prompt"][0]["content"][0]["seconds"] = 2.5
    assert audio_seconds(record) == pytest.approx(2.5)


NODE_HARNESS = """
const cards = CARDS.map(function (a) {
  return {hidden: false, textContent: a.text, getAttribute: function (k) { return a[k] === undefined ? null : a[k]; }};
});
function control(v) {
  return {value: v, checked: false, on: {}, addEventListener: function (t, f) { this.on[t] = f; }};
}
const controls = {"f-run": control(""), "f-task": control(""), "f-wrong": control(""), "f-errors": control(""),
                  "f-bd": control(""), "f-text": control(""), "f-count": {textContent: ""}};
global.document = {querySelectorAll: function () { return cards; },
                   getElementById: function (id) { return controls[id] || null; }};
SCRIPT
const seen = [];
function snap() { seen.push([cards.map(function (c) { return c.hidden; }), controls["f-count"].textContent]); }
snap();
controls["f-wrong"].checked = true; controls["f-wrong"].on.change(); snap();
controls["f-wrong"].checked = false; controls["f-errors"].checked = true; controls["f-errors"].on.change(); snap();
controls["f-errors"].checked = false; controls["f-bd"].value = "t::cat=b"; controls["f-bd"].on.change(); snap();
controls["f-bd"].value = ""; controls["f-text"].value = "NEEDLE"; controls["f-text"].on.input(); snap();
console.log(JSON.stringify(seen));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_filter_script_hides_and_shows_cards(tmp_path: Path) -> None:
    cards = [
        {"data-task": "t", "data-status": "ok", "data-wrong": "0", "data-bd": "|t::cat=a|", "text": "one"},
        {"data-task": "t", "data-status": "ok", "data-wrong": "1", "data-bd": "|t::cat=b|", "text": "a needle"},
        {"data-task": "t", "data-status": "error", "data-wrong": "0", "data-bd": "|t::cat=b|", "text": "three"},
    ]
    script = NODE_HARNESS.replace("CARDS", json.dumps(cards)).replace("SCRIPT", JS)
    (tmp_path / "h.js").write_text(script)
    out = subprocess.run(["node", str(tmp_path / "h.js")], capture_output=True, text=True, check=True, timeout=60)
    seen = json.loads(out.stdout)
    assert seen[0] == [[False, False, False], "3 of 3 samples shown"]
    assert seen[1] == [[True, False, True], "1 of 3 samples shown"]  # wrong only
    assert seen[2] == [[True, True, False], "1 of 3 samples shown"]  # errors only
    assert seen[3] == [[True, False, False], "2 of 3 samples shown"]  # one category
    assert seen[4] == [[True, False, True], "1 of 3 samples shown"]  # text search, case-insensitive


def test_card_shows_judge_verdict_context_and_escapes_them(tmp_path: Path) -> None:
    from lmms_eval.html_report.collect import Sample, TaskSamples
    from lmms_eval.html_report.runs import Run
    from lmms_eval.html_report.sample_view import card

    task = task_result("t", {"judge_acc,none": 1.0}, {})
    record = {
        "doc_id": 7, "index": 0, "status": "ok", "raw_output": "<b>x</b>", "filtered": {"none": "x"},
        "target": "x", "scores": {"judge_acc,none": 1.0},
        "judge": {"metric": "judge_acc", "filters": {"none": {"stage": "judge", "verdict": "correct", "value": 1.0,
                  "calls": [{"reply": "<img src=x onerror=alert(1)> Verdict: correct"}]}}},
        "context": {"query": "who <i>", "chosen": ["clip_3"]},
    }  # fmt: skip
    ts = TaskSamples(run=Run(path=str(tmp_path), label="r", results={}, tasks=[task]), task=task)
    html = card(ts, Sample(record, "judge_acc,none", False, [], None), MediaEmbedder(1000, 1000))
    assert "judge_acc [none]: stage: judge, verdict: correct, value: 1.0" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html and "<b>x" not in html
    assert "<summary>context (retrieval)</summary>" in html and "who &lt;i&gt;" in html and "clip_3" in html
    assert 'data-wrong="0"' in html and "right: judge_acc,none = 1" in html
