"""The InfoSeek 2k subset (MMSearch-R1's parquet, veRL format) through the real loading code:
direct mode scored by MMSearch-R1's exact match, and the search variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import common, infoseek_sub_2k
from hub.common import run_evaluator

TASK_DIR = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "infoseek"
TASK = "infoseek_sub_2k_fixture"


class TableModel(common.TableModel):
    answers = infoseek_sub_2k.ANSWERS


@pytest.fixture
def task_root(tmp_path: Path) -> Path:
    files = ["utils.py", "verl_format.py"]
    folder = common.renamed_task_copy(tmp_path / "tasks", TASK_DIR, "infoseek_sub_2k.yaml", TASK, files)
    infoseek_sub_2k.build(folder / "data")
    return tmp_path / "tasks"


def test_the_2k_subset_scores_mmsearch_r1_exact_match(task_root: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel(), include_path=[str(task_root)])
    res = results["results"][TASK]
    # 0 right (a candidate), 1 wrong, 2 no tag: the whole reply, right (our documented fallback), 3 right (PRT)
    assert res["fvqa_em,none"] == pytest.approx(3 / 4)
    assert res["fvqa_parse_rate,none"] == pytest.approx(3 / 4)
    request = TableModel.requests["0"]
    assert request.prompt_text().startswith("What is the country of origin of this food?\nWrap your final answer")
    assert len(request.images()) == 1


def test_the_2k_subset_runs_under_the_search_variant(task_root: Path, tmp_path: Path) -> None:
    from agent.scripted_agent import of
    from tools.corpus_fixture import write_corpus

    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tools.corpus import build_index

    corpus = write_corpus(tmp_path / "corpus")
    build_index(corpus)
    model = of({"0": ["<search><img></search>", "<answer>Spain</answer>"]})
    cfg = RunConfig(
        model="scripted_agent",
        tasks=[TASK],
        include_path=[str(task_root)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
        prompt_variant="search",
        tools=f"backend=corpus,corpus={corpus}",
    )
    outcome = Evaluator(cfg, model=model).run()
    res = outcome.results["results"][TASK]
    assert res["fvqa_em,none"] == pytest.approx(1 / 4) and res["search_ratio,agent"] == pytest.approx(1 / 4)
    assert model.requests[0].messages[0].content[-1].text == "\nWhat is the country of origin of this food?\n"
