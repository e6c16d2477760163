"""The typed sample record: round trips, the format-1 logs it replaced, and its documentation."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from lmms_eval.api.record import SampleRecord, Usage
from lmms_eval.engine.rescore import rescore_run
from lmms_eval.engine.sample_store import SampleStore
from lmms_eval.engine.tally import TaskTally

LEGACY = Path(__file__).parent / "fixtures" / "legacy_run_682e320"
DOCS = Path(__file__).parent.parent / "docs" / "outputs.md"


def test_round_trip_keeps_every_field() -> None:
    record = SampleRecord(
        id="x1",
        task="t",
        doc_id="q1",
        index=3,
        repeat=1,
        prompt=[{"role": "user", "content": []}],
        generation={"max_new_tokens": 4, "do_sample": False},
        raw_output="ans",
        filtered={"none": "ans"},
        target=["a", "b"],
        scores={"wer,none": {"errors": 1.0, "words": 2.0}, "acc,none": np.float32(0.5)},
        usage=Usage(10, 2, 0.25, 8),
        doc={"q": "x"},
        extra={"finish_reason": "stop"},
        transcript=[{"role": "assistant", "content": "a"}],
    )
    back = SampleRecord.from_json(record.to_json())
    assert back.scores == {"wer,none": {"errors": 1.0, "words": 2.0}, "acc,none": 0.5}
    assert back.usage == Usage(10, 2, 0.25, 8) and back.transcript == record.transcript
    assert back.to_dict() == {**record.to_dict(), "scores": back.scores}
    assert json.loads(record.to_json())["format"] == 2
    assert "judge" not in json.loads(record.to_json())  # empty optional blocks are left out


def test_non_finite_and_odd_text_still_serialise() -> None:
    record = SampleRecord(
        id="x", task="t", doc_id=0, index=0, raw_output="bad \udc80 surrogate", scores={"m,none": float("nan")}
    )
    back = SampleRecord.from_json(record.to_json())
    assert back.scores == {"m,none": None} and back.raw_output == "bad \udc80 surrogate"


def test_format_one_lines_load_with_their_statuses() -> None:
    legacy = {
        "id": "a",
        "task": "t",
        "doc_id": 1,
        "index": 1,
        "repeat": 0,
        "status": "error",
        "error": "scoring failed: ValueError: x",
        "prompt": None,
        "gen_kwargs": {"max_new_tokens": 8},
        "raw_output": "w",
        "filtered": None,
        "target": None,
        "scores": None,
        "usage": {"prompt_tokens": 2, "completion_tokens": 1, "latency_s": None},
        "doc": {"q": 1},
    }
    record = SampleRecord.from_dict(legacy)
    assert record.status == "scoring_error" and record.generated
    assert record.generation == {"max_new_tokens": 8} and record.usage.batch_size is None
    model_error = SampleRecord.from_dict({**legacy, "error": "RuntimeError: boom"})
    assert model_error.status == "error" and not model_error.generated
    assert SampleRecord.from_json('{"id":"a","task":"t","doc_id":1,"index":1,"status":"ok","scores":{"m":NaN}}')
    with pytest.raises(ValueError, match="unknown sample record fields"):
        SampleRecord.from_dict({**legacy, "surprise": 1})
    with pytest.raises(ValueError, match="unknown sample status"):
        SampleRecord.from_dict({**legacy, "status": "weird"})


def test_a_log_of_the_previous_format_rescores_to_identical_results(tmp_path: Path) -> None:
    shutil.copytree(LEGACY, tmp_path / "legacy")
    run_dir = tmp_path / "legacy" / "run"
    before = json.loads((run_dir / "results.json").read_text())
    outcome = rescore_run(str(run_dir), include_path=[str(tmp_path / "legacy" / "tasks")])
    assert outcome.results["results"] == before["results"]
    assert outcome.results["errors"] == before["errors"]
    assert outcome.results["n-samples"] == before["n-samples"]
    # the logs are rewritten in the current format, with the statuses made explicit
    lines = [json.loads(line) for line in (run_dir / "samples_say_picky.jsonl").read_text().splitlines()]
    assert {line["format"] for line in lines} == {2}
    assert [line["status"] for line in lines if line["doc_id"] == 5] == ["scoring_error"]
    words = [json.loads(line) for line in (run_dir / "samples_say_word.jsonl").read_text().splitlines()]
    assert [line["status"] for line in words if line["doc_id"] == "q7"] == ["error"]  # the model failed: kept


def test_tally_matches_the_records_it_was_fed() -> None:
    records = [
        SampleRecord(
            id=f"r{i}",
            task="t",
            doc_id=i,
            index=i,
            scores={"acc,none": float(i % 2)},
            usage=Usage(prompt_tokens=i, latency_s=0.5),
        )
        for i in range(6)
    ]
    records[2] = records[2].fail("error", "boom")
    tally = TaskTally().extend(reversed(records))  # arrival order does not matter
    assert tally.n_samples == 6 and tally.n_errors == 1 and tally.n_ok == 5
    assert list(tally.values("acc,none")) == [0.0, 1.0, 1.0, 0.0, 1.0]  # document order, error left out
    assert tally.usage_totals() == {"prompt_tokens": 15, "completion_tokens": None}
    assert tally.error_examples(5) == [{"doc_id": 2, "error": "boom"}]
    # a later record of the same sample replaces the earlier one (resume retried it)
    tally.add(SampleRecord(id="r2", task="t", doc_id=2, index=2, scores={"acc,none": 1.0}))
    assert tally.n_errors == 0 and list(tally.values("acc,none")) == [0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    # values that are not numbers are kept as they are, in order
    tally.add(SampleRecord(id="w", task="t", doc_id=9, index=9, scores={"acc,none": {"errors": 1, "words": 2}}))
    assert tally.values("acc,none")[-1] == {"errors": 1, "words": 2} and len(tally.values("acc,none")) == 7
    assert tally.latency_sum_count() == (2.5, 5)  # r2 was replaced by a record without latency


def test_store_streams_records_back(tmp_path: Path) -> None:
    store = SampleStore(str(tmp_path / "s.jsonl"))
    for i in range(3):
        store.append(SampleRecord(id=f"r{i}", task="t", doc_id=i, index=i))
    store.close()
    assert [r.id for r in store.iter()] == ["r0", "r1", "r2"]


def test_docs_describe_every_field() -> None:
    """docs/outputs.md documents exactly the record's fields (and Usage's)."""
    text = DOCS.read_text()
    table = text[text.index("<!-- record-fields -->") : text.index("<!-- /record-fields -->")]
    documented = re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.M)
    expected = ["format"] + [f.name for f in fields(SampleRecord) if f.name != "usage"]
    expected += [f"usage.{f.name}" for f in fields(Usage)]
    assert sorted(documented) == sorted(expected)
