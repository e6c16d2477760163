"""Run folders made by the evaluator for the HTML report tests: the demo OCR (images) and ASR
(audio) tasks with the scripted model in two ways, a toy task with breakdowns, hostile outputs and a
failing sample, and an agentic InfoSeek run through the local corpus."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conftest import write
from scripted_model import ScriptedConfig, ScriptedModel

from lmms_eval.api.request import Request, Response

HOSTILE = '<script>alert("pwned")</script>'
ROWS = [
    {"qid": "a", "question": "1+1?", "answer": "2", "meta": {"subject": "math"}},
    {"qid": "b", "question": "2+2?", "answer": "4", "meta": {"subject": "math"}},
    {"qid": "c", "question": "H2O?", "answer": "water", "meta": {"subject": "chem"}},
    {"qid": "d", "question": "NaCl?", "answer": "salt", "meta": {"subject": "chem"}},
    {"qid": "e", "question": "Fe?", "answer": "iron", "meta": {"subject": "chem"}},
]
REPLIES = {
    "a": "2",  # right
    "b": HOSTILE,  # wrong, and must stay inert
    "c": "water",  # right
    "d": '"><img src=x onerror=alert(1)> see https://evil.example/x.png',  # wrong, hostile too
}
FAILING = "e"


class HostileModel(ScriptedModel):
    """Answers from REPLIES; fails on doc ``e``."""

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        out = []
        for r in requests:
            if str(r.doc_id) == FAILING:
                raise RuntimeError("scripted failure on doc e")
            out.append(Response(text=REPLIES[str(r.doc_id)]))
        return out


def toy_task(root: Path) -> Path:
    """The ``qa_report`` task: exact match, broken down by ``meta.subject`` (macro)."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "qa.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    write(
        root / "qa_report.yaml",
        """
        task: qa_report
        dataset_path: json
        dataset_kwargs: {data_files: data/qa.jsonl}
        test_split: train
        doc_id_column: qid
        doc_to_text: "{{question}}"
        doc_to_target: answer
        metric_list:
          - metric: exact_match
        breakdown:
          - name: subject
            field: meta.subject
            macro: true
        """,
    )
    return root


def run(out: Path, tasks: list[str], model: Any, **cfg: Any) -> Path:
    """Run ``tasks`` with ``model`` in-process; returns the run folder (asserts exit 0)."""
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    config = RunConfig(model="scripted", tasks=tasks, output_path=str(out), show_progress=False, **cfg)
    outcome = Evaluator(config, model=model).run()
    assert outcome.exit_code == 0, outcome.message
    return Path(outcome.run_dir)


def demo_runs(root: Path) -> tuple[Path, Path]:
    """Two runs of demo_ocr + demo_asr: the prompt's last word, and a constant reply."""
    a = run(root / "a", ["demo_ocr", "demo_asr"], ScriptedModel())
    b = run(root / "b", ["demo_ocr", "demo_asr"], ScriptedModel(ScriptedConfig(mode="constant", constant="THE")))
    return a, b


def toy_run(root: Path) -> Path:
    """The hostile toy task (one sample fails: allowed by --max_error_rate)."""
    tasks = toy_task(root / "tasks")
    return run(root / "out", ["qa_report"], HostileModel(), include_path=[str(tasks)], max_error_rate=0.5)


AGENT_TASK = "infoseek_report_fixture"
AGENT_SCRIPT = {
    "infoseek_val_01": [
        "<reason>I do not know.</reason><search><img></search>",
        "<text_search>kingdom spain</text_search>",
        "<answer>Kingdom of Spain</answer>",
    ],
    "infoseek_val_02": ["<answer>France</answer>"],
}


def agent_run(root: Path) -> Path:
    """InfoSeek under the search variant with the scripted agent and an offline corpus."""
    from agent.scripted_agent import of
    from hub import infoseek
    from hub.common import renamed_task_copy
    from tools.corpus_fixture import write_corpus

    from lmms_eval.tools.corpus import build_index

    task_dir = Path(__file__).parents[2] / "lmms_eval" / "tasks" / "infoseek"
    folder = renamed_task_copy(root / "tasks", task_dir, "infoseek_val.yaml", AGENT_TASK, ["utils.py"])
    infoseek.build(folder / "data")
    corpus = write_corpus(root / "corpus")
    shutil.copy(folder / "data" / "images" / "oven_000001.jpg", corpus / "img" / "spain.jpg")
    with (corpus / "images.jsonl").open("a") as fh:
        fh.write(
            json.dumps({"path": "img/spain.jpg", "caption": "a flag", "title": "Flag of Spain", "url": "u"}) + "\n"
        )
    build_index(corpus)
    from lmms_eval.engine.evaluator import Evaluator
    from lmms_eval.engine.run_config import RunConfig

    config = RunConfig(
        model="scripted_agent",
        tasks=[AGENT_TASK],
        include_path=[str(root / "tasks")],
        output_path=str(root / "out"),
        show_progress=False,
        prompt_variant="search",
        tools=f"backend=corpus,corpus={corpus}",
        max_error_rate=0.5,
        limit=2,
    )
    outcome = Evaluator(config, model=of(AGENT_SCRIPT)).run()
    assert outcome.exit_code == 0, outcome.message
    return Path(outcome.run_dir)
