"""Unit tests of core pieces: templates, redaction, scheduler, sample log, registry, model args."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

from lmms_eval.api.errors import UsageError
from lmms_eval.api.model import parse_kv_string
from lmms_eval.api.registry import MODELS, Registry
from lmms_eval.api.request import stable_id
from lmms_eval.engine.sample_store import SampleStore
from lmms_eval.engine.scheduler import make_batches
from lmms_eval.reporting.redact import REDACTED, redact
from lmms_eval.tasks.task import _plain_substituter


@pytest.mark.parametrize(
    "template",
    [
        "{{question}}",
        "Q: {{ question }}\nA:",
        "{{pre}}{{question}}{{post}}",
        "no holes at all",
        "{{ n }} items",
    ],
)
def test_plain_templates_render_like_jinja(template: str) -> None:
    doc = {"question": "Why?", "n": 3, "pre": "", "post": "\nShort answer."}
    plain = _plain_substituter(template)
    assert plain is not None
    expected = (
        jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        .from_string(template)
        .render(**doc)
    )
    assert plain.render(doc, {}) == expected


@pytest.mark.parametrize("template", ["{{ q | upper }}", "{% if a %}x{% endif %}", "{{ doc.q }}", "{{ a + b }}"])
def test_richer_templates_go_to_jinja(template: str) -> None:
    assert _plain_substituter(template) is None


def test_redaction_of_keys_and_values() -> None:
    data = {
        "api_key": "abc",
        "max_new_tokens": 5,
        "nested": [{"hf_token": "x"}],
        "note": "key sk-ABCDEFGHIJKLMNOPQRSTUV",
        "url": "http://h/?api_key=secret123,x=1",
        "prompt_tokens": 12,
    }
    out = redact(data)
    assert out["api_key"] == REDACTED and out["nested"][0]["hf_token"] == REDACTED
    assert out["max_new_tokens"] == 5 and out["prompt_tokens"] == 12
    assert "sk-ABC" not in out["note"] and "secret123" not in out["url"]


def test_batches_are_cost_sorted_and_respect_budget() -> None:
    items = list("abcdef")
    costs = [1, 10, 5, 7, 2, 3]
    assert list(make_batches(items, costs, 2)) == [["b", "d"], ["c", "f"], ["e", "a"]]
    # padded cost len * max must stay <= 14: [b] alone (10*2 > 14), then [d, c] (7*2), ...
    assert list(make_batches(items, costs, 8, max_batch_tokens=14)) == [["b"], ["d", "c"], ["f", "e", "a"]]


def test_sample_store_drops_a_torn_last_line(tmp_path: Path) -> None:
    from lmms_eval.api.record import SampleRecord

    def rec(i: str, out: str) -> SampleRecord:
        return SampleRecord(id=i, task="t", doc_id=i, index=0, raw_output=out)

    path = tmp_path / "s.jsonl"
    store = SampleStore(str(path))
    store.append(rec("a", "1"))
    store.append(rec("b", "2"))
    store.close()
    with open(path, "a") as fh:
        fh.write('{"format": 2, "id": "c", "v"')  # killed mid-write
    records = SampleStore(str(path)).read(repair=True)
    assert list(records) == ["a", "b"]
    assert path.read_text().endswith("}\n") and '"id":"c"' not in path.read_text()
    SampleStore(str(path)).append(rec("a", "3"))
    assert SampleStore(str(path)).read()["a"].raw_output == "3"  # the last record of an id wins


def test_stable_ids_distinguish_doc_id_types_and_repeats() -> None:
    assert stable_id("h", 1, 0) == stable_id("h", 1, 0)
    assert len({stable_id("h", 1, 0), stable_id("h", "1", 0), stable_id("h", 1, 1), stable_id("g", 1, 0)}) == 4


def test_model_args_parsing() -> None:
    assert parse_kv_string('pretrained=org/m,batch_size=4,device_map={"":0},flag=True,x=none,s=a b') == {
        "pretrained": "org/m",
        "batch_size": 4,
        "device_map": {"": 0},
        "flag": True,
        "x": None,
        "s": "a b",
    }
    with pytest.raises(UsageError):
        parse_kv_string("novalue")


def test_registry_is_lazy_and_reports_missing_extras() -> None:
    reg: Registry = Registry("thing")
    reg.register("json_mod", "json:dumps")
    reg.register("missing", "no_such_package_xyz.mod:Cls")
    assert reg.get("json_mod") is json.dumps
    with pytest.raises(UsageError, match="not installed"):
        reg.get("missing")
    assert "qwen2_5_vl" in MODELS.names()


def test_cost_estimate_reads_media_headers_when_asked(tmp_path: Path) -> None:
    import numpy as np
    import soundfile
    from PIL import Image as PILImage

    from lmms_eval.api.messages import Audio, Image, Message
    from lmms_eval.engine.cost import estimate_cost

    PILImage.new("RGB", (280, 56)).save(tmp_path / "wide.png")
    soundfile.write(tmp_path / "a.flac", np.zeros(16000 * 4, dtype="float32"), 16000)
    image = [Message("user", [Image(path=str(tmp_path / "wide.png"))])]
    audio = [Message("user", [Audio(path=str(tmp_path / "a.flac"))])]
    raw = [Message("user", [Image(raw=(tmp_path / "wide.png").read_bytes())])]
    assert estimate_cost(image) == 256.0 and estimate_cost(audio) == 750.0  # unknown size: defaults
    assert estimate_cost(image, probe=True) == 280 * 56 / 784
    assert estimate_cost(raw, probe=True) == 280 * 56 / 784
    assert estimate_cost(audio, probe=True) == 25.0 * 4
    broken = [Message("user", [Image(path=str(tmp_path / "missing.png"))])]
    assert estimate_cost(broken, probe=True) == 256.0  # never fails; the sample's decode reports the error
