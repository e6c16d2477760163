"""SerpAPI client against a local HTTP stand-in (never the internet): mapping, 429 retry, bad key, off by default."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from typing import Any

import pytest

from lmms_eval.reporting.redact import clear_secrets
from lmms_eval.tools.replay import ReplayCache, ReplayingBackend
from lmms_eval.tools.web import SerpApiBackend, WebSearchAuthError

KEY = "sk-test-serpapi-0123456789abcdef"
ORGANIC = {
    "organic_results": [
        {"position": 1, "title": "Eiffel Tower", "link": "https://a.org/e", "snippet": "330 m tall", "source": "a.org"},
        {"position": 2, "title": "Paris", "link": "https://b.org/p", "snippet": "capital", "displayed_link": "b.org"},
        {"position": 3, "title": "Third", "link": "https://c.org/t", "snippet": "x"},
    ]
}
LENS = {
    "visual_matches": [
        {
            "position": 1,
            "title": "Tower photo",
            "link": "https://d.org/photo",
            "source": "d.org",
            "thumbnail": "https://d.org/t.jpg",
            "image": "https://d.org/full.jpg",
        }
    ]
}


class StandIn:
    """GET server: scripted ``(status, body, headers)`` answers first, then 200 with the engine's canned JSON."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.queries: list[dict[str, str]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                owner.queries.append(query)
                if owner.script:
                    code, body, headers = owner.script.pop(0)
                elif query.get("api_key") != KEY:
                    code, body, headers = 401, {"error": "Invalid API key."}, {}
                else:
                    code, body, headers = 200, (LENS if query.get("engine") == "google_lens" else ORGANIC), {}
                payload = json.dumps(body).encode()
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/search.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stand_in():
    server = StandIn()
    yield server
    server.stop()
    clear_secrets()


@pytest.fixture
def client(stand_in, monkeypatch):
    monkeypatch.setenv("TEST_SERP_KEY", KEY)
    return SerpApiBackend(api_key_env="TEST_SERP_KEY", base_url=stand_in.url, timeout=5, backoff_initial=0.0)


def test_off_without_key(monkeypatch):
    monkeypatch.delenv("NO_SUCH_SERP_KEY", raising=False)
    with pytest.raises(RuntimeError, match="web search is off: set the environment variable NO_SUCH_SERP_KEY") as exc:
        SerpApiBackend(api_key_env="NO_SUCH_SERP_KEY")
    assert "\n" not in str(exc.value)


def test_text_search_maps_organic_results(client, stand_in):
    result = client.search_text("eiffel tower height", k=2)
    assert result.error is None and result.kind == "text" and result.backend == "serpapi"
    assert [(h.title, h.url, h.snippet, h.source, h.score) for h in result.hits] == [
        ("Eiffel Tower", "https://a.org/e", "330 m tall", "a.org", 1.0),
        ("Paris", "https://b.org/p", "capital", "b.org", 0.5),  # score = 1 / position
    ]
    sent = stand_in.queries[-1]
    assert sent["engine"] == "google" and sent["q"] == "eiffel tower height" and sent["num"] == "2"
    assert "api_key" not in json.dumps(client.params) and KEY not in json.dumps(client.params)


def test_lens_maps_visual_matches_and_needs_a_url(client, stand_in):
    result = client.search_image("https://img.org/q.jpg", k=5)
    assert result.query == "url:https://img.org/q.jpg" and result.error is None
    hit = result.hits[0]
    assert (hit.title, hit.url, hit.image, hit.thumbnail, hit.source) == (
        "Tower photo",
        "https://d.org/photo",
        "https://d.org/full.jpg",
        "https://d.org/t.jpg",
        "d.org",
    )
    assert stand_in.queries[-1]["engine"] == "google_lens" and stand_in.queries[-1]["url"] == "https://img.org/q.jpg"
    with pytest.raises(ValueError, match="public http"):
        client.search_image(b"\x89PNG raw bytes", k=5)
    client.image_uploader = lambda raw: "https://uploads.example/" + str(len(raw))
    uploaded = client.search_image(b"12345", k=1)
    assert stand_in.queries[-1]["url"] == "https://uploads.example/5" and uploaded.query.startswith("sha256:")


def test_429_is_retried_with_retry_after(client, stand_in):
    stand_in.script = [(429, {"error": "rate limited"}, {"Retry-After": "0"}), (503, {"error": "busy"}, {})]
    result = client.search_text("q", k=1)
    assert result.error is None and [h.title for h in result.hits] == ["Eiffel Tower"]
    assert len(stand_in.queries) == 3  # 429, 503, then the answer


def test_retries_exhausted_is_an_error_result(client, stand_in):
    client.max_retries = 1
    stand_in.script = [(429, {"error": "rate limited"}, {})] * 2
    result = client.search_text("q", k=1)
    assert result.hits == [] and result.error == "SerpAPI text search: HTTP 429: rate limited after 2 attempts"
    assert len(stand_in.queries) == 2
    with ReplayCache(":memory:") as cache:  # a failed call is not cached: a later run retries it
        stand_in.script = [(500, {"error": "boom"}, {})] * 2
        assert ReplayingBackend(cache, "auto", client).search_text("q", 1).error
        assert len(cache) == 0


def test_bad_key_is_one_line_and_never_shows_the_key(stand_in, monkeypatch):
    wrong = "sk-wrong-serpapi-key-9876543210"
    monkeypatch.setenv("TEST_SERP_KEY", wrong)
    client = SerpApiBackend(api_key_env="TEST_SERP_KEY", base_url=stand_in.url, timeout=5, backoff_initial=0.0)
    with pytest.raises(WebSearchAuthError) as exc:
        client.search_text("q")
    message = str(exc.value)
    assert message == "SerpAPI rejected the key in TEST_SERP_KEY (HTTP 401: Invalid API key.); set a valid key"
    assert wrong not in message and len(stand_in.queries) == 1  # not retried


def test_no_results_is_empty_not_an_error(client, stand_in):
    stand_in.script = [(200, {"error": "Google hasn't returned any results for this query."}, {})]
    result = client.search_text("zzzz", k=3)
    assert result.error is None and result.hits == []
