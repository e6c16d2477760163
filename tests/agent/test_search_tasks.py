"""FVQA, MMSearch and SimpleVQA under the built-in ``search`` variant (MMSearch-R1's protocol) on
their hub-schema fixtures: the bare question in the Search Template, the official scores of the
last ``<answer>``, a text-only MMSearch query whose image search fails, and the parse rates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hub import fvqa, mmsearch, simplevqa
from hub.common import fixture_mirror
from tools.corpus_fixture import write_corpus

from agent.scripted_agent import of
from lmms_eval.agent.search_prompts import MMSEARCH_R1_ROUND1
from lmms_eval.tools.formatting import IMAGE_SEARCH_ERROR

IMG = "<reason>Not sure.</reason><search><img></search>"


def build(root: Path) -> Path:
    for fixture in (fvqa, mmsearch, simplevqa):
        fixture.build(root)
    return root


mirror = fixture_mirror(build)


def run(tmp_path: Path, task: str, script: dict[str, list[str]]) -> tuple[Any, dict[str, Any], Any]:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tools.corpus import build_index

    corpus = tmp_path / "corpus"
    if not corpus.exists():
        build_index(write_corpus(corpus))
    model = of(script)
    cfg = RunConfig(
        model="scripted_agent",
        tasks=[task],
        output_path=str(tmp_path / task),
        show_progress=False,
        prompt_variant="search",
        tools=f"backend=corpus,corpus={corpus}",
        batch_size=8,
    )
    outcome = Evaluator(cfg, model=model).run()
    assert outcome.exit_code == 0, outcome.message
    lines = (Path(outcome.run_dir) / f"samples_{task}.jsonl").read_text().splitlines()
    return outcome.results["results"][task], {str(r["doc_id"]): r for r in map(json.loads, lines)}, model


def test_fvqa_scores_the_last_answer_and_counts_the_tag(mirror: Path, tmp_path: Path) -> None:
    script = {"fvqa_test_0": [IMG, "<answer>the Kingdom of Spain</answer>"], "fvqa_test_1": ["It is Buddha."]}
    res, records, model = run(tmp_path, "fvqa_test", script)
    first = model.requests[0].messages[0]
    assert first.content[0].text == MMSEARCH_R1_ROUND1  # the Search Template, then the image, then the question
    assert first.content[-1].text == f"\n{fvqa.ITEMS[str(model.requests[0].doc_id)][1]}\n"  # bare: no post_prompt
    # 0 right (an alias); 1 gave no action: empty answer, unparsed; the other four "<answer>none</answer>"
    assert res["fvqa_em,none"] == pytest.approx(1 / 6)
    assert res["fvqa_parse_rate,none"] == pytest.approx(5 / 6)  # read from the whole last turn
    assert res["search_ratio,agent"] == pytest.approx(1 / 6)
    assert records["fvqa_test_1"]["filtered"] == {"none": ""}


def test_mmsearch_text_only_query_fails_its_image_search_and_goes_on(mirror: Path, tmp_path: Path) -> None:
    script = {"news_1": [IMG, "<answer>2024-08-11</answer>"], "knowledge_0": ["<answer>starry night painting</answer>"]}
    res, records, _ = run(tmp_path, "mmsearch_end2end", script)
    news = records["news_1"]
    tool = next(t for t in news["transcript"] if t["role"] == "tool")
    assert tool["error"] == "the sample has no image to search"
    assert news["transcript"][-2]["content"][0]["text"] == IMAGE_SEARCH_ERROR  # the official error line, bare
    assert news["status"] == "ok" and news["scores"]["mmsearch_f1,none"] == 1.0
    assert res["mmsearch_f1,none"] == pytest.approx(2 / 4)  # news_1 and knowledge_0 right, two "none"
    assert res["search_failed,agent"] == pytest.approx(1 / 4)


def test_simplevqa_sends_the_bare_question_under_search(mirror: Path, tmp_path: Path) -> None:
    res, _, model = run(tmp_path, "simplevqa", {"1012": ["<reason>The tower.</reason><answer> paris </answer>"]})
    texts = {str(r.doc_id): r.messages[0].content[-1].text for r in model.requests}
    assert texts["1012"] == "\nWhich city is this landmark in?\n"
    assert texts["0"] == "\n图中建筑位于哪个城市？\n"  # not the official answer prompt: the template replaces it
    assert res["simplevqa_em_lenient,none"] == pytest.approx(1 / 4)
