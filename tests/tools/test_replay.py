"""Record/replay cache: bit-for-bit replay without the backend, miss error, modes, export/import, CLI."""

from __future__ import annotations

import json

import pytest

from lmms_eval.tools.base import SearchResult
from lmms_eval.tools.corpus import CorpusBackend, build_index
from lmms_eval.tools.replay import ReplayCache, ReplayingBackend, ReplayMiss, main, search_cache_key
from tests.tools.corpus_fixture import halves, write_corpus


class CountingBackend:
    """Wraps a backend and counts live calls (a replayed call must not reach it)."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, 0

    @property
    def params(self):
        return self.inner.params

    def search_text(self, query, k=5):
        self.calls += 1
        return self.inner.search_text(query, k)

    def search_image(self, image, k=5):
        self.calls += 1
        return self.inner.search_image(image, k)


@pytest.fixture
def live(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    build_index(root)
    return CountingBackend(CorpusBackend(root))


def _same(a: SearchResult, b: SearchResult) -> bool:
    """Equal up to the ``cached`` flag, compared as canonical JSON text (bit for bit)."""
    da, db = a.to_dict(), b.to_dict()
    da.pop("cached"), db.pop("cached")
    return json.dumps(da, sort_keys=True) == json.dumps(db, sort_keys=True)


def test_replay_is_identical_with_the_backend_removed(live, tmp_path):
    path = tmp_path / "search.sqlite"
    image = live.inner.corpus_dir / "img" / "top.png"
    with ReplayCache(path) as cache:
        rec = ReplayingBackend(cache, "record", live)
        recorded = [rec.search_text("dog cat", 3), rec.search_text("sky", 1), rec.search_image(image, 2)]
        assert live.calls == 3 and not any(r.cached for r in recorded)
    # a fresh process-like open, no live backend at all
    with ReplayCache(path) as cache:
        replay = ReplayingBackend.from_cache(cache)
        replayed = [replay.search_text("dog cat", 3), replay.search_text("sky", 1), replay.search_image(image, 2)]
        assert all(r.cached for r in replayed)
        assert all(_same(a, b) for a, b in zip(recorded, replayed))
        assert replayed[0].hits[0].score == recorded[0].hits[0].score  # floats survive exactly
        # the image is keyed by content: its bytes or the decoded PIL image's PNG are other keys,
        # but the same bytes read from a copy are the same query
        copy = tmp_path / "copy.png"
        copy.write_bytes(image.read_bytes())
        assert _same(replay.search_image(copy, 2), recorded[2])
        explicit = ReplayingBackend(cache, "replay", name="corpus", params=live.params)
        assert _same(explicit.search_text("sky", 1), recorded[1])


def test_replay_miss_is_one_line_naming_query_and_fix(live, tmp_path):
    with ReplayCache(tmp_path / "c.sqlite") as cache:
        ReplayingBackend(cache, "record", live).search_text("dog", 2)
        replay = ReplayingBackend(cache, "replay", name="corpus", params=live.params)
        with pytest.raises(ReplayMiss) as exc:
            replay.search_text("blue sky", 2)
        message = str(exc.value)
        assert "'blue sky'" in message and "mode 'record' or 'auto'" in message and "\n" not in message
        with pytest.raises(ReplayMiss):  # same query, other k: another key
            replay.search_text("dog", 3)
        with pytest.raises(ReplayMiss):  # same query, other params (another corpus): another key
            ReplayingBackend(cache, "replay", name="corpus", params={**live.params, "k1": 1.2}).search_text("dog", 2)


def test_auto_calls_live_once_record_always(live, tmp_path):
    with ReplayCache(tmp_path / "c.sqlite") as cache:
        auto = ReplayingBackend(cache, "auto", live)
        first, second = auto.search_text("cat", 2), auto.search_text("cat", 2)
        assert live.calls == 1 and not first.cached and second.cached and _same(first, second)
        rec = ReplayingBackend(cache, "record", live)
        rec.search_text("cat", 2)
        rec.search_text("cat", 2)
        assert live.calls == 3 and len(cache) == 1


def test_errors_are_not_stored(tmp_path):
    class Failing:
        name, params = "flaky", {}

        def search_text(self, query, k=5):
            return SearchResult(query=query, kind="text", backend="flaky", error="HTTP 503 after 3 attempts")

    with ReplayCache(tmp_path / "c.sqlite") as cache:
        assert ReplayingBackend(cache, "auto", Failing()).search_text("q").error
        assert len(cache) == 0


def test_mode_and_construction_errors(live, tmp_path):
    with ReplayCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(ValueError, match="not one of"):
            ReplayingBackend(cache, "live", live)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="needs a live backend"):
            ReplayingBackend(cache, "auto")
        with pytest.raises(ValueError, match="holds 0 backends"):
            ReplayingBackend.from_cache(cache)


def test_key_is_stable_and_sensitive():
    key = search_cache_key("corpus", "text", "q", 5, {"a": 1, "b": 2})
    assert key == search_cache_key("corpus", "text", "q", 5, {"b": 2, "a": 1})  # param order is irrelevant
    other_kind = search_cache_key("corpus", "image", "q", 5, {"a": 1, "b": 2})
    other_backend = search_cache_key("web", "text", "q", 5, {"a": 1, "b": 2})
    assert len({key, other_kind, other_backend}) == 3


def test_export_import_and_cli(live, tmp_path, capsys):
    src = tmp_path / "src.sqlite"
    with ReplayCache(src) as cache:
        rec = ReplayingBackend(cache, "record", live)
        originals = [rec.search_text("dog", 2), rec.search_image(halves(vertical=True), 1)]
    out = tmp_path / "published.jsonl"
    assert main(["export", str(src), str(out)]) == 0
    assert main(["stats", str(src)]) == 0
    stats = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert stats["entries"] == 2 and stats["by_backend_kind"] == {"corpus/image": 1, "corpus/text": 1}
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines == sorted(lines, key=lambda line: json.loads(line)["key"])
    dst = tmp_path / "dst.sqlite"
    assert main(["import", str(dst), str(out)]) == 0
    with ReplayCache(dst) as cache:
        replay = ReplayingBackend.from_cache(cache)
        assert _same(replay.search_text("dog", 2), originals[0])
        assert _same(replay.search_image(halves(vertical=True), 1), originals[1])
    assert main(["stats", str(tmp_path / "absent.sqlite")]) == 2
