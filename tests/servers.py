"""Real local OpenAI-compatible test peers (tests only).

* :class:`LocalOpenAIServer`: ``transformers serve`` on 127.0.0.1 and a free port, serving tiny
  models saved to a temporary folder (requests name the model by its local path). Nothing is
  downloaded: tokenizers are trained offline with ``tokenizers`` and the weights are built from
  config objects.
* "Scripted" models: real Qwen2-family checkpoints whose weights are set by hand so that greedy
  decoding emits one fixed reply whatever the prompt (a bigram chain: every layer adds zero to the
  residual stream, embeddings are one-hot, and ``lm_head`` maps each reply token to the next).
  The server, the tokenizer, the chat template and ``generate`` all run for real; only the
  weights are chosen so that a judge's verdict is predictable. Random-weight variants of the
  vision (Qwen2-VL) and audio (Qwen2-Audio) models check that images and audio reach the model.
* :class:`FaultServer`: a small HTTP stand-in in front of (or instead of) the real server that
  injects 429s, 5xx, slow replies, malformed bodies and dropped connections on a script.

The fixtures ``openai_server`` (one server process per test session) and ``fault_server``
(one per test) are imported by the test modules that need them.
"""

from __future__ import annotations

import atexit
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Special tokens shared by the text, vision and audio test models (Qwen2 names).
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<|audio_bos|>",
    "<|audio_eos|>",
    "<|AUDIO|>",
]
VOCAB_SIZE = 384  # == hidden size of the scripted text stack, so embeddings can be one-hot
_CORPUS = (
    "The quick brown fox jumps over the lazy dog. Question: what is shown? Answer: a cat. "
    "Reference answer and model prediction. Verdict: correct. Verdict: incorrect. "
    'Rating: [[7]] Score 1 2 3 4 5 6 7 8 9 10. {"score": 1} The answer is 42. '
)

_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}"
    "{% elif c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif c['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>"
    "{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


# --------------------------------------------------------------------------------------------
# Tiny models
# --------------------------------------------------------------------------------------------
def build_tokenizer() -> Any:
    """A byte-level BPE tokenizer trained offline (milliseconds), with a Qwen-style chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - 8,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = _CHAT_TEMPLATE
    assert len(fast) <= VOCAB_SIZE
    return fast


def _script_text_stack(model: Any, tokenizer: Any, reply: str, prefix: str = "") -> None:
    """Set a Qwen2 text stack's weights so greedy decoding emits ``reply`` then ``<|im_end|>``.

    The residual stream carries the one-hot embedding of the current token untouched (attention
    and MLP outputs are zeroed), so the next token depends on the current one only; ``lm_head``
    maps any token outside the reply to its first token and each reply token to the next.
    """
    import torch

    ids = tokenizer.encode(reply, add_special_tokens=False)
    if len(set(ids)) != len(ids):
        raise ValueError(f"scripted reply {reply!r} repeats a token; pick words the tokenizer keeps whole")
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    params = dict(model.named_parameters())
    embed = params[f"{prefix}embed_tokens.weight"]
    hidden = embed.shape[1]
    if hidden < embed.shape[0]:
        raise ValueError("the scripted stack needs hidden_size >= vocab_size")
    with torch.no_grad():
        for name, p in params.items():
            if name.startswith(prefix + "layers.") and (
                name.endswith("o_proj.weight") or name.endswith("down_proj.weight")
            ):
                p.zero_()
        embed.zero_()
        embed[:, : embed.shape[0]] = torch.eye(embed.shape[0])
        head = model.get_output_embeddings().weight
        head.zero_()
        successor = dict(zip(ids, ids[1:] + [eos]))
        for t in range(embed.shape[0]):
            head[successor.get(t, ids[0]), t] = 1.0


def _text_config(tokenizer: Any, hidden: int = VOCAB_SIZE) -> dict[str, Any]:
    return dict(
        vocab_size=VOCAB_SIZE,
        hidden_size=hidden,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=False,
    )


def build_text_model(path: str | Path, reply: str) -> str:
    """A scripted Qwen2 causal LM (plain tokenizer: the server treats it as text-only)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_tokenizer()
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**_text_config(tokenizer))).eval()
    _script_text_stack(model, tokenizer, reply, prefix="model.")
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    tokenizer.save_pretrained(str(path))
    model.save_pretrained(str(path))
    return str(path)


