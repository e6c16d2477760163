"""Hub checkpoints without a route to the hub: fail in seconds with one line, or load from the cache.

The hub endpoint is pointed at a closed local port (``HF_ENDPOINT=http://127.0.0.1:9``: nothing
listens, a connection is refused at once) and ``HF_HOME`` at a temporary folder, so nothing here
needs the internet. Before :mod:`lmms_eval.models.hf.hub`, the failing load below spent minutes on
~130 lines of retry warnings; a subprocess timeout counts that as a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from lmms_eval.api.errors import UsageError  # noqa: E402
from lmms_eval.models.hf import hub  # noqa: E402
from lmms_eval.models.hf.placement import load_or_explain  # noqa: E402

CLOSED = "http://127.0.0.1:9"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def text_task(root: Path) -> Path:
    """A one-document text task."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "hi.jsonl").write_text('{"id": "a", "word": "hello", "answer": "hello"}\n')
    (root / "say_hi.yaml").write_text(
        "task: say_hi\ndataset_path: json\ndataset_kwargs: {data_files: data/hi.jsonl}\ntest_split: train\n"
        "doc_id_column: id\ndoc_to_text: 'Say {{word}}'\ndoc_to_target: answer\n"
        "metric_list: [{metric: exact_match}]\ngeneration_kwargs: {max_new_tokens: 3}\n"
    )
    return root


def cache_checkpoint(hf_home: Path, repo_id: str, folder: Path | None = None, commit: str = COMMIT) -> None:
    """Put a checkpoint folder (or just a config.json) into the hub cache layout under ``hf_home``."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    if folder is not None:
        shutil.copytree(folder, snapshot)
    else:
        snapshot.mkdir(parents=True)
        (snapshot / "config.json").write_text("{}")


def run_cli(tmp_path: Path, pretrained: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE")}
    env.update(
        HF_ENDPOINT=CLOSED,
        HF_HOME=str(tmp_path / "hf"),
        LMMS_EVAL_CACHE=str(tmp_path / "cache"),
        TOKENIZERS_PARALLELISM="false",
    )
    command = [sys.executable, "-m", "lmms_eval", "--model", "hf_chat", "--model_args", f"pretrained={pretrained}"]
    command += ["--tasks", "say_hi", "--include_path", str(text_task(tmp_path / "tasks"))]
    command += ["--output_path", str(tmp_path / "out"), "--no_progress"]
    started = time.monotonic()
    try:
        out = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp_path)
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        pytest.fail(f"no result within {timeout:g} s (retrying an unreachable hub?): ...{err[-1500:]}")
    return out, time.monotonic() - started


def test_cli_fails_within_seconds_in_one_line_naming_the_fixes(tmp_path: Path) -> None:
    (tmp_path / "hf").mkdir()
    out, seconds = run_cli(tmp_path, "someorg/not-cached-model", timeout=15)
    assert out.returncode != 0 and seconds < 15
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr[-3000:]
    line = lines[0]
    assert "someorg/not-cached-model" in line and CLOSED in line and "unreachable" in line
    assert "pretrained=/path/to/checkpoint" in line  # a local folder
    assert "hf download someorg/not-cached-model" in line and "HF_HUB_OFFLINE=1" in line
    assert "revision=" in line


def test_cli_loads_a_cached_checkpoint_without_the_hub(tmp_path: Path) -> None:
    import tiny_vision as tv

    cache_checkpoint(tmp_path / "hf", "someorg/tiny-chat", Path(tv.tiny_text_lm()))
    out, _ = run_cli(tmp_path, "someorg/tiny-chat", timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Retrying" not in out.stderr and "127.0.0.1:9" not in out.stderr


@pytest.fixture
def no_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """An empty HF_HOME, the closed endpoint, no offline flags; records the endpoints probed."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_ENDPOINT", CLOSED)
    probed: list[str] = []
    real = hub.probe

    def spy(endpoint: str, timeout: float = hub.PROBE_TIMEOUT_S) -> str | None:
        probed.append(endpoint)
        return real(endpoint, timeout)

    monkeypatch.setattr(hub, "probe", spy)
    hub.forget()
    yield probed
    hub.forget()


def test_local_folders_cached_checkpoints_and_offline_mode_skip_the_probe(
    no_hub: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hub.hub_kwargs(str(tmp_path)) == {}  # a local folder
    cache_checkpoint(tmp_path / "hf", "someorg/cached")
    assert hub.hub_kwargs("someorg/cached") == {"local_files_only": True}
    assert hub.hub_kwargs("someorg/cached", COMMIT) == {"local_files_only": True}
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.hub_kwargs("someorg/elsewhere") == {}  # transformers handles offline mode itself
    assert no_hub == []


def test_an_uncached_revision_probes_once_and_names_the_cached_ones(no_hub: list[str], tmp_path: Path) -> None:
    cache_checkpoint(tmp_path / "hf", "someorg/cached")
    started = time.monotonic()
    with pytest.raises(
        UsageError, match=r"unreachable \(Connection refused\).*revision= to a cached one \(0123456789ab\)"
    ):
        hub.hub_kwargs("someorg/cached", "v2")
    assert no_hub == [CLOSED] and time.monotonic() - started < hub.PROBE_TIMEOUT_S


def test_a_reachable_hub_loads_as_usual(no_hub: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from servers import FaultServer

    server = FaultServer().start()  # any HTTP answer counts as reachable
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.port}")
        assert hub.hub_kwargs("someorg/online") == {}
        assert hub.hub_kwargs("someorg/online") == {}  # answered once per process
        assert len(no_hub) == 1
    finally:
        server.stop()


def test_an_incomplete_cache_asks_the_hub_and_says_so_when_it_cannot(no_hub: list[str], tmp_path: Path) -> None:
    cache_checkpoint(tmp_path / "hf", "someorg/partial")  # config.json only, as after an interrupted download
    calls: list[dict[str, object]] = []

    def loader(kwargs: dict[str, object]) -> object:
        calls.append(kwargs)
        raise OSError("model.safetensors is not in the cached files")

    with pytest.raises(UsageError, match="only part of it is in the local cache.*HF_HUB_OFFLINE=1"):
        load_or_explain("model", "someorg/partial", loader)
    assert calls == [{"local_files_only": True}] and no_hub == [CLOSED]
