"""EgoLifeQA frames mode on a fixture week: only clips before ``query_time`` are fetched and only
instants before it decoded, the evidence fields never reach a prompt, EgoRAG's letter rule without
its random fallback, per question type; a question before any recording is that sample's error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub import common, egolifeqa
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.tasks.egolifeqa.timeline import Moment, parse_clips

mirror = fixture_mirror(egolifeqa.build)
TASK_DIR = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "egolifeqa"


class TableModel(common.TableModel):
    answers = egolifeqa.ANSWERS


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every clip the task fetches (fresh file listing for this mirror), spied on in the module the
    task's ``!function`` tags load (the YAML loader imports ``utils.py`` by path)."""
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    utils = load_module_from_path(str(TASK_DIR / "utils.py"))

    files = utils.HubFiles(utils.REPO_ID)
    names: list[str] = []
    fetch = files.fetch

    def spy(name: str) -> str:
        names.append(name)
        return fetch(name)

    monkeypatch.setattr(files, "fetch", spy)
    monkeypatch.setattr(utils, "FILES", files)
    utils.clips_of.cache_clear()
    return names


def moment_of(path: str, offset: float) -> Moment:
    clip = parse_clips([path])[0]
    return Moment(clip.start.day, clip.start.seconds + offset)


def test_frames_mode_never_reads_past_the_question(mirror: Path, tmp_path: Path, fetched: list[str]) -> None:
    from lmms_eval.media import FrameSampling, load_video

    results, run_dir = run_evaluator(tmp_path, ["egolifeqa"], TableModel(), max_error_rate=0.5)
    res = results["results"]["egolifeqa"]
    # 1: A right; 2: "Based on the video, C" -> C (the B of Based is not standalone), wrong; 3: C right;
    # 4: asked before any recording -> error. accuracy 2 / 3, every reply parsed
    assert res["egolifeqa_acc,none"] == pytest.approx(2 / 3)
    assert res["egolifeqa_parse_rate,none"] == pytest.approx(1.0)
    assert (
        res["n_errors"] == 1
        and "no video of A1_JAKE before its query_time" in records(run_dir, "egolifeqa")["4"]["error"]
    )
    assert res["egolifeqa_acc,none,type=EventRecall"] == 0.0
    clip_order = [egolifeqa.clip_name(d, t) for d, t in egolifeqa.CLIPS]
    for qid in ("1", "2", "3"):
        request = TableModel.requests[qid]
        date, time = egolifeqa.QUESTIONS[qid][:2]
        query = Moment.of(date, time)
        assert egolifeqa.SECRET not in request.prompt_text()
        assert request.prompt_text() == (
            f"{egolifeqa.QUESTION_TEXT[qid]}\nA. A cup\nB. A phone\nC. A book\nD. A pen\n"
            "Answer with the option's letter from the given choices directly."
        )
        [video] = request.videos()  # one video made of the chosen instants of several clips
        assert sum(len(times) for _, times in video.segments) == 32
        decoded = load_video(video, FrameSampling()).frames  # grey level = 8 * the clip's number
        start = 0
        for path, times in video.segments:
            assert all(moment_of(path, t) < query for t in times)
            k = clip_order.index(str(Path(path).relative_to(mirror / egolifeqa.REPO_ID)))
            assert abs(float(np.mean(decoded[start : start + len(times)])) - 8 * k) < 3
            start += len(times)
        assert start == decoded.shape[0] == 32
    # question 1 (DAY1 10:00:40.5): only clips 0 and 1 are shown, 1 only up to 10.5 s
    [first] = TableModel.requests["1"].videos()
    assert [Path(p).name for p, _ in first.segments] == ["DAY1_A1_JAKE_10000000.mp4", "DAY1_A1_JAKE_10003000.mp4"]
    assert max(first.segments[1][1]) < 10.5
    # the only clips fetched are ones shown: each holds an instant before its question
    shown = {
        str(Path(p).relative_to(mirror / egolifeqa.REPO_ID))
        for q in ("1", "2", "3")
        for v in TableModel.requests[q].videos()
        for p, _ in v.segments
    }
    assert set(fetched) == shown and egolifeqa.clip_name(3, "08000000") in shown  # 5 s of it, for question 3
    logged = records(run_dir, "egolifeqa")["1"]["prompt"][0]["content"][0]
    assert logged["type"] == "video" and logged["segments"][0]["times"]  # the instants shown are in the record


def test_the_day_window(mirror: Path, tmp_path: Path, fetched: list[str]) -> None:
    run_evaluator(tmp_path, ["egolifeqa"], TableModel(), max_error_rate=1.0, prompt_variant="day")
    [video] = TableModel.requests["2"].videos()  # DAY2 09:00:20: only day 2's first clip
    assert [Path(p).name for p, _ in video.segments] == ["DAY2_A1_JAKE_09000000.mp4"]
    assert all(t < 20 for t in video.segments[0][1])


def test_one_frame_a_second_over_the_last_hour(mirror: Path, tmp_path: Path, fetched: list[str]) -> None:
    run_evaluator(tmp_path, ["egolifeqa"], TableModel(), max_error_rate=1.0, prompt_variant="last_hour")
    [video] = TableModel.requests["2"].videos()  # DAY2 09:00:20: the 20 s of day 2's first clip
    assert [Path(p).name for p, _ in video.segments] == ["DAY2_A1_JAKE_09000000.mp4"]
    assert video.segments[0][1] == pytest.approx([k + 0.5 for k in range(20)])
    [short] = TableModel.requests["3"].videos()  # DAY3 08:00:05: 5 s of clip 6 within the hour
    assert short.segments[0][1] == pytest.approx([0.5, 1.5, 2.5, 3.5, 4.5])