def build_vision_model(path: str | Path, reply: str) -> str:
    """A scripted-text, random-vision Qwen2-VL with its processor (images as <|image_pad|> runs)."""
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text = _text_config(tokenizer)
    text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [16, 16, 16]}
    config = Qwen2VLConfig(
        text_config=text,
        vision_config=dict(
            depth=1,
            embed_dim=32,
            hidden_size=VOCAB_SIZE,
            num_heads=2,
            mlp_ratio=2,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
        ),
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config).eval()
    _script_text_stack(model, tokenizer, reply, prefix="model.language_model.")
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    small = {"shortest_edge": 56 * 56, "longest_edge": 224 * 224}
    processor = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(size=small),
        video_processor=Qwen2VLVideoProcessor(size=small),
        tokenizer=tokenizer,
        chat_template=_CHAT_TEMPLATE,
    )
    processor.save_pretrained(str(path))
    model.save_pretrained(str(path))
    return str(path)


def build_audio_model(path: str | Path, reply: str) -> str:
    """A scripted-text, random-encoder Qwen2-Audio with its processor (audio as <|AUDIO|> runs)."""
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    tokenizer = build_tokenizer()
    config = Qwen2AudioConfig(
        text_config=_text_config(tokenizer),
        audio_config=dict(
            num_mel_bins=128,
            encoder_layers=1,
            encoder_attention_heads=2,
            encoder_ffn_dim=32,
            d_model=32,
            max_source_positions=1500,
        ),
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(0)
    model = Qwen2AudioForConditionalGeneration(config).eval()
    _script_text_stack(model, tokenizer, reply, prefix="model.language_model.")
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    processor = Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128),
        tokenizer=tokenizer,
        chat_template=_CHAT_TEMPLATE,
    )
    processor.save_pretrained(str(path))
    model.save_pretrained(str(path))
    return str(path)


_BUILDERS = {"text": build_text_model, "vision": build_vision_model, "audio": build_audio_model}


# --------------------------------------------------------------------------------------------
# The real server
# --------------------------------------------------------------------------------------------
def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serving_available() -> str | None:
    """None when ``transformers serve`` can run here, else the reason it cannot."""
    for module in ("fastapi", "uvicorn", "transformers", "torch"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed (pip install 'transformers[serving]')"
    return None


class LocalOpenAIServer:
    """``transformers serve`` on 127.0.0.1:<free port>, serving tiny models from a temp folder.

    Requests name a model by the local folder :meth:`model` returns; the server loads it on the
    first request. :meth:`kill` ends the process abruptly (SIGKILL), as a crash would.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "server.log"
        self._models: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.startup_s: float | None = None
        self._started_at = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalOpenAIServer:
        """Launch the process (returns at once; :meth:`wait_ready` waits for it)."""
        self.port = free_port()
        env = dict(
            os.environ,
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            TRANSFORMERS_VERBOSITY="error",
            OMP_NUM_THREADS="1",
            TOKENIZERS_PARALLELISM="false",
            PYTHONUNBUFFERED="1",
        )
        cmd = [
            sys.executable,
            "-m",
            "transformers.cli.transformers",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--device",
            "cpu",
            "--dtype",
            "float32",
            "--log-level",
            "warning",
        ]
        self._log_fh = open(self.log_path, "ab")
        self._started_at = time.perf_counter()
        self.process = subprocess.Popen(cmd, stdout=self._log_fh, stderr=subprocess.STDOUT, env=env)
        return self

    def wait_ready(self, timeout: float = 90.0) -> LocalOpenAIServer:
        """Poll ``/health`` until the server answers (raises with the log tail if it died)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as resp:
                    if resp.status == 200:
                        if self.startup_s is None:
                            self.startup_s = time.perf_counter() - self._started_at
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"transformers serve did not answer /health within {timeout:.0f}s:\n{self.log_tail()}")

    def model(self, reply: str = "Verdict: correct", kind: str = "text") -> str:
        """The local folder of a scripted ``kind`` model (text/vision/audio) that answers ``reply``."""
        with self._lock:
            key = (kind, reply)
            if key not in self._models:
                path = self.root / f"{kind}-{len(self._models):02d}"
                _BUILDERS[kind](path, reply)
                self._models[key] = str(path)
            return self._models[key]

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def kill(self) -> None:
        """End the server at once (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_log_fh", None) is not None:
            self._log_fh.close()
            self._log_fh = None


_SHARED: LocalOpenAIServer | None = None
_SHARED_LOCK = threading.Lock()


def shared_server() -> LocalOpenAIServer:
    """One server process for the whole test session (stopped at interpreter exit)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            reason = serving_available()
            if reason:
                pytest.skip(f"transformers serve cannot run: {reason}")
            root = Path(tempfile.mkdtemp(prefix="lmms_eval_openai_server_"))
            server = LocalOpenAIServer(root).start()
            atexit.register(shutil.rmtree, root, True)
            atexit.register(server.stop)
            try:
                server.model()  # build the default model while the server boots
                server.wait_ready()
            except Exception:
                server.stop()
                raise
            _SHARED = server
        return _SHARED


