"""Video-MME on its hub-shaped fixture: videos from the repository's zip archives (extracted once),
the official prompt, the official letter rule and accuracy over answered responses, the breakdowns,
a video missing from the archives as that sample's error, and a corrupt archive as a one-line error.

With subtitles (``videomme_w_subtitle``): the frames the task fixes, the subtitle lines at exactly
those frames' instants (strict bounds, first cue in file order, repeats kept, blank lines dropped),
a video without subtitles, and the same scores."""

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
    monkeypatch.setattr(utils, "SUBTITLES", utils.HubSubtitles(utils.REPO_ID, ["subtitle.zip"]))
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
    assert isinstance(video, Video) and video.path is not None and Path(video.path).name == "vid_a.mp4"
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


INSTRUCTION = (
    "Select the best answer to the following multiple-choice question based on the video. Respond with only "
    "the letter (A, B, C, or D) of the correct option.\n"
)


def subtitle_prompt(video: str) -> str:
    lines = "".join(f"{line}\n" for line in videomme.SUBTITLE_LINES[video])
    options = "\n".join(videomme.OPTIONS)
    return (
        f"This video's subtitles are listed below:\n{lines or chr(10)}{INSTRUCTION}What is the colour in {video}?\n"
        f"{options}\nThe best answer is:"
    )


def test_videomme_w_subtitle_prompt_holds_the_lines_at_the_frames_shown(
    mirror: Path, tmp_path: Path, video_cache: Path
) -> None:
    results, run_dir = run_evaluator(tmp_path, ["videomme_w_subtitle"], TableModel(), max_error_rate=0.5)
    res = results["results"]["videomme_w_subtitle"]
    # the same replies as test_videomme_scores_by_hand, scored the same way
    assert res["videomme_acc,none"] == pytest.approx(2 / 4)
    assert res["videomme_acc_strict,none"] == pytest.approx(2 / 5)
    assert res["videomme_parse_rate,none"] == pytest.approx(4 / 5)
    assert res["n_errors"] == 1
    assert res["videomme_acc,none,duration=short"] == pytest.approx(1.0)
    assert res["videomme_acc,none,task_type=Counting Problem"] == pytest.approx(1 / 2)

    # vid_a: 32 official frames of its 32 (0..16, 16..30) at 1 fps; the lines at 1, 6, 16, 16 and 30 s
    request = TableModel.requests["001-1"]
    assert request.prompt_text() == subtitle_prompt("vid_a")
    assert request.prompt_text().startswith(
        "This video's subtitles are listed below:\nHi guys, welcome back.\nFirst of two overlapping cues.\n"
        "Two lines on screen.\nTwo lines on screen.\nSee you.\nSelect the best answer"
    )
    video = request.messages[-1].content[0]
    assert isinstance(video, Video) and video.segments is not None and len(video.segments) == 1
    path, times = video.segments[0]
    assert Path(path).name == "vid_a.mp4" and Path(path).is_relative_to(video_cache)
    assert times == [k + 0.5 for k in videomme.FRAME_INDICES]  # the middle of each shown frame (1 fps)
    # vid_b (CRLF file): one line at 4 s; vid_c has no .srt: the block is empty, as officially
    assert TableModel.requests["002-2"].prompt_text() == subtitle_prompt("vid_b")
    assert TableModel.requests["003-1"].prompt_text() == subtitle_prompt("vid_c")
    assert (
        TableModel.requests["003-1"]
        .prompt_text()
        .startswith("This video's subtitles are listed below:\n\nSelect the best answer")
    )

    recs = records(run_dir, "videomme_w_subtitle")
    context = recs["001-1"]["context"]  # what the task chose, in the sample record
    assert context["frame_indices"] == videomme.FRAME_INDICES
    assert context["subtitle_instants_ms"] == [1000 * k for k in videomme.FRAME_INDICES]
    assert context["subtitle_file"] == "vid_a.srt" and context["subtitle_lines"] == 5
    assert recs["003-1"]["context"]["subtitle_file"] is None
    # a missing video is that sample's error even though its subtitles exist
    assert "video vid_missing.mp4 of lmms-lab/Video-MME is not in archives" in recs["004-1"]["error"]
    extracted = sorted(p.name for p in (video_cache / "videos" / "lmms-lab" / "Video-MME").iterdir())
    assert extracted == ["subtitle.zip", "videos_chunked_01.zip", "videos_chunked_02.zip"]


