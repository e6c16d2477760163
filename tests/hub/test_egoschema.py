"""EgoSchema on its hub-shaped fixture: videos from the repository's zip archives (``.MP4`` too),
lmms-eval's prompt and letter rule (its quirks, no random fallback), accuracy over all questions
and the parse rate on the answered subset, the reasoning variant, a video missing from the archives
as that sample's error, and the full set's submission file for the validation server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub import common, egoschema
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.messages import Video

mirror = fixture_mirror(egoschema.build)
MISSING = "00000000-0000-0000-0000-00000missing"


class TableModel(common.TableModel):
    answers = egoschema.ANSWERS


class ReasoningModel(common.TableModel):
    """Answers in the reasoning format: <think> first, the answer inside <answer>."""

    answers = {
        vid: f"<think>c moves around the kitchen, A or B?</think><answer>{reply}</answer>"
        for vid, reply in {
            "00000000-0000-0000-0000-000000000001": "A",
            "00000000-0000-0000-0000-000000000002": "D",
            "00000000-0000-0000-0000-000000000003": "B",
            "00000000-0000-0000-0000-000000000004": "I cannot tell",
            "00000000-0000-0000-0000-000000000005": "E",
            MISSING: "A",
        }.items()
    }


@pytest.fixture(autouse=True)
def video_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    utils = load_module_from_path(str(Path(__file__).parents[2] / "lmms_eval" / "tasks" / "egoschema" / "utils.py"))

    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(utils, "VIDEOS", utils.HubVideos(utils.REPO_ID, utils.PATTERNS))
    return tmp_path / "cache"


def test_egoschema_subset_scores_by_hand(mirror: Path, tmp_path: Path, video_cache: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["egoschema"], TableModel(), max_error_rate=0.5)
    res = results["results"]["egoschema"]
    # ...01 "A" -> 0 right; ...02 "C is ... D": candidates "C " and "D ", the earliest last
    # occurrence wins -> C = 2, wrong (answer 3); ...03 no capital marker, > 5 words, the stored
    # option "b. c is doing laundry." occurs -> 1 right; ...04 nothing -> unparsed, wrong;
    # ...05 "E." (.MP4 clip) -> 4 right; missing: the video is in no archive -> error.
    assert res["egoschema_acc,none"] == pytest.approx(3 / 5)
    assert res["egoschema_parse_rate,none"] == pytest.approx(4 / 5)
    assert res["n_errors"] == 1
    request = TableModel.requests["00000000-0000-0000-0000-000000000001"]
    video = request.messages[-1].content[0]
    assert isinstance(video, Video) and Path(str(video.path)).name == "00000000-0000-0000-0000-000000000001.mp4"
    assert Path(str(video.path)).is_relative_to(video_cache)  # extracted into the cache, once
    assert request.prompt_text() == (
        "What is c doing in 0001?\nA. C is cooking.\nB. C is doing laundry.\nC. C is cleaning the kitchen.\n"
        "D. C is cleaning dishes.\nE. C is cleaning the bathroom.\nAnswer with the option's letter from the "
        "given choices directly."
    )
    upper = TableModel.requests[egoschema.UPPER_CASE].messages[-1].content[0]
    assert isinstance(upper, Video) and Path(str(upper.path)).name == f"{egoschema.UPPER_CASE}.MP4"
    error = records(run_dir, "egoschema")[MISSING]["error"]
    assert f"video {MISSING}.mp4 of lmms-lab/egoschema is not in archives videos_chunked_01.zip" in error
    extracted = sorted(p.name for p in (video_cache / "videos" / "lmms-lab" / "egoschema").iterdir())
    assert extracted == ["videos_chunked_01.zip", "videos_chunked_02.zip"]
    assert "submissions" not in results


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(
        tmp_path, ["egoschema"], ReasoningModel(), prompt_variant="reasoning", max_error_rate=0.5
    )
    res = results["results"]["egoschema"]
    # the <answer> content is scored: A, D, B right, "I cannot tell" unparsed, E right
    assert res["egoschema_acc,none"] == pytest.approx(4 / 5)
    assert res["egoschema_parse_rate,none"] == pytest.approx(4 / 5)
    prompt = ReasoningModel.prompts["00000000-0000-0000-0000-000000000001"]
    assert prompt.endswith(
        "E. C is cleaning the bathroom.\nPlease reason step by step. Output the thinking "
        "process within <think> </think> tags and final answer within <answer> </answer> tags."
    )


def test_full_set_writes_the_submission_file(mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["egoschema_full"], TableModel(), max_error_rate=0.5)
    res = results["results"]["egoschema_full"]
    # ...01 "A", ...06 "(D)" parsed; ...07 "no idea" unparsed; missing -> error
    assert res["egoschema_parse_rate,none"] == pytest.approx(2 / 3)
    assert res["n_errors"] == 1
    assert "egoschema_acc,none" not in res
    assert results["submissions"] == {"egoschema_full": "submissions/egoschema_submission.json"}
    submitted = json.loads((run_dir / "submissions" / "egoschema_submission.json").read_text())
    # {q_uid: index}: unparsed and failed questions are left out (the server counts them missing)
    assert submitted == {"00000000-0000-0000-0000-000000000001": 0, "00000000-0000-0000-0000-000000000006": 3}


def test_frames_are_decoded_from_the_extracted_video(mirror: Path, tmp_path: Path) -> None:
    from lmms_eval.media import FrameSampling, load_video
    from lmms_eval.tasks.egoschema import utils

    vid = "00000000-0000-0000-0000-000000000004"
    clip = load_video(Video(path=utils.doc_to_video({"video_idx": vid})[0]), FrameSampling(max_frames=4))
    assert clip.frames.shape[0] == 4 and abs(float(clip.frames.mean()) - egoschema.grey_level(vid)) < 6


@pytest.mark.parametrize(
    ("response", "letter"),
    [
        ("B", "B"),
        ("(C) C is cleaning the kitchen.", "C"),  # "(C)" and "C " both C
        ("The answer is (B)", "B"),
        ("B. C is doing laundry.", "B"),  # "B." at 1 and "C " at 4: B's last occurrence is earliest
        ("USA is where C cooks", "A"),  # "A " inside "USA ": quirk kept
        ("Answer: D.", "D"),  # the trailing dot is stripped, the padding space makes "D " readable
        ("the option d is right", None),  # lower-case letters are never read; 5 words: no option scan
        ("", None),
    ],
)
def test_letter_rule(response: str, letter: str | None) -> None:
    from lmms_eval.metrics.egoschema import parse_egoschema_letter

    assert parse_egoschema_letter(response, egoschema.OPTIONS) == letter
