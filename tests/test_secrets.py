"""Secrets are redacted by value: whatever key the run read never reaches a file or the console.

The CLI tests run ``python -m lmms_eval`` as users do, against :class:`EchoKeyServer`, a fake
OpenAI-compatible server that quotes a rejected key back in its 401 error (as real providers
do). Each secret is a random string of no known credential shape, so only redaction by value
can catch it; every file under the output folder (bytes, recursively) and the captured
stdout/stderr are searched for it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from secret_server import EchoKeyServer, echo_server  # noqa: F401

from lmms_eval.api.errors import UsageError
from lmms_eval.api.record import SampleRecord
from lmms_eval.engine.run_config import RunConfig
from lmms_eval.engine.sample_store import SampleStore
from lmms_eval.reporting import redact as redact_mod
from lmms_eval.reporting.redact import (
    REDACTED,
    RedactingStream,
    add_secrets,
    clear_secrets,
    collect_secrets,
    install_console_redaction,
    redact,
    redact_text,
    registered_secrets,
)

TESTS = Path(__file__).parent
SCRIPTED = "scripted_model:ScriptedModel"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


def secret() -> str:
    """A random secret that matches no credential shape (no sk-/hf_ prefix, no key=value)."""
    return "zq" + uuid.uuid4().hex + "Wv"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    full.pop("LMMS_EVAL_REDACT", None)
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "lmms_eval", *args], capture_output=True, text=True, env=full, timeout=180
    )


def leaks(root: Path, proc: subprocess.CompletedProcess | None, *secrets: str) -> list[str]:
    """Every place (file under ``root``, stdout, stderr) that holds one of ``secrets``."""
    found = []
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(root)}: {s}" for s in secrets if s.encode() in data]
    if proc is not None:
        found += [f"stdout: {s}" for s in secrets if s in proc.stdout]
        found += [f"stderr: {s}" for s in secrets if s in proc.stderr]
    return found


def run_dir_of(out: Path) -> Path:
    (run_file,) = out.rglob("run.json")
    return run_file.parent


def add_judged_task(toy_tasks: Path) -> None:
    (toy_tasks / "say_judged.yaml").write_text(
        "task: say_judged\ninclude: _base_yaml\ndoc_id_column: qid\ndoc_to_text: 'Say {{word}}'\n"
        "judge:\n  type: binary\n  cascade: [exact_match]\n"
    )


# ---- (a) a key the server echoes back in an error -----------------------------------------------
def test_model_key_echoed_in_401_is_scrubbed(echo_server: EchoKeyServer, toy_tasks: Path, tmp_path: Path) -> None:
    key = secret()
    echo_server.rejected.add(key)
    out = tmp_path / "out"
    proc = cli(
        "--model",
        "openai_compat",
        "--model_args",
        f"model=m,base_url={echo_server.base_url},api_key_env=MY_EVAL_KEY,max_retries=0",
        "--tasks",
        "say_word",
        "--include_path",
        str(toy_tasks),
        "--output_path",
        str(out),
        "--limit",
        "2",
        "--no_progress",
        "--verbosity",
        "INFO",
        env={"MY_EVAL_KEY": key},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert key in echo_server.keys  # the server was sent the key (and quoted it back)
    assert leaks(out, proc, key) == []
    log = (run_dir_of(out) / "samples_say_word.jsonl").read_text()
    assert "Incorrect API key provided" in log and REDACTED in log


def test_judge_key_echoed_in_401_is_scrubbed(echo_server: EchoKeyServer, toy_tasks: Path, tmp_path: Path) -> None:
    add_judged_task(toy_tasks)
    key = secret()
    echo_server.rejected.add(key)
    out = tmp_path / "out"
    proc = cli(
        "--model",
        SCRIPTED,
        "--tasks",
        "say_judged",
        "--include_path",
        str(toy_tasks),
        "--output_path",
        str(out),
        "--limit",
        "3",
        "--no_progress",
        "--judge",
        f"model=j,base_url={echo_server.base_url},api_key_env=MY_JUDGE_KEY,max_retries=0",
        env={"MY_JUDGE_KEY": key},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert key in echo_server.keys
    assert leaks(out, proc, key) == []
    log = (run_dir_of(out) / "samples_say_judged.jsonl").read_text()
    assert "judge_error" in log and REDACTED in log


def test_judge_key_given_at_score_time_is_scrubbed(echo_server: EchoKeyServer, toy_tasks: Path, tmp_path: Path) -> None:
    add_judged_task(toy_tasks)
    key = secret()
    echo_server.rejected.add(key)
    out = tmp_path / "out"
    first = cli(
        "--model",
        SCRIPTED,
        "--tasks",
        "say_judged",
        "--include_path",
        str(toy_tasks),
        "--output_path",
        str(out),
        "--limit",
        "3",
        "--no_progress",
    )
    assert first.returncode == 0, first.stderr
    run_dir = run_dir_of(out)
    proc = cli(
        "score",
        str(run_dir),
        "--judge",
        f"model=j,base_url={echo_server.base_url},api_key_env=MY_JUDGE_KEY,max_retries=0",
        env={"MY_JUDGE_KEY": key},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert key in echo_server.keys
    assert leaks(out, proc, key) == []
    assert REDACTED in (run_dir / "samples_say_judged.jsonl").read_text()


# ---- (b) a model argument the adapter rejects ---------------------------------------------------
@pytest.mark.parametrize(
    "model, args",
    [
        ("openai_compat", "model=m,base_url=http://127.0.0.1:9/v1,api_kye={value}"),  # misspelt key
        ("openai_compat", "model=m,base_url=http://127.0.0.1:9/v1,max_concurrency={value}"),  # wrong type
        (SCRIPTED, "consatnt={value}"),
    ],
)
def test_rejected_model_arg_value_is_never_kept_or_printed(
    toy_tasks: Path, tmp_path: Path, model: str, args: str
) -> None:
    value = secret()
    out = tmp_path / "out"
    proc = cli(
        "--model",
        model,
        "--model_args",
        args.format(value=value),
        "--tasks",
        "say_word",
        "--include_path",
        str(toy_tasks),
        "--output_path",
        str(out),
        "--no_progress",
    )
    assert proc.returncode == 2, proc.stderr
    assert "argument" in proc.stderr and "Traceback" not in proc.stderr
    assert leaks(out, proc, value) == []
    # the arguments are checked before the run folder is made: nothing is written at all
    assert not out.exists() or list(out.rglob("*")) == []


def test_model_args_are_validated_before_the_run_folder(
    toy_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmms_eval.engine import evaluator as ev

    def no_folder(*_a: object, **_k: object) -> None:
        raise AssertionError("the run folder was looked for before the model args were checked")

    monkeypatch.setattr(ev, "find_run_dir", no_folder)
    value = secret()
    cfg = RunConfig(
        model="openai_compat",
        model_args={"model": "m", "base_url": "http://127.0.0.1:9/v1", "api_kye": value},
        tasks=["say_word"],
        include_path=[str(toy_tasks)],
        output_path=str(tmp_path / "out"),
        show_progress=False,
    )
    with pytest.raises(UsageError) as info:
        ev.Evaluator(cfg).run()
    assert "'api_kye'" in str(info.value) and value not in str(info.value)


def test_rejected_value_is_left_out_of_a_validator_message() -> None:
    """A config validator that quotes the value it refuses does not get it printed."""
    from pydantic import field_validator

    from lmms_eval.api.model import Model, ModelConfig

    class SigConfig(ModelConfig):
        sig: str = ""

        @field_validator("sig")
        @classmethod
        def _sig(cls, value: str) -> str:
            raise ValueError(f"{value} is not a valid signature")

    class SigModel(Model[SigConfig]):
        name = "sig_model"
        Config = SigConfig

    value = secret()
    with pytest.raises(UsageError) as info:
        SigModel.from_args({"sig": value})
    assert "'sig'" in str(info.value) and "not a valid signature" in str(info.value)
    assert value not in str(info.value)


# ---- (c) a secret under an unusual name inside extra_body, marked by the user ---------------------
def _extra_body_run(server: EchoKeyServer, toy_tasks: Path, out: Path, value: str, *extra: str, env: dict[str, str]):
    return cli(
        "--model",
        "openai_compat",
        "--model_args",
        f'model=m,base_url={server.base_url},api_key_env=UNSET_KEY_VAR_X,extra_body={{"x_sig": "{value}"}}',
        "--tasks",
        "say_word",
        "--include_path",
        str(toy_tasks),
        "--output_path",
        str(out),
        "--limit",
        "2",
        "--no_progress",
        *extra,
        env={"MY_SIG": value, **env},
    )


def _check_extra_body_scrubbed(server: EchoKeyServer, out: Path, proc: subprocess.CompletedProcess, value: str):
    assert "Traceback" not in proc.stderr, proc.stderr
    assert server.bodies and all(b.get("x_sig") == value for b in server.bodies)  # the value is really sent
    assert leaks(out, proc, value) == []
    run_dir = run_dir_of(out)
    run = json.loads((run_dir / "run.json").read_text())
    assert run["config"]["model_args"]["extra_body"]["x_sig"] == REDACTED
    results = json.loads((run_dir / "results.json").read_text())
    assert results["config"]["model_args"]["extra_body"]["x_sig"] == REDACTED


def test_extra_body_secret_marked_by_env_var_is_scrubbed(
    echo_server: EchoKeyServer, toy_tasks: Path, tmp_path: Path
) -> None:
    value, out = secret(), tmp_path / "out"
    proc = _extra_body_run(echo_server, toy_tasks, out, value, env={"LMMS_EVAL_REDACT": "SOME_OTHER, MY_SIG"})
    _check_extra_body_scrubbed(echo_server, out, proc, value)


def test_extra_body_secret_marked_by_redact_env_flag_is_scrubbed(
    echo_server: EchoKeyServer, toy_tasks: Path, tmp_path: Path
) -> None:
    value, out = secret(), tmp_path / "out"
    proc = _extra_body_run(echo_server, toy_tasks, out, value, "--redact_env", "MY_SIG", env={})
    _check_extra_body_scrubbed(echo_server, out, proc, value)


def test_unmarked_extra_body_value_is_kept(echo_server: EchoKeyServer, toy_tasks: Path, tmp_path: Path) -> None:
    """Redaction by value is targeted: a value nobody marked is recorded as given."""
    value, out = secret(), tmp_path / "out"
    proc = _extra_body_run(echo_server, toy_tasks, out, value, env={})
    assert proc.returncode == 0, proc.stderr
    run = json.loads((run_dir_of(out) / "run.json").read_text())
    assert run["config"]["model_args"]["extra_body"]["x_sig"] == value


# ---- units: the registry, redact_text, the sample log, the console --------------------------------
def test_redact_text_replaces_registered_secrets() -> None:
    a, b = secret(), secret()
    assert redact_text(f"plain {a}") == f"plain {a}"  # nothing registered: unchanged
    add_secrets([a, b])
    assert redact_text(f"401: Incorrect API key provided: {a}; also {b}.") == (
        f"401: Incorrect API key provided: {REDACTED}; also {REDACTED}."
    )
    assert redact({"error": [f"x{a}y"], "nested": {"k": (b,)}}) == {
        "error": [f"x{REDACTED}y"],
        "nested": {"k": [REDACTED]},
    }


def test_short_and_non_string_values_are_not_registered() -> None:
    add_secrets(["abc", "", None, 123456789, b"bytes-value", "EMPTY", "abcdef"])
    assert registered_secrets() == frozenset({"abcdef"})
    assert redact_text("an EMPTY abc") == "an EMPTY abc"


def test_longest_secret_wins() -> None:
    add_secrets(["abcdef", "abcdefghijkl"])
    assert redact_text("abcdefghijkl abcdef") == f"{REDACTED} {REDACTED}"


def test_escaped_forms_of_a_secret_are_scrubbed() -> None:
    value = 'pa"ss\\wörd-' + uuid.uuid4().hex[:8]
    add_secrets([value])
    for text in (json.dumps({"k": value}), json.dumps({"k": value}, ensure_ascii=False), repr(value)):
        assert value not in redact_text(text) and REDACTED in redact_text(text), text
        assert json.dumps(value)[1:-1] not in redact_text(text)


def test_collect_secrets_walks_the_whole_config(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "A_KEY_VAR": "value-of-a-key",
        "B_SIG_VAR": "value-of-b-sig",
        "J_KEY_VAR": "value-of-judge",
        "R_VAR": "value-of-r-var",
        "L_VAR": "value-of-l-var",
        "OPENAI_API_KEY": "value-of-openai",
        "LMMS_EVAL_REDACT": "L_VAR, MISSING_VAR",
    }
    for name, val in env.items():
        monkeypatch.setenv(name, val)
    cfg = RunConfig(
        model="openai_compat",
        model_args={
            "model": "m",
            "api_key_env": "A_KEY_VAR",
            "tokenizer": "org/some-tokenizer",
            "extra_body": {
                "sig_env": "B_SIG_VAR",
                "headers": {"X-Custom": "header-value-1", "Authorization": "Bearer bearer-value-1"},
                "client_secret": "client-secret-1",
                "api_key": 12345678,
                "max_new_tokens": 1024,
            },
        },
        gen_kwargs={"password": "gen-password-1"},
        tasks=["t"],
        judge="model=j,api_key_env=J_KEY_VAR",
        redact_env=["R_VAR"],
    )
    got = set(collect_secrets(cfg))
    want = {
        "value-of-a-key",
        "value-of-b-sig",
        "value-of-judge",
        "value-of-r-var",
        "value-of-l-var",
        "value-of-openai",
        "header-value-1",
        "Bearer bearer-value-1",
        "bearer-value-1",
        "client-secret-1",
        "12345678",
        "gen-password-1",
    }
    assert want <= got
    assert not {"m", "org/some-tokenizer", "1024", "A_KEY_VAR", "J_KEY_VAR"} & got


def test_redact_env_is_not_part_of_the_resume_key() -> None:
    base = RunConfig(model="m", tasks=["t"])
    assert base.redact_env == []
    assert RunConfig(model="m", tasks=["t"], redact_env=["X"]).resume_key() == base.resume_key()


def _record(raw_output: str) -> SampleRecord:
    return SampleRecord(id="abc", task="t", doc_id=0, index=0, raw_output=raw_output, scores={"m,none": 1.0})


def test_sample_log_lines_are_scrubbed(tmp_path: Path) -> None:
    value = secret()
    add_secrets([value])
    store = SampleStore(str(tmp_path / "samples_t.jsonl"))
    store.append(_record(f"the key is {value}"))
    store.rewrite([_record(f"again {value}"), _record("clean")])
    store.close()
    raw = (tmp_path / "samples_t.jsonl").read_bytes()
    assert value.encode() not in raw and REDACTED.encode() in raw


def test_secret_that_is_a_field_name_keeps_the_log_readable(tmp_path: Path) -> None:
    add_secrets(["raw_output"])  # absurd, but a scrubbed line must still be a record
    store = SampleStore(str(tmp_path / "samples_t.jsonl"))
    store.append(_record("it said raw_output here"))
    store.close()
    (record,) = store.read().values()
    assert record.raw_output == f"it said {REDACTED} here" and record.scores == {"m,none": 1.0}


def test_console_streams_and_log_records_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    install_console_redaction()
    install_console_redaction()  # idempotent: wrapped once
    assert isinstance(sys.stdout, RedactingStream) and sys.stdout.wrapped is out
    assert isinstance(sys.stderr, RedactingStream) and sys.stderr.wrapped is err
    value = secret()
    add_secrets([value])
    print(f"results for {value}")
    print(f"lmms-eval: error: {value}", file=sys.stderr)
    assert out.getvalue() == f"results for {REDACTED}\n" and err.getvalue() == f"lmms-eval: error: {REDACTED}\n"
    assert sys.stdout.isatty() is False

    logged = io.StringIO()  # a handler made before the install, on a logger that does not propagate
    handler = logging.StreamHandler(logged)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("lmms_eval.test_secrets")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("call failed: %s", value)
        try:
            raise RuntimeError(f"boom {value}")
        except RuntimeError:
            log.exception("with traceback")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    assert value not in logged.getvalue() and logged.getvalue().count(REDACTED) >= 2


def test_console_fast_path_without_secrets() -> None:
    stream = RedactingStream(io.StringIO())
    assert stream.write("nothing to hide") == len("nothing to hide")
    assert stream.wrapped.getvalue() == "nothing to hide"
    assert redact_mod.scrub("nothing to hide") == "nothing to hide"
