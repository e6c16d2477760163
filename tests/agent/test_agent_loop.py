"""The agent loop end to end with a scripted model: InfoSeek fixture data, a local corpus, the
record/replay cache; every way a conversation ends, tool failures and timeouts, kill and resume."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hub import infoseek
from hub.common import renamed_task_copy
from tools.corpus_fixture import write_corpus

from agent.scripted_agent import of
from lmms_eval.api.errors import ConfigError, UsageError
from lmms_eval.tools.formatting import TEXT_SEARCH_ERROR

TASK_DIR = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "infoseek"
TASK = "infoseek_agent_fixture"
IMG, TXT = "<reason>I do not know this place.</reason><search><img></search>", "<text_search>{}</text_search>"
SCRIPT = {
    # image search, text search, answer: right
    "infoseek_val_01": [
        IMG,
        "<reason>A flag.</reason>" + TXT.format("kingdom spain"),
        "<answer>Kingdom of Spain</answer>",
    ],
    "infoseek_val_02": ["<reason>I know it.</reason><answer>France</answer>"],  # direct, wrong
    "infoseek_val_03": ["It is probably 1990 but I will not say."],  # no action: unanswered
    "infoseek_val_04": [TXT.format("1887"), TXT.format("kingdom"), TXT.format("third")],  # tool call on turn 3
    "infoseek_val_05": [IMG, IMG],  # a second image search: over the limit of 1
    "infoseek_val_06": [TXT.format("zzz nothing matches"), "<answer>9-10</answer>"],  # no hit, then right
}


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    """The InfoSeek task copied under an include root (renamed) and a corpus holding one of its images."""
    root = tmp_path / "tasks"
    folder = renamed_task_copy(root, TASK_DIR, "infoseek_val.yaml", TASK, ["utils.py"])
    infoseek.build(folder / "data")
    corpus = write_corpus(tmp_path / "corpus")
    shutil.copy(folder / "data" / "images" / "oven_000001.jpg", corpus / "img" / "spain.jpg")
    with (corpus / "images.jsonl").open("a") as fh:
        fh.write(
            json.dumps({"path": "img/spain.jpg", "caption": "a flag", "title": "Flag of Spain", "url": "u"}) + "\n"
        )
    with (corpus / "documents.jsonl").open("a") as fh:
        fh.write(json.dumps({"title": "Spain", "url": "https://ex.org/es", "text": "Spain is a kingdom"}) + "\n")
    from lmms_eval.tools.corpus import build_index

    build_index(corpus)
    return {"root": root, "corpus": corpus}


def run(setup: dict[str, Path], out: Path, model: Any, tools: str | None = None, **cfg: Any) -> Any:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    config = RunConfig(
        model="scripted_agent",
        tasks=[TASK],
        include_path=[str(setup["root"])],
        output_path=str(out),
        show_progress=False,
        prompt_variant=cfg.pop("prompt_variant", "search"),
        tools=tools if tools is not None else f"backend=corpus,corpus={setup['corpus']}",
        max_error_rate=0.5,
        batch_size=cfg.pop("batch_size", 8),
        **cfg,
    )
    return Evaluator(config, model=model).run()


def records(run_dir: str) -> dict[str, dict[str, Any]]:
    lines = (Path(run_dir) / f"samples_{TASK}.jsonl").read_text().splitlines()
    return {r["doc_id"]: r for r in map(json.loads, lines)}


def test_every_way_a_conversation_ends(setup: dict[str, Path], tmp_path: Path) -> None:
    model = of(SCRIPT)
    outcome = run(setup, tmp_path / "out", model)
    assert outcome.exit_code == 0, outcome.message
    # 10 samples generated (10 cannot be built; 11 is generated, then fails scoring: no question
    # type). Turn 1: the first batch's 8 together; turn 2: the 4 still open (01, 04, 05, 06); turn
    # 3: 01 and 04 (05 ended over the limit); then the second batch (09, 11) answers at once.
    assert model.calls == [8, 4, 2, 2]
    got = records(outcome.run_dir)
    stops = {d: got[d]["extra"]["agent"]["stop"] for d in SCRIPT}
    assert stops == {
        "infoseek_val_01": "answer",
        "infoseek_val_02": "answer",
        "infoseek_val_03": "no_action",
        "infoseek_val_04": "max_turns",
        "infoseek_val_05": "over_limit",
        "infoseek_val_06": "answer",
    }
    one = got["infoseek_val_01"]
    assert [t["role"] for t in one["transcript"]] == [
        "user",
        "assistant",
        "tool",
        "user",
        "assistant",
        "tool",
        "user",
        "assistant",
    ]
    image_call, text_call = (t for t in one["transcript"] if t["role"] == "tool")
    assert image_call["hits"][0]["title"] == "Flag of Spain" and image_call["query"].startswith("sha256:")
    assert text_call["query"] == "kingdom spain" and text_call["hits"][0]["title"] == "Spain"
    assert one["filtered"] == {"none": "Kingdom of Spain"} and one["scores"]["infoseek_acc,none"] == 1.0
    assert one["usage"] == {"prompt_tokens": 60, "completion_tokens": 6, "latency_s": None, "batch_size": 8}
    # the model saw the image hit as an image, and MMSearch-R1's wrappers
    turn2 = next(r for r in model.requests if str(r.doc_id) == "infoseek_val_01" and model.turn(r) == 2)
    assert len(turn2.images()) == 2 and turn2.messages[-1].text().startswith("Searched results: <information>")
    assert "Original user's question: What is asked in infoseek_val_01?\n" in turn2.messages[-1].text()
    six = got["infoseek_val_06"]  # a search with no hit: the official error line, then an answer
    assert [t for t in six["transcript"] if t["role"] == "user"][-1]["content"][0]["text"] == TEXT_SEARCH_ERROR
    assert got["infoseek_val_03"]["filtered"] == {"none": ""}  # no <answer>: empty, never the whole text

    res = outcome.results["results"][TASK]
    # per sample (01..09): searched 01 04 05 06 -> 4/9; calls 2+0+0+2+1+1 = 6 over 9 x 3 allowed
    assert res["search_ratio,agent"] == pytest.approx(4 / 9)
    assert res["search_call_ratio,agent"] == pytest.approx(6 / 27)
    assert res["search_image_and_text,agent"] == pytest.approx(1 / 9)
    assert res["search_image_only,agent"] == pytest.approx(1 / 9)  # 05
    assert res["search_text_only,agent"] == pytest.approx(2 / 9)  # 04, 06
    assert res["turns,agent"] == pytest.approx((3 + 1 + 1 + 3 + 2 + 2 + 1 + 1 + 1) / 9)
    assert res["answered,agent"] == pytest.approx(6 / 9)  # 03, 04, 05 unanswered
    assert res["breakdown_n"]["searched"] == {"no": 5, "yes": 4}
    # accuracy split by searching: right among searchers 01, 06 -> 2/4
    assert res["infoseek_acc,none,searched=yes"] == pytest.approx(2 / 4)

    from lmms_eval.engine.rescore import rescore_run

    again = rescore_run(outcome.run_dir)  # `lmms-eval score`: from the records alone, the same numbers
    assert again.results["results"] == outcome.results["results"]


class FlakyBackend:
    """A search backend that fails on "boom" and sleeps on "slow"."""

    name = "flaky"
    params: dict[str, Any] = {}

    def search_text(self, query: str, k: int = 5) -> Any:
        from lmms_eval.tools.base import SearchHit, SearchResult

        if query == "boom":
            raise ConnectionError("search service down")
        if query == "slow":
            time.sleep(2)
        return SearchResult(query, "text", [SearchHit("T", "https://t", "text")], backend=self.name)

    def search_image(self, image: Any, k: int = 5) -> Any:
        raise TimeoutError("never")


def test_tool_failure_and_timeout_are_recorded_and_the_model_goes_on() -> None:
    from lmms_eval.agent.search import MMSearchR1Protocol
    from lmms_eval.agent.spec import AgentSpec
    from lmms_eval.agent.toolbox import Toolbox
    from lmms_eval.api.messages import Message, Text
    from lmms_eval.api.request import Request
    from lmms_eval.engine.agent_loop import AgentJob, run_agents

    protocol = MMSearchR1Protocol(AgentSpec(protocol="mmsearch_r1", timeout_s=0.2))
    script = {"a": [TXT.format("boom"), "<answer>x</answer>"], "b": [TXT.format("slow"), "<answer>y</answer>"]}
    jobs = [
        AgentJob(Request("t", doc, [Message("user", [Text(f"question {doc}")])], id=doc), protocol, {})
        for doc in script
    ]
    started = time.perf_counter()
    done = run_agents(of(script), jobs, Toolbox(FlakyBackend()))
    assert time.perf_counter() - started < 1.5  # the slow call was abandoned at 0.2 s
    for (response, conv), reason in zip(done, ("ConnectionError: search service down", "timed out after 0.2 s")):
        assert response.error is None and conv.stop == "answer"
        tool = next(t for t in conv.transcript if t["role"] == "tool")
        assert tool["error"] == reason and tool["hits"] == []
        assert conv.messages[-1].text() == TEXT_SEARCH_ERROR  # what MMSearch-R1 sends after a failed search
        assert response.extra["agent"]["failed_searches"] == 1


def test_a_model_error_fails_that_sample_alone_and_resume_retries_it(setup: dict[str, Path], tmp_path: Path) -> None:
    first = run(setup, tmp_path / "out", of(SCRIPT, fail_turn=2, fail_docs="infoseek_val_01"))
    got = records(first.run_dir)
    assert got["infoseek_val_01"]["status"] == "error" and "turn 2" in got["infoseek_val_01"]["error"]
    assert got["infoseek_val_06"]["status"] == "ok"
    model = of(SCRIPT)
    again = run(setup, tmp_path / "out", model, resume=True)
    assert model.calls == [1, 1, 1]  # only 01 again, for its three turns
    assert records(again.run_dir)["infoseek_val_01"]["scores"]["infoseek_acc,none"] == 1.0


def comparable(results: dict[str, Any]) -> dict[str, Any]:
    return results["results"]


def strip(record: dict[str, Any]) -> list[dict[str, Any]]:
    """A record's transcript without what may differ on replay (the cache flag, timings)."""
    return [{k: v for k, v in t.items() if k not in ("cached", "latency_s")} for t in record.get("transcript") or []]