@pytest.fixture(scope="session")
def openai_server() -> LocalOpenAIServer:
    """A running ``transformers serve`` shared by every test of the session."""
    return shared_server()


# --------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------
@dataclass
class Fault:
    """One scripted behaviour of :class:`FaultServer` for one request.

    ``kind``: ``status`` (answer ``code`` with an error body, optional ``retry_after``),
    ``sleep`` (wait ``seconds``, then behave as the default), ``malformed`` (200 with a body that
    is not JSON), ``no_choices`` (200 JSON without choices), ``drop`` (close the connection
    without answering), ``reply`` (a well-formed completion whose content is ``text``),
    ``proxy`` (forward to the upstream server).
    """

    kind: str
    code: int = 200
    seconds: float = 0.0
    text: str = ""
    retry_after: float | None = None

    @classmethod
    def status(cls, code: int, retry_after: float | None = None) -> Fault:
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def sleep(cls, seconds: float) -> Fault:
        return cls("sleep", seconds=seconds)

    @classmethod
    def reply(cls, text: str) -> Fault:
        return cls("reply", text=text)


@dataclass
class FaultServer:
    """A tiny HTTP stand-in for an OpenAI-compatible server that misbehaves on a script.

    Requests consume ``script`` in order; once it is empty every request gets ``default``
    (forwarded to ``upstream`` when set, else a fixed reply). ``requests`` counts chat requests
    and ``bodies`` keeps their JSON bodies.
    """

    upstream: str | None = None
    default: Fault = field(default_factory=lambda: Fault.reply("Verdict: correct"))
    script: list[Fault] = field(default_factory=list)
    requests: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    inflight: int = 0
    max_inflight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *faults: Fault) -> FaultServer:
        with self._lock:
            self.script.extend(faults)
        return self

    def _next(self, body: dict[str, Any]) -> Fault:
        with self._lock:
            self.requests += 1
            self.bodies.append(body)
            return self.script.pop(0) if self.script else self.default

    def start(self) -> FaultServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, code: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                self._send(200, b'{"status":"ok"}')

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                fault = owner._next(body)
                with owner._lock:
                    owner.inflight += 1
                    owner.max_inflight = max(owner.max_inflight, owner.inflight)
                try:
                    if fault.kind == "sleep":
                        time.sleep(fault.seconds)
                        fault = owner.default
                        if fault.kind == "sleep":  # a slow default: wait once, then answer
                            fault = Fault("proxy") if owner.upstream else Fault.reply(fault.text or "Verdict: correct")
                    self._act(fault, raw, body)
                finally:
                    with owner._lock:
                        owner.inflight -= 1

            def _act(self, fault: Fault, raw: bytes, body: dict[str, Any]) -> None:
                if fault.kind == "status":
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    payload = json.dumps(
                        {"error": {"message": f"injected HTTP {fault.code}", "type": "injected", "code": fault.code}}
                    ).encode()
                    self._send(fault.code, payload, headers)
                elif fault.kind == "malformed":
                    self._send(200, b'{"id": "x", "choices": [ this is not json')
                elif fault.kind == "no_choices":
                    self._send(
                        200,
                        json.dumps(
                            {
                                "id": "x",
                                "object": "chat.completion",
                                "created": 0,
                                "model": body.get("model", "m"),
                                "choices": [],
                            }
                        ).encode(),
                    )
                elif fault.kind == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                elif fault.kind == "proxy":
                    self._proxy(raw)
                else:
                    self._send(200, json.dumps(_completion(body.get("model", "m"), fault.text)).encode())

            def _proxy(self, raw: bytes) -> None:
                assert owner.upstream, "a proxy fault needs an upstream server"
                url = owner.upstream.rstrip("/") + self.path.removeprefix("/v1")
                req = urllib.request.Request(url, data=raw, headers={"Content-Type": "application/json"}, method="POST")
                try:
                    with urllib.request.urlopen(req, timeout=300) as resp:
                        self._send(resp.status, resp.read())
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read())
                except (urllib.error.URLError, OSError) as exc:
                    self._send(502, json.dumps({"error": {"message": f"upstream unreachable: {exc}"}}).encode())

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)  # a client that gave up is expected

        self._httpd = Quiet(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        threading.Thread(target=self._httpd.serve_forever, name="fault-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A fresh :class:`FaultServer` (no upstream; set ``.upstream`` / ``.default`` as needed)."""
    server = FaultServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def spare_server(openai_server: LocalOpenAIServer) -> Iterator[LocalOpenAIServer]:
    """A second ``transformers serve`` process a test may kill. It starts booting when first
    requested; call ``wait_ready()`` before use (request it early so the boot overlaps other tests)."""
    server = LocalOpenAIServer(openai_server.root / f"spare-{free_port()}").start()
    yield server
    server.stop()
