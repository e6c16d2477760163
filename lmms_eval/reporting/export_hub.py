"""Uploading an export to a Hugging Face dataset repository (``lmms-eval export --push-to-hub``).

The token is the user's own, found by ``huggingface_hub`` itself (``$HF_TOKEN``, or the login
stored by ``hf auth login``): this module never reads, passes or writes it. A repository that does
not exist yet is created private.
"""

from __future__ import annotations

from typing import Any

from lmms_eval.api.errors import LmmsEvalError, UsageError
from lmms_eval.reporting.redact import redact_text


def make_api() -> Any:
    """A ``huggingface_hub.HfApi`` that finds the token on its own (replaced by a fake in tests)."""
    from huggingface_hub import HfApi

    return HfApi()


def _check_login() -> None:
    from huggingface_hub import get_token

    if not get_token():
        raise UsageError(
            "--push-to-hub needs a Hugging Face token with write access: log in with `hf auth login` or set HF_TOKEN"
        )


def _check_repo_id(repo_id: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise UsageError(
            f"--push-to-hub {repo_id!r} is not a repository id ({exc}); give e.g. my-org/leaderboard"
        ) from None


def push_folder(folder: str, repo_id: str, path_in_repo: str, commit_message: str, api: Any = None) -> str:
    """Upload every file of ``folder`` to ``path_in_repo`` of the dataset repo ``repo_id`` (created
    private when missing); returns the commit URL (or what the API returned), as text."""
    _check_repo_id(repo_id)
    _check_login()
    api = api if api is not None else make_api()
    try:
        api.create_repo(repo_id=repo_id, repo_type="dataset", private=True, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=folder,
            path_in_repo=path_in_repo,
            commit_message=commit_message,
        )
    except LmmsEvalError:
        raise
    except Exception as exc:  # noqa: BLE001 - the hub's errors (HTTP, auth, network) become one line
        first = (str(exc).strip().splitlines() or [""])[0]
        raise LmmsEvalError(
            f"upload to dataset {repo_id} failed: {type(exc).__name__}: {redact_text(first)}; "
            "check the repository id, your login (`hf auth whoami`) and its write access"
        ) from None
    return str(getattr(info, "commit_url", None) or info)
