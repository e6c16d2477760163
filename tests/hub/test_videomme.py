"""Video-MME on its hub-shaped fixture: videos from the repository's zip archives (extracted once),
the official prompt, the official letter rule and accuracy over answered responses, the breakdowns,
a video missing from the archives as that sample's error, and a corrupt archive as a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, videomme
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.messages import Video

mirror = fixture_mirror(videomme.build)


class TableModel(common.TableModel):
    answers = videomme.ANSWERS


@pytest.fixture(autouse=True)
def video_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    utils = load_module_from_path(str(Path(__file__).parents[2] / "lmms_eval" / "tasks" / "videomme" / "utils.py"))

    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(utils, "VIDEOS", utils.HubVideos(utils.REPO_ID, ["videos_chunked_*.zip"]))
    return tmp_path / "cache"


def test_videomme_scores_by_hand(mirror: Path, tmp_path: Path, video_cache: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, ["videomme"], TableModel(), max_error_rate=0.5)
    res = results["results"]["videomme"]
    # 001-1 A right; 001-2 prefix removed -> B right; 002-1 "Based" -> B, wrong (answer C);
    # 002-2 no A-D: unparsed; 003-1 "(D) Brown." -> D wrong; 004-1: video missing -> error.
    # official accuracy = correct / answered = 2 / 4; strict 2 / 5; parse rate 4 / 5
    assert res["videomme_acc,none"] == pytest.approx(2 / 4)
    assert res["videomme_acc_strict,none"] == pytest.approx(2 / 5)
    assert res["videomme_parse_rate,none"] == pytest.approx(4 / 5)
    assert res["n_errors"] == 1
    assert res["videomme_acc,none,duration=short"] == pytest.approx(1.0)
    assert res["videomme_acc,none,duration=medium"] == pytest.approx(0.0)  # 002-2 unparsed: out of the mean
    assert res["videomme_acc,none,task_type=Counting Problem"] == pytest.approx(1 / 2)
    request = TableModel.requests["001-1"]
    video = request.messages[-1].content[0]
    assert isinstance(video, Video) and Path(video.path).name == "vid_a.mp4"
    assert Path(video.path).is_relative_to(video_cache)  # extracted into the cache, once
    assert request.prompt_text() == (
        "Select the best answer to the following multiple-choice question based on the video. Respond with only "
        "the letter (A, B, C, or D) of the correct option.\nWhat is the colour in vid_a?\nA. Black.\nB. Gray.\n"
        "C. Green.\nD. Brown.\nThe best answer is:"
    )
    error = records(run_dir, "videomme")["004-1"]["error"]
    assert "video vid_missing.mp4 of lmms-lab/Video-MME is not in archives videos_chunked_01.zip" in error
    extracted = sorted(p.name for p in (video_cache / "videos" / "lmms-lab" / "Video-MME").iterdir())
    assert extracted == ["videos_chunked_01.zip", "videos_chunked_02.zip"]


def test_frames_are_decoded_from_the_extracted_video(mirror: Path, tmp_path: Path) -> None:
    from lmms_eval.media import FrameSampling, load_video
    from lmms_eval.tasks.videomme import utils

    clip = load_video(Video(path=utils.doc_to_video({"videoID": "vid_c"})[0]), FrameSampling(max_frames=4))
    assert clip.frames.shape[0] == 4 and abs(float(clip.frames.mean()) - 120) < 6  # vid_c: grey level 120


def test_a_corrupt_archive_is_one_line_with_the_fix(mirror: Path, tmp_path: Path) -> None:
    from lmms_eval.api.errors import DatasetError
    from lmms_eval.tasks.hub_videos import HubVideos

    broken = tmp_path / "repo" / "lmms-lab" / "Broken"
    broken.mkdir(parents=True)
    (broken / "videos_chunked_01.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LMMS_EVAL_HUB_MIRROR", str(tmp_path / "repo"))
        with pytest.raises(
            DatasetError, match=r"cannot extract .*videos_chunked_01.zip .*delete it and download it again"
        ):
            HubVideos("lmms-lab/Broken", ["videos_chunked_*.zip"]).path("x.mp4")
        with pytest.raises(DatasetError, match=r"no file matching clips_\*.zip under .* the download is incomplete"):
            HubVideos("lmms-lab/Broken", ["clips_*.zip"]).path("x.mp4")