def test_replay_without_live_tools_gives_identical_results(setup: dict[str, Path], tmp_path: Path) -> None:
    live = run(setup, tmp_path / "live", of(SCRIPT))
    cache = Path(live.run_dir) / "cache.sqlite"
    published = tmp_path / "published.sqlite"
    shutil.copy(cache, published)
    shutil.rmtree(setup["corpus"])  # no live tool can answer now
    replayed = run(setup, tmp_path / "replay", of(SCRIPT), tools=f"backend=replay,cache={published}")
    assert comparable(replayed.results) == comparable(live.results)
    a, b = records(live.run_dir), records(replayed.run_dir)
    for doc in a:
        assert strip(a[doc]) == strip(b[doc]), doc
    tool_calls = [t for r in b.values() for t in r.get("transcript") or [] if t["role"] == "tool"]
    assert len(tool_calls) == 6 and all(t["cached"] for t in tool_calls)


def test_a_run_killed_mid_loop_resumes_to_the_same_results(setup: dict[str, Path], tmp_path: Path) -> None:
    reference = run(setup, tmp_path / "ref", of(SCRIPT), batch_size=4)

    class Killed(type(of(SCRIPT))):  # type: ignore[misc]
        def generate(self, requests: Any) -> Any:
            if len(self.calls) == 4:  # the second batch's second turn: its conversations are open
                raise KeyboardInterrupt
            return super().generate(requests)

    with pytest.raises(KeyboardInterrupt):
        run(setup, tmp_path / "out", Killed(of(SCRIPT).config), batch_size=4)
    done = records(str(next((tmp_path / "out").rglob(f"samples_{TASK}.jsonl")).parent))
    assert 0 < len(done) < 9  # the first batch was written, the open conversations were not
    resumed = run(setup, tmp_path / "out", of(SCRIPT), batch_size=4, resume=True)
    assert comparable(resumed.results) == comparable(reference.results)


