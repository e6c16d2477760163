"""PerceptionTest (validation MC) on its hub-shaped fixture: videos from the repository's zip archives
(extracted once, ``.MP4`` found too), lmms-eval's prompt, the letter rule and top-1 accuracy over all
questions (unparsed = wrong), parse rate, the lenient variant, the area / reasoning / tag breakdowns,
the reasoning variant, and a video missing from the archives as that sample's error."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from hub import common, perceptiontest
from hub.common import fixture_mirror, records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Video
from lmms_eval.metrics.perceptiontest import extract_perceptiontest_letter
from lmms_eval.tasks.variants import REASONING_INSTRUCTION

TASK = "perceptiontest_val_mc"
mirror = fixture_mirror(perceptiontest.build)


class TableModel(common.TableModel):
    answers = perceptiontest.ANSWERS


def _utils() -> ModuleType:
    from lmms_eval.tasks.yaml_loader import load_module_from_path

    return load_module_from_path(str(Path(__file__).parents[2] / "lmms_eval" / "tasks" / "perceptiontest" / "utils.py"))


@pytest.fixture(autouse=True)
def video_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    utils = _utils()
    monkeypatch.setenv("LMMS_EVAL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(utils, "VIDEOS", utils.HubVideos(utils.REPO_ID, utils.PATTERNS))
    return tmp_path / "cache"


def test_scores_by_hand(mirror: Path, tmp_path: Path, video_cache: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), max_error_rate=0.5)
    res = results["results"][TASK]
    # rows (doc id = row): 0 "A" right; 1 "B. the blue cup" -> B right; 2 "A person moves cup C" -> the
    # article A, wrong (answer C); 3 "I cannot tell" unparsed, wrong; 4 "<think>Cup B ...<answer>C" -> B,
    # wrong; 5 video missing -> error; 6 "D" parsed, names no option, wrong.
    # top-1 accuracy over the 6 scored = 2/6; parse rate 5/6
    assert res["perceptiontest_acc,none"] == pytest.approx(2 / 6)
    assert res["perceptiontest_parse_rate,none"] == pytest.approx(5 / 6)
    # lenient: 0, 1 right; 2 article skipped -> C right; 3 unparsed; 4 <answer>C right; 6 D invalid -> 4/6
    assert res["perceptiontest_acc_lenient,none"] == pytest.approx(4 / 6)
    assert res["n_errors"] == 1
    # area: memory 0, 1 -> 1; physics 2, 3 -> 0; abstraction 4, 6 -> 0
    assert res["perceptiontest_acc,none,area=memory"] == pytest.approx(1.0)
    assert res["perceptiontest_acc,none,area=physics"] == pytest.approx(0.0)
    assert res["perceptiontest_acc,none,area=abstraction"] == pytest.approx(0.0)
    # reasoning: descriptive 0, 2, 4 -> 1/3; explanatory 1, 3 -> 1/2; predictive 6 -> 0 (5 is an error)
    assert res["perceptiontest_acc,none,reasoning=descriptive"] == pytest.approx(1 / 3)
    assert res["perceptiontest_acc,none,reasoning=explanatory"] == pytest.approx(1 / 2)
    assert res["perceptiontest_acc,none,reasoning=predictive"] == pytest.approx(0.0)
    # tag (a list): a question counts under each of its tags
    assert res["perceptiontest_acc,none,tag=sequencing"] == pytest.approx(1.0)
    assert res["perceptiontest_acc,none,tag=event recall"] == pytest.approx(1.0)
    assert res["perceptiontest_acc,none,tag=object permanence"] == pytest.approx(0.0)
    assert res["perceptiontest_acc_lenient,none,tag=object permanence"] == pytest.approx(1 / 2)

    request = TableModel.requests["0"]
    video = request.messages[-1].content[0]
    assert isinstance(video, Video) and video.path is not None and Path(video.path).name == "video_a.mp4"
    assert Path(video.path).is_relative_to(video_cache)  # extracted into the cache, once
    assert request.prompt_text() == (
        "Which cup is in video_a (0)?\nA. the red cup\nB. the blue cup\nC. the green cup\n"
        "Answer with the option's letter from the given choices directly."
    )
    logged = records(run_dir, TASK)
    assert logged["2"]["target"] == "C" and logged["4"]["target"] == "C"
    error = logged["5"]["error"]
    assert "video video_missing.mp4 of lmms-lab/PerceptionTest_Val is not in archives videos_chunked_01.zip" in error
    extracted = sorted(p.name for p in (video_cache / "videos" / "lmms-lab" / "PerceptionTest_Val").iterdir())
    assert extracted == ["videos_chunked_01.zip", "videos_chunked_02.zip"]


def test_reasoning_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), max_error_rate=0.5, prompt_variant="reasoning")
    res = results["results"][TASK]
    # row 4 is reduced to "C": right; the others as before -> 3/6
    assert res["perceptiontest_acc,none"] == pytest.approx(3 / 6)
    assert res["perceptiontest_acc,none,area=abstraction"] == pytest.approx(1 / 2)
    assert TableModel.prompts["1"].endswith("C. the green cup" + REASONING_INSTRUCTION)


def test_frames_are_decoded_from_the_extracted_mp4_upper_case(mirror: Path) -> None:
    from lmms_eval.media import FrameSampling, load_video

    utils = _utils()
    path = utils.doc_to_video({"video_name": "video_c"})[0]
    assert path.endswith("video_c.MP4")
    clip = load_video(Video(path=path), FrameSampling(max_frames=4))
    assert clip.frames.shape[0] == 4 and abs(float(clip.frames.mean()) - 120) < 6  # video_c: grey level 120


def test_letter_rule_and_target() -> None:
    assert extract_perceptiontest_letter(" (B) the blue cup") == "B"
    assert extract_perceptiontest_letter("Based on it, C.") == "C"  # no letter inside a word
    assert extract_perceptiontest_letter("A man lifts cup C") == "A"  # the article counts (lmms-eval quirk)
    assert extract_perceptiontest_letter("E") is None and extract_perceptiontest_letter(None) is None
    utils = _utils()
    doc = {"video_name": "v", "question_id": "0", "options": perceptiontest.OPTIONS, "answer_id": "2"}
    assert utils.doc_to_target(doc) == "C"
    with pytest.raises(SampleError, match=r"answer_id '3' is not an index into its 3 options"):
        utils.doc_to_target({**doc, "answer_id": "3"})
