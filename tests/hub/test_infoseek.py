"""InfoSeek val from the official JSONL layout: qtype joined by data_id, images read by path (three
extensions), the official rule with the harmonic-mean final score, per split and question type,
per-sample errors for a missing image or question type, and --limit on one split."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, infoseek
from hub.common import records, run_evaluator
from lmms_eval.api.errors import SampleError
from lmms_eval.api.messages import Image, Text

TASK_DIR = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "infoseek"
TASK = "infoseek_val_fixture"


class TableModel(common.TableModel):
    """Answers each question from ``infoseek.ANSWERS`` keyed by data_id; keeps the requests."""

    answers = infoseek.ANSWERS


@pytest.fixture
def task_root(tmp_path: Path) -> Path:
    """A copy of the task folder under an --include_path root, its task renamed (the built-in name
    is taken), with the fixture files as its ``data/``."""
    root = tmp_path / "tasks"
    infoseek.build(common.renamed_task_copy(root, TASK_DIR, "infoseek_val.yaml", TASK, ["utils.py"]) / "data")
    return root


def test_process_docs_joins_the_qtype_file() -> None:
    from lmms_eval.tasks.infoseek import utils

    rows = infoseek.val_rows() + infoseek.qtype_rows()
    docs = utils.process_docs(rows)
    assert [d["data_id"] for d in docs] == list(infoseek.QUESTIONS)  # qtype-only rows dropped
    assert docs[0]["question_type"] == "string" and docs[7]["question_type"] == "Numerical"
    assert docs[10]["question_type"] is None  # infoseek_val_11 has no qtype line


def test_image_path_tries_the_extensions(tmp_path: Path) -> None:
    from lmms_eval.tasks.infoseek import utils

    infoseek.build(tmp_path)
    found = [
        utils.image_path({"data_id": d, "image_id": infoseek.image_id(d)}, tmp_path / "images").name
        for d in ("infoseek_val_01", "infoseek_val_02", "infoseek_val_05")
    ]
    assert found == ["oven_000001.jpg", "oven_000002.JPEG", "oven_000005.png"]
    with pytest.raises(SampleError, match=r"'infoseek_val_10': image .*oven_000010\{\.jpg\|\.JPEG.* not found; put"):
        utils.image_path({"data_id": "infoseek_val_10", "image_id": "oven_000010"}, tmp_path / "images")


def test_infoseek_val_scores_by_hand(task_root: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), include_path=[str(task_root)], max_error_rate=0.5)
    res = results["results"][TASK]
    # scored (per infoseek.QUESTIONS): unseen_question 01 right, 03 wrong (time: 1991 vs 1990, no
    # +/-1 year), 05 right (100 in [90, 110]), 08 right (1,100 in [1000, 1200]; qtype "Numerical"),
    # 09 right (no number -> [0, 0], inside [-5, 5], as officially) -> 4/5 = 80.00;
    # unseen_entity 02 wrong, 04 right, 06 right ([9, 10] inside [9, 11]), 07 wrong ([150, 300] vs
    # [100, 200]: IoU 50 / 200 = 0.25) -> 2/4 = 50.00. 10 (image missing), 11 (no qtype): errors.
    # final = harmonic mean = 2 * 80 * 50 / (80 + 50) = 61.538... -> 61.54
    assert res["infoseek_score,none"] == pytest.approx(61.54)
    assert res["infoseek_acc,none"] == pytest.approx(6 / 9)
    assert res["infoseek_parse_rate,none"] == pytest.approx(8 / 9)  # 09 found no number
    assert res["infoseek_acc,none,split=unseen_question"] == pytest.approx(4 / 5)
    assert res["infoseek_acc,none,split=unseen_entity"] == pytest.approx(2 / 4)
    assert res["infoseek_acc,none,question_type=string"] == pytest.approx(1 / 2)  # 01, 02
    assert res["infoseek_acc,none,question_type=time"] == pytest.approx(1 / 2)  # 03, 04
    assert res["infoseek_acc,none,question_type=numerical"] == pytest.approx(4 / 5)  # 05-09 (08 "Numerical")
    # numerical: unseen_question 05, 08, 09 3/3 = 100, unseen_entity 06, 07 1/2 = 50 -> 2*100*50/150
    assert res["infoseek_score,none,question_type=numerical"] == pytest.approx(66.67)
    # one split alone has no harmonic mean
    assert res.get("infoseek_score,none,split=unseen_question") is None
    assert res["n_errors"] == 2
    recs = records(run_dir, TASK)
    assert "oven_000010{.jpg|.JPEG|.jpeg|.JPG|.png} not found" in str(recs["infoseek_val_10"])
    assert "infoseek_val_qtype.jsonl" in str(recs["infoseek_val_11"])
    # the official BLIP-2 prompt, the image before it
    request = TableModel.requests["infoseek_val_01"]
    (message,) = request.messages
    assert isinstance(message.content[0], Image)
    assert [p.text for p in message.content if isinstance(p, Text)] == [
        "Question: What is asked in infoseek_val_01? Short answer:"
    ]


def test_limit_to_one_split_has_no_final_score(task_root: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), include_path=[str(task_root)], limit=1)
    res = results["results"][TASK]
    assert res["infoseek_acc,none"] == pytest.approx(1.0)  # 01 only
    assert res["infoseek_score,none"] is None
