"""Tasks loaded through `datasets.load_dataset` (the hub path), on local parquet made here."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from scripted_model import ScriptedConfig, ScriptedModel

from lmms_eval.engine.evaluator import Evaluator
from lmms_eval.engine.run_config import RunConfig

datasets = pytest.importorskip("datasets")


def _png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buf, format="PNG")
    return buf.getvalue()


def make_parquet_task(root: Path) -> Path:
    """A DocVQA-like split with an Image feature, one row holding a corrupt image."""
    features = datasets.Features(
        {
            "questionId": datasets.Value("string"),
            "question": datasets.Value("string"),
            "answers": datasets.Sequence(datasets.Value("string")),
            "image": datasets.Image(),
        }
    )
    rows = {
        "questionId": ["a", "b", "c"],
        "question": ["Say red", "Say blue", "Say green"],
        "answers": [["red"], ["blue", "navy"], ["green"]],
        "image": [
            {"bytes": _png((255, 0, 0)), "path": None},
            {"bytes": _png((0, 0, 255)), "path": None},
            {"bytes": b"not a png at all", "path": None},
        ],
    }
    ds = datasets.Dataset.from_dict(rows, features=features)
    root.mkdir(parents=True, exist_ok=True)
    ds.to_parquet(str(root / "test.parquet"))
    (root / "pq.yaml").write_text(
        "task: pq_task\ndataset_path: parquet\ndataset_kwargs:\n  data_files: {test: test.parquet}\n"
        "test_split: test\ndoc_id_column: questionId\ndoc_to_visual: image\ndoc_to_text: '{{question}}'\n"
        "doc_to_target: answers\nmetric_list: [{metric: exact_match}, {metric: anls}]\n"
    )
    return root


def test_hf_loaded_task_with_images_and_a_corrupt_row(tmp_path: Path) -> None:
    tasks = make_parquet_task(tmp_path / "tasks")
    cfg = RunConfig(
        model="scripted",
        tasks=["pq_task"],
        include_path=[str(tasks)],
        output_path=str(tmp_path / "o"),
        show_progress=False,
        max_error_rate=0.5,
    )
    outcome = Evaluator(cfg, model=ScriptedModel(ScriptedConfig(decode=True))).run()  # images decoded ahead
    res = outcome.results["results"]["pq_task"]
    assert res["exact_match,none"] == 1.0 and res["n_errors"] == 1
    assert outcome.results["errors"]["pq_task"]["examples"][0]["doc_id"] in ("c", 2)
    assert outcome.results["dataset"]["pq_task"]["fingerprint"]
    lines = [json.loads(x) for x in next(Path(outcome.run_dir).glob("samples_*.jsonl")).read_text().splitlines()]
    ok = [r for r in lines if r["status"] == "ok"]
    assert ok[0]["prompt"][0]["content"][0]["type"] == "image" and ok[0]["prompt"][0]["content"][0]["size"] == [8, 6]
    assert "image" not in ok[0]["doc"]  # media left out of the logged document


def _wav(seconds: float, rate: int) -> bytes:
    import numpy as np
    import soundfile

    buf = io.BytesIO()
    t = np.arange(int(seconds * rate)) / rate
    soundfile.write(buf, (0.2 * np.sin(2 * np.pi * 300 * t)).astype("float32"), rate, format="WAV")
    return buf.getvalue()


def test_media_columns_stay_encoded_until_read_and_read_as_user_code_expects(tmp_path: Path) -> None:
    """Hub rows come through Arrow: plain columns as `datasets` gives them; an Image column decodes to
    a PIL image on access, an Audio column to {"path", "array", "sampling_rate"} (no torchcodec)."""
    import numpy as np

    from lmms_eval.engine.scoring import doc_for_record
    from lmms_eval.media import load_audio
    from lmms_eval.tasks.rows import LazyRow

    features = datasets.Features(
        {
            "qid": datasets.Value("string"),
            "n": datasets.Value("int32"),
            "options": datasets.Sequence(datasets.Value("string")),
            "images": datasets.Sequence(datasets.Image()),
            "audio": datasets.Audio(sampling_rate=16000),
        }
    )
    rows = {
        "qid": ["a", "b"],
        "n": [1, 2],
        "options": [["x", "y"], ["z"]],
        "images": [[{"bytes": _png((255, 0, 0)), "path": None}, {"bytes": _png((0, 255, 0)), "path": None}], []],
        "audio": [{"bytes": _wav(1.0, 8000), "path": "a.wav"}, {"bytes": _wav(0.5, 8000), "path": "b.wav"}],
    }
    root = tmp_path / "tasks"
    root.mkdir()
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(root / "test.parquet"))
    (root / "utils.py").write_text(
        "def visuals(doc):\n    return [im.convert('RGB') for im in doc['images']]\n\n"
        "def seconds(doc):\n    a = doc['audio']\n    return f\"{len(a['array']) / a['sampling_rate']:.2f}\"\n"
    )
    (root / "lazy.yaml").write_text(
        "task: lazy\ndataset_path: parquet\ndataset_kwargs: {data_files: {test: test.parquet}}\ntest_split: test\n"
        "doc_id_column: qid\ndoc_to_visual: !function utils.visuals\ndoc_to_audio: audio\n"
        "doc_to_text: 'Options: {{options}}'\ndoc_to_target: !function utils.seconds\n"
        "metric_list: [{metric: exact_match}]\n"
    )
    from lmms_eval.tasks.task import Task

    task = Task.from_yaml(str(root / "lazy.yaml"))
    first, second = task.docs([0, 1])
    assert isinstance(first, LazyRow) and dict.__getitem__(first, "images")[0]["bytes"].startswith(b"\x89PNG")
    expected = datasets.load_dataset("parquet", data_files={"test": str(root / "test.parquet")}, split="test")
    for key in ("qid", "n", "options"):
        assert first[key] == expected[0][key] and second[key] == expected[1][key]  # plain columns: as datasets
    assert [im.getpixel((0, 0)) for im in first["images"]] == [(255, 0, 0), (0, 255, 0)]
    audio = first["audio"]
    assert audio["sampling_rate"] == 16000 and audio["path"] == "a.wav" and audio["array"].shape == (16000,)
    assert second["images"] == []

    request = task.build_request(0, task.doc(0), 0, None)
    assert [type(p).__name__ for p in request.messages[0].content] == ["Image", "Image", "Audio", "Text"]
    part = request.audios()[0]
    assert part.raw is not None and part.cache == {}  # handed to the media layer still encoded
    wave, rate = load_audio(part, 16000)
    assert rate == 16000 and np.allclose(wave, audio["array"], atol=1e-6)
    assert task.target(task.doc(1)) == "0.50"
    logged = doc_for_record(first)
    assert logged == {"qid": "a", "n": 1, "options": ["x", "y"]}  # media left out of the log
