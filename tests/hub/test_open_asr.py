"""open_asr tasks on a fixture of hf-audio/esb-datasets-test-only-sorted, through the real CLI.

Expected scores are computed by hand (arithmetic in the comments) from the fixture's references
(tests/hub/open_asr.py) and the scripted model's constant answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.common import needs_flite, run_lmms_eval, sample_records
from hub.open_asr import LEFT_OUT, ROWS, build

TESTS = Path(__file__).parents[1]
TASK_DIR = TESTS.parent / "lmms_eval" / "tasks" / "open_asr"
ESB_TASKS = ["open_asr_ami", "open_asr_earnings22", "open_asr_spgispeech", "open_asr_tedlium"]
KEY = "wer_open_asr,none"
ANSWER = "the report is ready"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("esb")
    build(root)
    return root


@needs_flite
def test_constant_answer_scores_by_hand(mirror: Path, tmp_path: Path) -> None:
    data = run_lmms_eval(
        mirror,
        tmp_path,
        "--model",
        "scripted_model:ScriptedModel",
        "--model_args",
        f"mode=constant,constant={ANSWER}",
        "--tasks",
        "open_asr_esb",
    )
    res = data["results"]
    # Every hypothesis normalises to "the report is ready" (4 words).
    # AMI: "the report is ready" 0/4; "UM" -> "" left out; "the project is done today" vs the
    #   hypothesis: project->report, done->ready (2 S) + today (1 D) = 3/5.  (0 + 3) / (4 + 5) = 1/3.
    assert res["open_asr_ami"][KEY] == pytest.approx(100 / 3)
    # Earnings22: 0/4; "thank you" vs 4 words: 2 S + 2 I = 4 errors / 2 words.  4 / 6 = 2/3.
    assert res["open_asr_earnings22"][KEY] == pytest.approx(200 / 3)
    # SPGISpeech: "the report is ready thanks": 1 D / 5 words = 1/5.
    assert res["open_asr_spgispeech"][KEY] == pytest.approx(20.0)
    # TED-LIUM: "ignore_time_segment_in_scoring" left out; 0/4; "the report was not ready":
    #   was->is (1 S) + not (1 D) = 2/5.  2 / 9.
    assert res["open_asr_tedlium"][KEY] == pytest.approx(200 / 9)
    # Group: unweighted mean of the four corpus WERs: (1/3 + 2/3 + 1/5 + 2/9) / 4 = (64/45) / 4 = 16/45.
    assert res["open_asr_esb"][KEY] == pytest.approx(1600 / 45)
    assert res["open_asr_esb"]["wer_open_asr_sets,report"] == 4
    assert data["group_subtasks"]["open_asr_esb"] == ESB_TASKS
    # Weighted by words instead it would be (3 + 4 + 1 + 2) / (9 + 6 + 5 + 9) = 10/29: not what we report.
    assert res["open_asr_esb"][KEY] != pytest.approx(1000 / 29)

    for task in ESB_TASKS:
        assert res[task]["n_samples"] == len(ROWS[task.removeprefix("open_asr_")])
        assert res[task]["n_errors"] == 0
        assert data["configs"][task]["dataset_kwargs"]["revision"] == "d4563d5ee8689db6464a99dca59fdb1d3efdf19d"
        for rec in sample_records(tmp_path, task):
            assert rec["status"] == "ok" and rec["raw_output"] == ANSWER
            assert rec["prompt"][0]["content"][-1]["text"] == (
                "Please recognize the speech and only output the recognized content:"
            )
            counts = rec["scores"][KEY]
            if rec["doc_id"] in LEFT_OUT:
                # Counted, these would add 5 words ("ignore time segment in scoring") or 4 insertions.
                assert counts == {"errors": 0.0, "words": 0.0}, rec["doc_id"]
            else:
                assert counts["words"] > 0, rec["doc_id"]


def test_open_asr_group_is_the_unweighted_six_set_mean() -> None:
    """The `open_asr` group's YAML through the real group aggregation, on Aero's published numbers
    (the LibriSpeech tasks live in another folder, so their result entries are given here)."""
    from lmms_eval.api.task_config import GroupConfig, validate_config
    from lmms_eval.engine.aggregate import group_results
    from lmms_eval.tasks import TaskSelection
    from lmms_eval.tasks.index import TaskIndex
    from lmms_eval.tasks.yaml_loader import load_yaml_with_includes, resolve_functions

    TaskIndex.load()  # registers the task roots that `!function` may read from
    path = str(TASK_DIR / "open_asr.yaml")
    group = validate_config(GroupConfig, resolve_functions(load_yaml_with_includes(path)), path)
    aero = {
        "open_asr_ami": 10.53,
        "open_asr_earnings22": 13.79,
        "librispeech_test_clean": 1.49,
        "librispeech_test_other": 3.17,
        "open_asr_spgispeech": 1.97,
        "open_asr_tedlium": 2.87,
    }
    assert group.task == list(aero)
    selection = TaskSelection(groups={"open_asr": group}, group_members={"open_asr": group.task})
    results = {t: {KEY: v, "wer_open_asr_stderr,none": 0.1} for t, v in aero.items()}
    sizes = {"open_asr_ami": 12643, "open_asr_earnings22": 2741}  # weights must not matter
    entry = group_results("open_asr", selection, results, sizes)
    # (10.53 + 13.79 + 1.49 + 3.17 + 1.97 + 2.87) / 6 = 33.82 / 6 = 5.6367 -> Aero's "average 5.64"
    assert entry[KEY] == pytest.approx(33.82 / 6)
    assert round(entry[KEY], 2) == 5.64
    assert entry["wer_open_asr_sets,report"] == 6
    # LibriSpeech scored under another metric name: the mean silently covers 4 sets; the report shows it.
    for name in ("librispeech_test_clean", "librispeech_test_other"):
        results[name] = {"wer,none": aero[name]}
    partial = group_results("open_asr", selection, results, sizes)
    assert partial["wer_open_asr_sets,report"] == 4
    assert partial[KEY] == pytest.approx((10.53 + 13.79 + 1.97 + 2.87) / 4)


@needs_flite
def test_prompt_overrides_per_model(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.tasks.task import Task

    monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(mirror))
    task = Task.from_yaml(str(TASK_DIR / "open_asr_tedlium.yaml"))
    doc = task.doc(1)
    base = "Please recognize the speech and only output the recognized content:"
    assert task.build_messages(doc, "aero")[0].text() == base
    assert task.build_messages(doc, "qwen2_audio")[0].text() == base + " <|en|>"
    assert task.build_messages(doc, "qwen2_5_omni")[0].text() == (
        "Transcribe the English audio into text without any punctuation marks." + base
    )


@needs_flite
def test_pocketsphinx_end_to_end(mirror: Path, tmp_path: Path) -> None:
    pytest.importorskip("pocketsphinx")
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    data = run_lmms_eval(mirror, tmp_path, "--model", "pocketsphinx", "--tasks", "open_asr_esb")
    res = data["results"]
    norm = EnglishTextNormalizer()
    means: list[float] = []
    errors = words = 0
    for task in ESB_TASKS:
        recs = sample_records(tmp_path, task)
        assert all(r["status"] == "ok" for r in recs) and res[task]["n_errors"] == 0
        # Recompute the leaderboard rule from the logged outputs alone: normalise, drop the
        # references that normalise to "" or the TED-LIUM marker, corpus WER over the rest.
        refs, hyps = [], []
        for r in recs:
            ref = " ".join(norm(r["target"]).split())
            if ref in ("", "ignore time segment in scoring"):
                assert r["doc_id"] in LEFT_OUT
                continue
            refs.append(ref)
            hyps.append(" ".join(norm(r["raw_output"]).split()))
        out = jiwer.process_words(refs, hyps)
        expected = 100 * (out.substitutions + out.deletions + out.insertions) / sum(len(x.split()) for x in refs)
        assert res[task][KEY] == pytest.approx(expected)
        assert 0.0 <= res[task][KEY] < 100.0, (task, [r["raw_output"] for r in recs])
        means.append(res[task][KEY])
        errors += out.substitutions + out.deletions + out.insertions
        words += sum(len(x.split()) for x in refs)
    # flite speech read by pocketsphinx: a working pipeline gets most words right over the 29
    # scored reference words (pocketsphinx 5.1.1 makes 6 errors here: 20.7 %; random text ~100 %).
    assert words == 29 and 100 * errors / words < 35.0
    assert res["open_asr_esb"][KEY] == pytest.approx(sum(means) / 4)


@needs_flite
def test_open_asr_group_on_both_fixtures(tmp_path: Path) -> None:
    """The six-set group of Aero's ASR table, run end to end on one mirror holding the ESB and the
    LibriSpeech fixtures (tests/hub/librispeech.py)."""
    from hub import librispeech

    root = tmp_path / "mirror"
    build(root)
    librispeech.build_utterances(root)
    data = run_lmms_eval(
        root,
        tmp_path / "out",
        "--model",
        "scripted_model:ScriptedModel",
        "--model_args",
        f"mode=constant,constant={ANSWER}",
        "--tasks",
        "open_asr",
    )
    res = data["results"]
    # LibriSpeech test-clean against "the report is ready" (4 words), edits per reference:
    #   "the end is near" 2 S; "we saw the end" 4 S; "good night" 2 S + 2 I; "the end" 1 S + 2 I;
    #   "it was cold" 3 S + 1 I  ->  (2 + 4 + 4 + 3 + 4) / (4 + 4 + 2 + 2 + 3) = 17/15.
    assert res["librispeech_test_clean"][KEY] == pytest.approx(1700 / 15)
    # test-other: "the end of the day" 3 S + 1 D; "at the end" 1 D + 1 S + 2 I (or 3 S + 1 I);
    #   "no more" 2 S + 2 I; "the end came" x5: 2 S + 1 I each  ->  (4 + 4 + 4 + 15) / (5 + 3 + 2 + 15) = 27/25.
    assert res["librispeech_test_other"][KEY] == pytest.approx(108.0)
    # the six-set mean: (100/3 + 200/3 + 340/3 + 108 + 20 + 200/9) / 6 = (3272/9) / 6
    assert res["open_asr"][KEY] == pytest.approx(3272 / 54)
    assert res["open_asr"]["wer_open_asr_sets,report"] == 6
    assert data["higher_is_better"]["open_asr"] == {"wer_open_asr": False}
    assert data["units"]["open_asr"] == {"wer_open_asr": "%"}