def test_the_frames_decoded_are_the_chosen_ones_whatever_the_adapter(mirror: Path, tmp_path: Path) -> None:
    from lmms_eval.media import FrameSampling, load_video
    from lmms_eval.tasks.videomme import utils

    for sampling in (FrameSampling(max_frames=4), FrameSampling(fps=0.5), FrameSampling(max_frames=8, mode="stride")):
        part = utils.doc_to_video_frames({"videoID": "vid_a"}, {"frames": 32})[0]
        clip = load_video(part, sampling)
        assert clip.indices == videomme.FRAME_INDICES  # the adapter's sampling does not apply
        assert abs(float(clip.frames.mean()) - 40) < 6  # vid_a: grey level 40
    assert utils.doc_to_context({"videoID": "vid_a"}, {"frames": 4})["frame_indices"] == [4, 12, 19, 27]
    part = utils.doc_to_video_frames({"videoID": "vid_a"}, {"frames": 4})[0]
    assert load_video(part, FrameSampling(max_frames=2)).indices == [4, 12, 19, 27]
    # with 4 frames the instants are 4, 12, 19 and 27 s: no cue of vid_a holds one
    assert utils.subtitles_of({"videoID": "vid_a"}, {"frames": 4}) == []
    assert utils.subtitles_of({"videoID": "vid_a"}, {"frames": 31}) == [
        "Hi guys, welcome back.",
        "First of two overlapping cues.",
        "Two lines on screen.",
        "See you.",
    ]


def test_official_frame_indices_and_instants() -> None:
    from lmms_eval.tasks.videomme.subtitles import frame_instant_ms, official_frame_indices

    # seg = 7 / 4 = 1.75: (0+2)//2, (2+4)//2 (3.5 rounds to even 4), (4+5)//2, (5+7)//2
    assert official_frame_indices(8, 4) == [1, 3, 4, 6]
    assert official_frame_indices(32, 32) == videomme.FRAME_INDICES
    assert official_frame_indices(32, 4) == [4, 12, 19, 27]  # seg 7.75: 0,8 | 8,16 (15.5) | 16,23 | 23,31
    assert official_frame_indices(3, 5) == [0, 0, 1, 1, 2]  # more frames than the video: repeats
    assert frame_instant_ms(1, 29.97) == 33 and frame_instant_ms(3, 25.0) == 120
    with pytest.raises(ValueError):
        official_frame_indices(0, 4)


def test_srt_is_read_as_pysubs2_reads_it() -> None:
    from lmms_eval.tasks.videomme.subtitles import Cue, parse_srt, subtitle_lines

    text = (
        '1\n00:00:01,000 --> 00:00:02,5\n<i>Italic</i> and <b>bold</b>\n<font color="white">second line</font>\n\n'
        "2\n0:0:3.250 --> 00:00:04,000 X1:10\n\n\n3\n00:00:05,000 --> 00:00:06,000\nlast\n"
    )
    cues = parse_srt(text)
    assert cues == [
        Cue(1000, 2500, "{\\i1}Italic{\\i0} and {\\b1}bold{\\b0}\\Nsecond line"),
        Cue(3250, 4000, ""),  # blank lines then the next number: an empty cue
        Cue(5000, 6000, "last"),
    ]
    assert subtitle_lines(cues, [1000, 1001, 3500, 5999, 6000]) == [
        "{\\i1}Italic{\\i0} and {\\b1}bold{\\b0} second line",
        "last",
    ]
