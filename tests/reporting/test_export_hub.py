"""``lmms-eval export --push-to-hub``: what would be uploaded, checked on a fake ``HfApi`` (the real
hub is never contacted); the token comes from the environment through huggingface_hub and is never
passed on by lmms-eval nor written to any file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import huggingface_hub
import pytest
from conftest import write
from hub.common import run_evaluator
from scripted_model import ScriptedModel

from lmms_eval.cli.main import main
from lmms_eval.reporting.redact import clear_secrets

TOKEN = "hf_" + "T0kenValue" * 3


class FakeApi:
    """Stands in for ``huggingface_hub.HfApi``: records how it was made and called, and what the
    uploaded folder held at upload time."""

    made: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    uploaded: ClassVar[dict[str, bytes]] = {}
    fail: ClassVar[Exception | None] = None

    def __init__(self, **kwargs: Any) -> None:
        FakeApi.made.append(kwargs)

    def create_repo(self, **kwargs: Any) -> str:
        FakeApi.calls.append(("create_repo", kwargs))
        return f"https://huggingface.co/datasets/{kwargs['repo_id']}"

    def upload_folder(self, **kwargs: Any) -> Any:
        FakeApi.calls.append(("upload_folder", kwargs))
        if FakeApi.fail is not None:
            raise FakeApi.fail
        root = Path(kwargs["folder_path"])
        FakeApi.uploaded.update({str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()})

        class Info:
            commit_url = f"https://huggingface.co/datasets/{kwargs['repo_id']}/commit/abc123"

        return Info()


@pytest.fixture(autouse=True)
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    FakeApi.made, FakeApi.calls, FakeApi.uploaded, FakeApi.fail = [], [], {}, None
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # no stored login of the machine
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    clear_secrets()
    yield
    clear_secrets()


SUBMITTING = """task: answered
include: _base_yaml
doc_id_column: qid
doc_to_text: 'Say {{word}}'
submission: !function subm.write
"""


@pytest.fixture
def run_dir(toy_tasks: Path, tmp_path: Path) -> Path:
    (toy_tasks / "answered.yaml").write_text(SUBMITTING)
    write(
        toy_tasks / "subm.py",
        "def write(records):\n    return 'answers.json', {r.doc_id: r.raw_output for r in records}\n",
    )
    _, path = run_evaluator(
        tmp_path,
        ["answered"],
        ScriptedModel(),
        include_path=[str(toy_tasks)],
        limit=2,
        model_args={"pretrained": "o/m"},
    )
    return path


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["export", *args])
    out, err = capsys.readouterr()
    return code, out, err


def all_file_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_push_uploads_exactly_the_export(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    subs = tmp_path / "subs"
    args = (str(run_dir), "--format", "csv", "--submissions", str(subs), "--push-to-hub", "me/board")
    code, out, err = export(capsys, *args)
    assert code == 0, err
    assert FakeApi.made == [{}]  # no token handed over: huggingface_hub finds it itself
    (create, create_kw), (upload, upload_kw) = FakeApi.calls
    assert create == "create_repo" and create_kw == {
        "repo_id": "me/board",
        "repo_type": "dataset",
        "private": True,
        "exist_ok": True,
    }
    config_hash = out.splitlines()[1].split(",")[14]
    assert upload == "upload_folder" and upload_kw["repo_id"] == "me/board" and upload_kw["repo_type"] == "dataset"
    assert upload_kw["path_in_repo"] == f"scripted__m/{config_hash}"
    assert "token" not in upload_kw and "token" not in create_kw
    assert set(FakeApi.uploaded) == {"leaderboard.csv", "submissions/answers.json", "submissions/manifest.json"}
    assert FakeApi.uploaded["leaderboard.csv"].decode() == out  # the same export as printed
    assert FakeApi.uploaded["submissions/answers.json"] == (run_dir / "submissions" / "answers.json").read_bytes()
    assert FakeApi.uploaded["submissions/manifest.json"] == (subs / "manifest.json").read_bytes()
    assert "commit/abc123" in err
    # the token is in no file: not uploaded, not in the export, the run folder or the hub's home
    assert TOKEN.encode() not in b"".join(FakeApi.uploaded.values())
    assert TOKEN.encode() not in all_file_bytes(tmp_path)
    assert not Path(upload_kw["folder_path"]).exists()  # the staging folder is removed


def test_path_in_repo_and_json(
    run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, out, _ = export(capsys, str(run_dir), "--push-to-hub", "me/board", "--path-in-repo", "runs/x")
    assert code == 0
    assert FakeApi.calls[1][1]["path_in_repo"] == "runs/x"
    assert set(FakeApi.uploaded) == {"leaderboard.json"}  # no --submissions: the records only
    assert json.loads(FakeApi.uploaded["leaderboard.json"]) == json.loads(out)


def test_off_by_default(run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, _, _ = export(capsys, str(run_dir))
    assert code == 0 and FakeApi.made == [] and FakeApi.calls == []


def test_no_login_is_a_usage_error(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = export(capsys, str(run_dir), "--push-to-hub", "me/board")
    assert code == 2 and "needs a Hugging Face token" in err and "hf auth login" in err
    assert FakeApi.made == []


def test_bad_repo_id(run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, _, err = export(capsys, str(run_dir), "--push-to-hub", "not a/repo/id")
    assert code == 2 and "is not a repository id" in err and FakeApi.made == []


def test_hub_failure_is_one_line_without_the_token(
    run_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    FakeApi.fail = PermissionError(f"403 Forbidden: token {TOKEN} cannot write to me/board\nmore detail")
    code, _, err = export(capsys, str(run_dir), "--push-to-hub", "me/board")
    assert code == 1 and "upload to dataset me/board failed: PermissionError: 403 Forbidden" in err
    assert TOKEN not in err and err.count("\n") == 1 and "hf auth whoami" in err
