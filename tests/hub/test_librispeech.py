"""LibriSpeech tasks (chunked, long form, long-vs-chunked report, length sweep) and the long-set
builder, on fixtures of openslr/librispeech_asr and lmms-lab-audio/Librispeech-concat.

Expected scores are computed by hand (arithmetic in the comments) from the fixture texts
(tests/hub/librispeech.py) and the scripted model's constant answer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hub.common import RATE, needs_flite, run_lmms_eval, sample_records
from hub.librispeech import CHAPTERS, LONG_ID, UTTERANCE_ID, build, long_features, utterance_features, utterances

TESTS = Path(__file__).parents[1]
KEY = "wer_open_asr,none"
ANSWER = "the end"


@pytest.fixture(scope="module", autouse=True)
def datasets_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A fresh ``datasets`` cache for the in-process loads: a fixture folder rebuilt at a path
    used before must not be read back from an older run's cache."""
    import datasets

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path_factory.mktemp("hf_datasets"))
        yield


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("librispeech"))


def load(mirror: Path, repo_id: str, config: str | None, split: str) -> Any:
    """A split of a hub-shaped folder, read through a cache of its own: ``datasets`` keys local
    parquet folders so that two fixture folders written alike can share a cache entry."""
    import datasets

    cache = mirror / ".hf_cache" / repo_id.replace("/", "--")
    return datasets.load_dataset(str(mirror / repo_id), config, split=split, cache_dir=str(cache))


@needs_flite
def test_fixtures_have_the_hub_schemas(mirror: Path) -> None:
    for config in CHAPTERS:
        ds = load(mirror, UTTERANCE_ID, config, "test")
        assert ds.features == utterance_features()
        assert ds.features["audio"].sampling_rate == 16000
        ids = ds["id"]
        assert sorted(ids) == [u[0] for u in utterances(config)] and ids != sorted(ids)  # stored shuffled
        long = load(mirror, LONG_ID, None, f"test_{config}")
        assert long.features == long_features()
        assert sorted(long["audio_id"]) == sorted(CHAPTERS[config])