def test_a_search_task_needs_tools_and_a_bad_agent_block_names_its_file(setup: dict[str, Path], tmp_path: Path) -> None:
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig
    from lmms_eval.tasks.task import Task

    cfg = RunConfig(
        model="scripted_agent",
        tasks=[TASK],
        include_path=[str(setup["root"])],
        output_path=str(tmp_path / "o"),
        prompt_variant="search",
    )
    with pytest.raises(UsageError, match=r"calls image_search and text_search: give --tools backend=corpus"):
        Evaluator(cfg, model=of({})).run()
    assert not (tmp_path / "o").exists()
    yaml = setup["root"] / "infoseek" / "infoseek_val.yaml"
    yaml.write_text(yaml.read_text() + "agent:\n  protocol: mmsearch_r2\n")
    with pytest.raises(UsageError, match=r"unknown agent protocol 'mmsearch_r2'"):
        Task.from_yaml(str(yaml))
    yaml.write_text(yaml.read_text().replace("mmsearch_r2", "mgpo\n  tools:\n    text_search: {max_calls: 1}"))
    with pytest.raises(
        ConfigError, match=r"infoseek_val.yaml: agent: protocol 'mgpo' calls crop; remove the limits of text_search"
    ):
        Task.from_yaml(str(yaml))
