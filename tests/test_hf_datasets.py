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
