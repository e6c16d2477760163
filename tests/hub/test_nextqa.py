"""NExT-QA MC on its hub-shaped fixture: videos from ``videos.zip`` (extracted once), lmms-eval's
prompt and letter rule without the random pick, the official accuracy (TP counted as TN) per type
and group, the reasoning and letter prompt variants, and a video missing from the archive as that
sample's error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, nextqa
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.messages import Video
from lmms_eval.metrics.nextqa import parse_nextqa_letter

mirror = fixture_mirror(nextqa.build)
REASONING = (
    "\nPlease reason step by step. Output the thinking process within <think> </think> tags and final answer "
    "within <answer> </answer> tags."
)


class TableModel(common.TableModel):
    answers = nextqa.ANSWERS


@pytest.fixture(autouse=True)
def video_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    utils = load_module_from_path(str(Path(__file__).parents[2] / "lmms_eval" / "tasks" / "nextqa" / "utils.py"))

    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(utils, "VIDEOS", utils.HubVideos(utils.REPO_ID, utils.VIDEO_ARCHIVES))
    return tmp_path / "cache"


def test_nextqa_mc_scores_by_hand(mirror: Path, tmp_path: Path, video_cache: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["nextqa_mc_test"], TableModel(), max_error_rate=0.5)
    res = results["results"]["nextqa_mc_test"]
    # 1001_0 "D" right; 1001_1 "(A) ..." right (TP -> TN); 1001_2 no letter, 4 words: unparsed;
    # 1002_0 "A man ..." reads the article as A (quirk), wrong; 1002_1 "(A)" in the think block,
    # wrong; 1003_0 > 5 words, "river" is the last option text, right; 1003_1 "B." -> B wrong;
    # 9999_0: video missing -> error. Official accuracy 3 / 7, parse rate 6 / 7.
    assert res["n_errors"] == 1
    assert res["nextqa_mc_acc,none"] == pytest.approx(3 / 7)
    assert res["nextqa_mc_parse_rate,none"] == pytest.approx(6 / 7)
    # lenient (not official): D, A, -, C (option text "clap"), E (<answer>), - (two options), B -> 4 / 7
    assert res["nextqa_mc_acc_lenient,none"] == pytest.approx(4 / 7)
    assert res["nextqa_mc_acc,none,type=CW"] == pytest.approx(1.0)
    assert res["nextqa_mc_acc,none,type=TN"] == pytest.approx(1 / 2)  # 1001_1 (TP) and 1002_0
    assert res["nextqa_mc_acc,none,type=DL"] == pytest.approx(1.0)
    assert res["nextqa_mc_acc,none,type=DC"] == pytest.approx(0.0)
    assert "nextqa_mc_acc,none,type=TP" not in res
    assert res["nextqa_mc_acc,none,group=C"] == pytest.approx(1.0)
    assert res["nextqa_mc_acc,none,group=T"] == pytest.approx(1 / 3)
    assert res["nextqa_mc_acc,none,group=D"] == pytest.approx(1 / 3)

    request = TableModel.requests["1001_0"]
    video = request.messages[-1].content[0]
    assert isinstance(video, Video) and video.path is not None and Path(video.path).name == "1001.mp4"
    assert Path(video.path).is_relative_to(video_cache)  # extracted into the cache, once
    assert request.prompt_text() == (
        "why did the baby pick up the cup\nA. clap proudly\nB. the lady sitting down\nC. lay on floor\n"
        "D. just picked it up\nE. crawl"
    )
    assert request.params.max_new_tokens == 1024
    error = records(run_dir, "nextqa_mc_test")["9999_0"]["error"]
    assert "video 9999.mp4 of lmms-lab/NExTQA is not in archives videos.zip" in error
    extracted = sorted(p.name for p in (video_cache / "videos" / "lmms-lab" / "NExTQA").iterdir())
    assert extracted == ["videos.zip"]


def test_reasoning_variant_scores_the_answer_tag(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(
        tmp_path, ["nextqa_mc_test"], TableModel(), max_error_rate=0.5, prompt_variant="reasoning"
    )
    res = results["results"]["nextqa_mc_test"]
    # 1002_1 is reduced to its <answer> content "E": right -> 4 / 7; parse rate unchanged 6 / 7
    assert res["nextqa_mc_acc,none"] == pytest.approx(4 / 7)
    assert res["nextqa_mc_parse_rate,none"] == pytest.approx(6 / 7)
    request = TableModel.requests["1002_1"]
    assert request.prompt_text().endswith("E. sleep" + REASONING)
    assert request.params.max_new_tokens == 4096


def test_letter_variant_adds_the_instruction(mirror: Path, tmp_path: Path) -> None:
    run_evaluator(tmp_path, ["nextqa_mc_test"], TableModel(), max_error_rate=0.5, prompt_variant="letter")
    prompt = TableModel.requests["1003_0"].prompt_text()
    assert prompt.endswith("E. mountain\nAnswer with the option's letter from the given choices directly.")


def test_frames_are_decoded_from_the_extracted_video(mirror: Path, tmp_path: Path) -> None:
    from lmms_eval.media import FrameSampling, load_video
    from lmms_eval.tasks.nextqa import utils

    clip = load_video(Video(path=utils.doc_to_video({"video": 1003})[0]), FrameSampling(max_frames=4))
    assert clip.frames.shape[0] == 4 and abs(float(clip.frames.mean()) - 120) < 6  # 1003: grey level 120


OPTIONS = ["clap proudly", "the lady sitting down", "lay on floor", "just picked it up", "crawl"]


@pytest.mark.parametrize(
    ("response", "letter"),
    [
        ("C", "C"),
        ("C.", "C"),  # edge marks stripped, then "C " found
        ("(B) the lady", "B"),
        ("(A) or (D)? I say (D)", "D"),  # several bracketed: the last one
        ("C or D ", "D"),  # several "X ": the last " X "
        ("THE CAT", "E"),  # "E " needs no space before it (quirk kept)
        ("THE END", "D"),  # "E " and "D ", neither " X ": tie -> first in A-E order (quirk kept)
        ("B.C.x", "B"),  # "X." candidates B and C, neither " X ": tie -> first (quirk kept)
        ("he lay on floor and then crawl", "E"),  # > 5 words: the last option text
        ("lay on floor", None),  # <= 5 words: option texts are not read
        ("", None),
        (None, None),
    ],
)
def test_lmms_eval_letter_rule(response: str | None, letter: str | None) -> None:
    assert parse_nextqa_letter(response, OPTIONS) == letter