@needs_flite
def test_builder_joins_each_chapter_in_id_order(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.tasks.librispeech import build_long

    monkeypatch.setenv("LMMS_EVAL_HUB_MIRROR", str(mirror))
    for config in CHAPTERS:
        path = build_long.build(config, "test", tmp_path / "out")
        assert path.name == f"test_{config}-00000-of-00001.parquet"
    built_root = tmp_path / "out" / LONG_ID
    assert "- split: test_clean" in (built_root / "README.md").read_text()
    assert "- split: test_other" in (built_root / "README.md").read_text()

    built = load(tmp_path / "out", LONG_ID, None, "test_clean")
    assert built.features == long_features()  # the Librispeech-concat fixture's features exactly
    # chapters ordered by (speaker_id, chapter_id): 121 < 1089
    assert built["audio_id"] == ["121-121726", "1089-134686"]
    row = built.with_format("arrow")[1:2].to_pylist()[0]
    # 1089-134686-0000/1/2 stored as rows 1, 2, 4 of the shuffled split, joined in id order:
    assert row["transcript"] == "THE END IS NEAR WE SAW THE END GOOD NIGHT"
    waves = [w for utt_id, _, w in utterances("clean") if utt_id.startswith("1089-134686-")]
    from lmms_eval.media import decode_audio, to_mono

    wave, rate = decode_audio(row["audio"], where="built row")
    wave = to_mono(wave)
    # length = sum of the three utterances' samples; no gap; samples identical (both 16-bit PCM)
    assert rate == RATE and len(wave) == sum(len(w) for w in waves)
    assert np.array_equal(wave, np.concatenate(waves))
    assert row["audio_duration"] == pytest.approx(len(wave) / RATE)

    # and the same recordings and (case-folded) transcripts as the Librispeech-concat fixture
    hub = load(mirror, LONG_ID, None, "test_clean").with_format("arrow")[:].to_pylist()
    by_id = {r["audio_id"]: r for r in hub}
    for ours in built.with_format("arrow")[:].to_pylist():
        theirs = by_id[ours["audio_id"]]
        assert ours["transcript"].lower() == theirs["transcript"].lower()
        assert ours["audio_duration"] == pytest.approx(theirs["audio_duration"])
        a, _ = decode_audio(ours["audio"], where="built")
        b, _ = decode_audio(theirs["audio"], where="fixture")
        assert np.array_equal(a, b)


@needs_flite
def test_builder_streams_one_chapter_at_a_time(mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmms_eval.tasks.librispeech import build_long

    ds = load(mirror, UTTERANCE_ID, "other", "test")
    reads: list[list[str]] = []
    real = build_long.read_utterances

    def spy(dataset: Any, rows: Any) -> Any:
        out = real(dataset, rows)
        reads.append([u.id for u in out])
        return out

    monkeypatch.setattr(build_long, "read_utterances", spy)
    rows = build_long.iter_long_rows(ds)
    first = next(rows)
    # one chapter decoded so far, and only its utterances (1688-142285: rows 4 and 1 of the file)
    assert reads == [["1688-142285-0000", "1688-142285-0001"]] and first["audio_id"] == "1688-142285"
    assert [r["audio_id"] for r in rows] == ["2033-164914", "3005-163389"]
    assert [len(r) for r in reads] == [2, 1, 5]


def test_pack_is_greedy_over_consecutive_utterances() -> None:
    from lmms_eval.tasks.librispeech.build_long import pack

    # 10+15 = 25 <= 30; +10 = 35 > 30 -> new window; 10+20 = 30 <= 30; 40 alone (> 30); 5
    assert pack([10, 15, 10, 20, 40, 5], 30) == [[0, 1], [2, 3], [4], [5]]
    assert pack([], 30) == []
    assert pack([31], 30) == [[0]]


@needs_flite
def test_windows_of_a_chapter(mirror: Path) -> None:
    from lmms_eval.tasks.librispeech.build_long import iter_window_rows

    ds = load(mirror, UTTERANCE_ID, "clean", "test")
    d = {utt_id: len(w) / RATE for utt_id, _, w in utterances("clean")}
    limit = d["1089-134686-0000"] + d["1089-134686-0001"]  # the first two fit exactly; the third does not
    rows = list(iter_window_rows(ds, limit))
    # chapter 121-121726 (2.1 s in all) fits in one window iff it is <= limit; compute it so
    short = d["121-121726-0000"] + d["121-121726-0001"]
    expected = (
        [("121-121726-0000_0001", "THE END IT WAS COLD", 2)]
        if short <= limit
        else [("121-121726-0000_0000", "THE END", 1), ("121-121726-0001_0001", "IT WAS COLD", 1)]
    )
    expected += [
        ("1089-134686-0000_0001", "THE END IS NEAR WE SAW THE END", 2),
        ("1089-134686-0002_0002", "GOOD NIGHT", 1),
    ]
    assert [(r["audio_id"], r["transcript"], r["n_utterances"]) for r in rows] == expected
    assert rows[-2]["audio_duration"] == pytest.approx(limit)


def test_windows_of_a_split_without_chapters_is_one_clear_line() -> None:
    import datasets

    from lmms_eval.api.errors import DatasetError
    from lmms_eval.tasks.librispeech.utils import windows_30s

    # lmms-eval's copy (lmms-lab-audio/librispeech) has no ids: the windows cannot be built
    lmms_copy = datasets.Dataset.from_dict({"gt": ["HI"], "source": ["x"]})
    with pytest.raises(DatasetError, match=r"lacks column\(s\) \['id', 'speaker_id', 'chapter_id', 'text', 'audio'\]"):
        windows_30s(lmms_copy)


def test_reports_on_aero_numbers() -> None:
    from lmms_eval.tasks.librispeech.utils import length_sweep, long_vs_chunked, per_task

    aero = {
        "librispeech_test_clean_long": 5.31,
        "librispeech_test_other_long": 11.71,
        "librispeech_test_clean": 1.49,
        "librispeech_test_other": 3.17,
    }
    out = long_vs_chunked({t: {KEY: v} for t, v in aero.items()})
    # (5.31 - 1.49) + (11.71 - 3.17) = 3.82 + 8.54 = 12.36: Aero's "Avg Diff" column
    assert out["test_clean_diff"] == pytest.approx(3.82) and out["test_other_diff"] == pytest.approx(8.54)
    assert out["diff_sum"] == pytest.approx(12.36)
    # Qwen2-Audio-Instruct: (93.01 - 3.59) + (93.63 - 7.46) = 89.42 + 86.17 = 175.59
    qwen = {"librispeech_test_clean_long": 93.01, "librispeech_test_other_long": 93.63}
    qwen |= {"librispeech_test_clean": 3.59, "librispeech_test_other": 7.46}
    assert long_vs_chunked({t: {KEY: v} for t, v in qwen.items()})["diff_sum"] == pytest.approx(175.59)
    partial = long_vs_chunked({"librispeech_test_clean_long": {KEY: 5.31}})
    assert partial["diff_sum"] is None and partial["test_clean_diff"] is None
    assert per_task({"librispeech_test_clean": {KEY: 1.49}}) == {"test_clean": 1.49}
    sweep = length_sweep({"librispeech_test_other_len_5m": {KEY: 7.0}})
    assert sweep == {"test_other_5m": 7.0, "test_other_5m_seconds": 300.0}


@needs_flite
def test_constant_answer_long_vs_chunked_and_sweep(mirror: Path, tmp_path: Path) -> None:
    data = run_lmms_eval(
        mirror,
        tmp_path,
        "--model",
        "scripted_model:ScriptedModel",
        "--model_args",
        f"mode=constant,constant={ANSWER}",
        "--tasks",
        "librispeech_long_vs_chunked,librispeech_length_sweep,librispeech",
    )
    res = data["results"]
    # Hypothesis "the end" (2 words) everywhere.
    # Chunked clean: "the end is near" 2 D; "we saw the end" 2 D; "good night" 2 S; "the end" 0;
    #   "it was cold" 2 S + 1 D = 3.  (2 + 2 + 2 + 0 + 3) / (4 + 4 + 2 + 2 + 3) = 9/15 = 60 %.
    assert res["librispeech_test_clean"][KEY] == pytest.approx(60.0)
    # Long clean: "the end is near we saw the end good night" (10 words): 8 D; "the end it was
    #   cold" (5): 3 D.  (8 + 3) / 15 = 11/15 = 73.33 %.
    assert res["librispeech_test_clean_long"][KEY] == pytest.approx(1100 / 15)
    # Chunked other: "the end of the day" 3 D; "at the end" 1 D; "no more" 2 S; 5 x "the end came"
    #   1 D each = 5.  (3 + 1 + 2 + 5) / (5 + 3 + 2 + 15) = 11/25 = 44 %.
    assert res["librispeech_test_other"][KEY] == pytest.approx(44.0)
    # Long other: "the end of the day at the end" (8): 6 D; "no more" (2): 2 S; "the end came" x 5
    #   (15 words): the hypothesis matches one "the end", 13 D.  (6 + 2 + 13) / 25 = 21/25 = 84 %.
    assert res["librispeech_test_other_long"][KEY] == pytest.approx(84.0)
    report = res["librispeech_long_vs_chunked"]
    assert report["test_clean_diff,report"] == pytest.approx(1100 / 15 - 60)  # 73.33 - 60 = 13.33
    assert report["test_other_diff,report"] == pytest.approx(40.0)  # 84 - 44
    assert report["diff_sum,report"] == pytest.approx(1100 / 15 - 60 + 40)  # 13.33 + 40 = 53.33
    assert report["test_clean_long,report"] == pytest.approx(1100 / 15)
    assert report["test_other_chunked,report"] == pytest.approx(44.0)
    # Windows. Chapters 121-121726, 1089-134686, 1688-142285, 2033-164914 last 1-4 s: one window
    # each, scored as in the long set. 3005-163389 is 5 utterances of exactly 7 s (35 s):
    #   30 s windows: 7+7+7+7 = 28 s, + 7 = 35 > 30 -> [0000..0003] (12 words: 10 D) and [0004]
    #   (3 words: 1 D).  Other at 30 s: (6 + 2 + 10 + 1) / 25 = 19/25 = 76 %.
    #   15 min windows: the whole chapter, as the long set: 84 %.  Clean at 30 s: 11/15 as long.
    assert res["librispeech_test_clean_len_30s"][KEY] == pytest.approx(1100 / 15)
    assert res["librispeech_test_other_len_30s"][KEY] == pytest.approx(76.0)
    assert res["librispeech_test_other_len_15m"][KEY] == pytest.approx(84.0)
    # `librispeech`: no mean, each member's WER repeated (the dev splits hold the test rows here)
    assert {k: v for k, v in res["librispeech"].items() if k.endswith(",report")} == {
        "dev_clean,report": pytest.approx(60.0),
        "dev_other,report": pytest.approx(44.0),
        "test_clean,report": pytest.approx(60.0),
        "test_other,report": pytest.approx(44.0),
    }
    assert KEY not in res["librispeech"]
    sweep = res["librispeech_length_sweep"]
    assert sweep["test_other_30s,report"] == pytest.approx(76.0) and sweep["test_other_30s_seconds,report"] == 30
    assert sweep["test_other_15m,report"] == pytest.approx(84.0)
    assert sweep["test_clean_30s,report"] == pytest.approx(1100 / 15)

    for task, n in (("librispeech_test_clean", 5), ("librispeech_test_clean_long", 2)):
        recs = sample_records(tmp_path, task)
        assert len(recs) == n and all(r["status"] == "ok" for r in recs)
        assert recs[0]["prompt"][0]["content"][-1]["text"] == (
            "Please recognize the speech and only output the recognized content:"
        )
    ids = sorted(r["doc_id"] for r in sample_records(tmp_path, "librispeech_test_other_long"))
    assert ids == ["1688-142285", "2033-164914", "3005-163389"]
    windows = sorted(r["doc_id"] for r in sample_records(tmp_path, "librispeech_test_clean_len_30s"))
    assert windows == ["1089-134686-0000_0002", "121-121726-0000_0001"]
    windows = sorted(r["doc_id"] for r in sample_records(tmp_path, "librispeech_test_other_len_30s"))
    assert windows == [
        "1688-142285-0000_0001",
        "2033-164914-0000_0000",
        "3005-163389-0000_0003",
        "3005-163389-0004_0004",
    ]
    by_id = {r["doc_id"]: r for r in sample_records(tmp_path, "librispeech_test_other_len_30s")}
    assert by_id["3005-163389-0004_0004"]["target"] == "THE END CAME"


@needs_flite
def test_pocketsphinx_long_vs_chunked(mirror: Path, tmp_path: Path) -> None:
    pytest.importorskip("pocketsphinx")
    import jiwer
    from whisper_normalizer.english import EnglishTextNormalizer

    data = run_lmms_eval(mirror, tmp_path, "--model", "pocketsphinx", "--tasks", "librispeech_long_vs_chunked")
    res = data["results"]
    norm = EnglishTextNormalizer()
    for task in ("librispeech_test_clean", "librispeech_test_other", *(f"librispeech_test_{c}_long" for c in CHAPTERS)):
        recs = sample_records(tmp_path, task)
        assert all(r["status"] == "ok" for r in recs) and res[task]["n_errors"] == 0
        # the rule recomputed from the logged outputs alone: Whisper normaliser, corpus WER
        refs = [" ".join(norm(r["target"]).split()) for r in recs]
        hyps = [" ".join(norm(r["raw_output"]).split()) for r in recs]
        out = jiwer.process_words(refs, hyps)
        expected = 100 * (out.substitutions + out.deletions + out.insertions) / sum(len(x.split()) for x in refs)
        assert res[task][KEY] == pytest.approx(expected)
        assert 0.0 <= res[task][KEY] < 100.0, (task, [r["raw_output"] for r in recs])
    report = res["librispeech_long_vs_chunked"]
    for split in ("test_clean", "test_other"):
        long_wer, chunked = res[f"librispeech_{split}_long"][KEY], res[f"librispeech_{split}"][KEY]
        assert report[f"{split}_diff,report"] == pytest.approx(long_wer - chunked)
    assert report["diff_sum,report"] == pytest.approx(
        report["test_clean_diff,report"] + report["test_other_diff,report"]
    )


@needs_flite
def test_aero_cli_librispeech_long(mirror: Path, tmp_path: Path) -> None:
    """The product's headline command on a tiny Aero-shaped remote-code checkpoint."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    sys.path.insert(0, str(TESTS / "models"))
    from tiny_audio import build_aero_stand_in

    ckpt = build_aero_stand_in()
    data = run_lmms_eval(
        mirror,
        tmp_path,
        "--model",
        "aero",
        "--model_args",
        f"pretrained={ckpt},device=cpu",
        "--tasks",
        "librispeech_long",
        # a random tiny model rarely stops on its own: cap the answer (the task asks for 8192)
        "--gen_kwargs",
        "max_new_tokens=16",
        timeout=600,
    )
    res = data["results"]
    for config in CHAPTERS:
        task = f"librispeech_test_{config}_long"
        assert res[task][KEY] is not None and res[task][KEY] >= 0.0
        assert res[task]["n_samples"] == len(CHAPTERS[config]) and res[task]["n_errors"] == 0
        assert all(r["status"] == "ok" for r in sample_records(tmp_path, task))
    assert data["group_subtasks"]["librispeech_long"] == ["librispeech_test_clean_long", "librispeech_test_other_long"]
