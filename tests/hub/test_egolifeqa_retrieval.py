"""EgoLifeQA retrieval mode (``--prompt_variant rag``) on the fixture week: the search picks the
clip that holds the answer and never a clip after the question, the chosen clips' frames (all
before ``query_time``) and captions are what the model gets, each search is in the sample record,
and a replay from the search cache is identical without the embedding model. Also the captioner
that makes the captions once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import common, egolifeqa
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.tasks.egolifeqa.timeline import Moment, parse_clips

mirror = fixture_mirror(egolifeqa.build)
TASK_DIR = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "egolifeqa"
DOCS = {row["ID"]: row for row in egolifeqa.records()}


class TableModel(common.TableModel):
    answers = egolifeqa.ANSWERS


def _clear(utils: Any) -> None:
    for cached in (utils.clips_of, utils.caption_index, utils.retrieval_cache):
        cached.cache_clear()
    utils._SEARCHES.clear()


@pytest.fixture
def rag(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The task's ``utils`` module (as the YAML loads it) with fresh caches, and the fixture's
    captions where the task looks by default."""
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    utils = load_module_from_path(str(TASK_DIR / "utils.py"))
    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(utils, "FILES", utils.HubFiles(utils.REPO_ID))
    _clear(utils)
    egolifeqa.write_captions(utils.default_captions("A1_JAKE"))
    yield utils
    _clear(utils)


def names(found: dict[str, Any]) -> list[str]:
    return [Path(row["clip"]).name for row in found["chosen"]]


def test_the_search_finds_the_answering_clip_and_never_one_after_the_question(rag: Any) -> None:
    # question 3 (DAY3 08:00:05) "guitar": clip 4 (DAY2 09:00:30) is the only guitar caption
    found = rag.retrieve(DOCS["3"], {"mode": "retrieval", "k": 1})
    assert names(found) == ["DAY2_A1_JAKE_09003000.mp4"]
    assert found["days"]["chosen"] == [2] and "DAY2 09h" in found["hours"]["chosen"]
    # question 2 (DAY2 09:00:20) "cook": clip 5 (DAY2 20:00, "cook dinner") is after it and is no candidate
    found = rag.retrieve(DOCS["2"], {"mode": "retrieval", "k": 1})
    assert names(found) == ["DAY1_A1_JAKE_14000000.mp4"]
    assert set(found["hours"]["candidates"]) == {"DAY1 10h", "DAY1 14h"}  # DAY2 09h not chosen as a day
    assert set(found["days"]["candidates"]) == {"DAY1", "DAY2"}
    assert found["query"] == (
        "What did I cook in the kitchen? A cup A phone A book A pen"  # question + choices, no evidence field
    )
    assert egolifeqa.SECRET not in json.dumps(found)


