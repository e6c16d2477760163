"""SimpleVQA on a hub-shaped fixture: the official EN/ZH prompt, the lenient variant, and the
official judge prompt with its five label-judge metrics (CO/CGA/NA/IN/F1) against a local judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servers import LocalOpenAIServer, build_text_model, openai_server  # noqa: F401

from hub import common, simplevqa
from hub.common import content_text, fixture_mirror, records, run_evaluator

TASK = "simplevqa"


class TableModel(common.TableModel):
    """Answers each row from ``simplevqa.ANSWERS`` keyed by data_id."""

    answers = simplevqa.ANSWERS


mirror = fixture_mirror(simplevqa.build)

# The official judge prompt is ~2,850 characters, mostly Chinese; the test tokenizer (byte-level BPE
# trained on a short English corpus) spends ~3 tokens per CJK character, so one judge request is
# ~6,050 prompt tokens + the judge's 1,024-token reply budget: past the 4,096 positions of the shared
# scripted model, which `transformers serve` answers with HTTP 400. The scripted weights do not depend
# on the context length (RoPE is computed, not learned), so the judge here is the same scripted model
# with a 16,384-position config; the official prompt stays as it is.
LONG_CONTEXT = 16384


@pytest.fixture(scope="module")
def long_context_judge(openai_server: LocalOpenAIServer, tmp_path_factory: pytest.TempPathFactory) -> str:  # noqa: F811
    """``--judge`` for a scripted model that answers ``正确`` with a context long enough for the prompt."""
    path = build_text_model(tmp_path_factory.mktemp("simplevqa_judge") / "text-long", "正确")
    config_file = Path(path) / "config.json"
    config = json.loads(config_file.read_text())
    config["max_position_embeddings"] = LONG_CONTEXT
    config_file.write_text(json.dumps(config))
    return f"model={path},base_url={openai_server.base_url},api_key_env=NO_KEY_NEEDED"


def test_prompt_and_lenient_variant(mirror: Path, tmp_path: Path) -> None:
    results, _ = run_evaluator(tmp_path, [TASK], TableModel())
    res = results["results"][TASK]
    # lenient EM: 0 "北京" right, 1 "熊猫" != "大熊猫", 1012 " paris " right, 1013 wrong -> 2 / 4
    assert res["simplevqa_em_lenient,none"] == pytest.approx(2 / 4)
    assert res["simplevqa_em_lenient,none,language=ZH"] == pytest.approx(1 / 2)
    assert "simplevqa_f1,none" not in res  # the judge metrics need --judge
    en = TableModel.requests["1012"].messages[-1].text()
    assert en == (
        "If you are a computer vision expert, please understand the picture and answer the question below. "
        "The answer must be a short named entity:\n## Now let's ask the question:\nWhich city is this landmark in?\n"
    )
    zh = TableModel.requests["0"].messages[-1].text()
    assert zh.startswith("假如你是一个计算机视觉专家") and "## 下面我们提出问题: \n图中建筑位于哪个城市？\n" in zh
    assert len(TableModel.requests["0"].images()) == 1


def test_official_judge_through_a_real_server(long_context_judge: str, mirror: Path, tmp_path: Path) -> None:
    results, run_dir = run_evaluator(tmp_path, [TASK], TableModel(), judge=long_context_judge)
    res = results["results"][TASK]
    # every sample graded correct: CO 4/4, IN 0, NA 0, CGA 1/(1+0) = 1, F1 2*1*1/2 = 1
    assert res["simplevqa_co,none"] == pytest.approx(1.0)
    assert res["simplevqa_in,none"] == pytest.approx(0.0)
    assert res["simplevqa_na,none"] == pytest.approx(0.0)
    assert res["simplevqa_cga,none"] == pytest.approx(1.0)
    assert res["simplevqa_f1,none"] == pytest.approx(1.0)
    blocks = results["judge"]["summary"][TASK]["blocks"]
    assert blocks["simplevqa_f1"]["calls"] == 4
    assert blocks["simplevqa_co"]["calls"] == 0  # the same prompt: served from the cache
    logged = records(run_dir, TASK)
    calls = logged["1013"]["judge"]["blocks"]["simplevqa_f1"]["filters"]["none"]["calls"]
    prompt = content_text(calls[0]["prompt"][0]["content"])
    assert prompt.startswith("请根据给定问题、标准答案和模型预测的答案来评估模型的回答是否正确。")
    assert "问题: Who painted this? \n            正确答案: Vincent van Gogh \n" in prompt
    assert "预测答案: \n[预测答案0]：I don't know." in prompt
    assert logged["1013"]["scores"]["simplevqa_f1,none"] == "correct"
