"""A fake OpenAI-compatible server that echoes a rejected API key back (tests only).

Real providers answer a wrong key with HTTP 401 and a message that quotes it, e.g. OpenAI's
``Incorrect API key provided: sk-abc...``. :class:`EchoKeyServer` does the same for every key in
``rejected``; any other key gets a well-formed completion whose text is ``reply``. It records
every key it was sent (``keys``) and every request body (``bodies``).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class EchoKeyServer:
    rejected: set[str] = field(default_factory=set)
    reply: str = "Verdict: correct"
    keys: list[str] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> EchoKeyServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                with owner._lock:
                    owner.keys.append(key)
                    owner.bodies.append(json.loads(raw or b"{}"))
                if key in owner.rejected:
                    message = f"Incorrect API key provided: {key}. You can find your API key in your account."
                    self._send(401, {"error": {"message": message, "type": "invalid_request_error", "code": 401}})
                    return
                body = owner.bodies[-1]
                self._send(
                    200,
                    {
                        "id": "chatcmpl-echo",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "m"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": owner.reply},
                            }
                        ],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
                    },
                )

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        threading.Thread(target=self._httpd.serve_forever, name="echo-key-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@pytest.fixture
def echo_server() -> Iterator[EchoKeyServer]:
    server = EchoKeyServer().start()
    yield server
    server.stop()