def _run(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    results, run_dir = run_evaluator(tmp_path, ["egolifeqa"], TableModel(), max_error_rate=0.5, prompt_variant="rag")
    return results["results"]["egolifeqa"], records(run_dir, "egolifeqa")


def test_rag_shows_the_chosen_clips_before_the_question_and_logs_the_search(rag: Any, tmp_path: Path) -> None:
    res, logged = _run(tmp_path)
    # same replies as frames mode: 1 right, 2 wrong ("Based on the video, C"), 3 right; 4 has no clip before it
    assert res["egolifeqa_acc,none"] == pytest.approx(2 / 3) and res["n_errors"] == 1
    assert "no captioned clip of A1_JAKE before its query_time" in logged["4"]["error"]
    for qid in ("1", "2", "3"):
        request = TableModel.requests[qid]
        query = Moment.of(*egolifeqa.QUESTIONS[qid][:2])
        [video] = request.videos()
        for path, times in video.segments:
            clip = parse_clips([path])[0]
            assert len(times) == 8 and all(Moment(clip.start.day, clip.start.seconds + t) < query for t in times)
        search = logged[qid]["context"]["retrieval"]
        assert [Path(p).name for p, _ in video.segments] == names(search)
        text = request.prompt_text()
        assert egolifeqa.SECRET not in text
        assert all(f"{row['start']}: {row['caption']}" in text for row in search["chosen"])
    # question 3: day 2 wins (guitar), its hours 09h and 20h, top 3 clips shown in time order
    assert names(logged["3"]["context"]["retrieval"]) == [
        "DAY2_A1_JAKE_09000000.mp4",
        "DAY2_A1_JAKE_09003000.mp4",
        "DAY2_A1_JAKE_20000000.mp4",
    ]
    assert TableModel.prompts["3"].startswith(
        "Captions of the moments shown, retrieved from the video before the question:\n"
        "DAY2 09:00:00: I sit at a desk and type on a laptop.\n"
    )
    # question 1 (DAY1 10:00:40.5): clip 1 is shown only up to 10.5 s
    [first] = TableModel.requests["1"].videos()
    assert max(first.segments[1][1]) < 10.5


def test_a_replay_from_the_search_cache_is_identical_without_the_embedding_model(
    rag: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = _run(tmp_path / "first")
    cache = rag.default_captions("A1_JAKE").with_suffix(".retrievals") / "retrievals.jsonl"
    assert len(cache.read_text().splitlines()) == 4  # each question searched once (4: nothing before it)
    _clear(rag)

    def no_model(*_: Any, **__: Any) -> Any:
        raise AssertionError("the embedding model was used in a replay")

    from lmms_eval.tools import embedding

    monkeypatch.setattr(embedding, "encode", no_model)
    _, again = _run(tmp_path / "again")
    for qid in ("1", "2", "3"):
        assert again[qid]["context"] == first[qid]["context"]
        assert again[qid]["prompt"] == first[qid]["prompt"]


class CaptionModel(common.TableModel):
    answers = {egolifeqa.clip_name(d, t): f"caption {k}" for k, (d, t) in enumerate(egolifeqa.CLIPS) if k != 3}
    default = ""  # clip 3: an empty caption is a failure, not a caption


def test_the_captioner_captions_each_clip_once_and_resumes(rag: Any, tmp_path: Path) -> None:
    from lmms_eval.tasks.egolifeqa.captions import caption_clips, done_clips

    out = tmp_path / "captions.jsonl"
    clips = list(rag.clips_of("A1_JAKE"))
    written, failures = caption_clips(CaptionModel(), clips, rag.FILES.fetch, out, frames=4, batch_size=3)
    assert written == 6 and len(failures) == 1 and "DAY2_A1_JAKE_09000000.mp4: empty caption" in failures[0]
    request = CaptionModel.requests[egolifeqa.clip_name(1, "10003000")]
    [video] = request.videos()
    assert video.segments is not None and video.segments[0][1] == [3.75, 11.25, 18.75, 26.25]
    assert rag.read_captions(out)["DAY1_A1_JAKE_10003000.mp4"] == "caption 1"
    CaptionModel.reset()
    assert caption_clips(CaptionModel(), clips, rag.FILES.fetch, out)[0] == 0  # only clip 3 asked again
    assert list(CaptionModel.requests) == [egolifeqa.clip_name(2, "09000000"), f"egolifeqa_captions:{clips[3].name}"]
    assert len(done_clips(out)) == 6


def test_the_captioner_command_line(rag: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m lmms_eval.tasks.egolifeqa.captions``: a registered model by name, a failing clip
    reported (exit 1) while the others are written; a run that finds nothing to do exits 0."""
    from lmms_eval.tasks.egolifeqa.captions import main

    out = tmp_path / "cli.jsonl"
    failing = egolifeqa.clip_name(1, "10003000")
    args = ["--model", "scripted_model:ScriptedModel", "--out", str(out), "--limit", "3", "--batch_size", "2"]
    model_args = ["--model_args", f"mode=constant,constant=a kitchen,fail_on={failing}"]
    assert main([*args, *model_args]) == 1
    assert f"not captioned: {failing}: RuntimeError: scripted failure" in capsys.readouterr().err
    assert rag.read_captions(out) == {
        "DAY1_A1_JAKE_10000000.mp4": "a kitchen",
        "DAY1_A1_JAKE_14000000.mp4": "a kitchen",
    }
    assert main([*args, "--model_args", "mode=constant,constant=stairs"]) == 0
    assert rag.read_captions(out)["DAY1_A1_JAKE_10003000.mp4"] == "stairs"


def test_missing_captions_are_one_line_with_the_fix(rag: Any, tmp_path: Path) -> None:
    from lmms_eval.api.errors import SampleError

    rag.default_captions("A1_JAKE").unlink()
    with pytest.raises(SampleError, match=r"needs captions of A1_JAKE's clips at .*python -m lmms_eval.tasks"):
        rag.retrieve(DOCS["1"], {"mode": "retrieval"})
