"""Whether a ``pretrained=`` hub checkpoint can be loaded, decided before any ``from_pretrained``.

Without a route to the Hugging Face hub, loading a hub id used to take minutes: every file a
processor and a model ask for was requested five times with backoff, each attempt logging a
warning, before transformers' error. :func:`hub_kwargs` runs first instead, for every load of
the ``transformers`` adapters (through :func:`lmms_eval.models.hf.placement.load_or_explain`, and
the config reads of ``hf_chat`` and ``vllm``):

* a local folder, or ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` set: nothing to check;
* the checkpoint's ``config.json`` at that revision in the local HF cache: load it from the
  cache (``local_files_only=True``), without touching the network;
* otherwise one HEAD request to the hub endpoint (``HF_ENDPOINT``, default
  ``https://huggingface.co``, through the environment's proxy), at most
  :data:`PROBE_TIMEOUT_S` seconds, no retry, nothing logged: any HTTP answer means reachable and
  loading proceeds as usual; none raises one :class:`~lmms_eval.api.errors.UsageError` line
  naming the fixes (a local folder; ``hf download`` then ``HF_HUB_OFFLINE=1``; ``revision=``).

Answers are kept per (checkpoint, revision, endpoint, cache folder) for the process: the
processor, the config and the model of one checkpoint cost one check.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lmms_eval.api.errors import UsageError

PROBE_TIMEOUT_S = 3.0
"""Longest wait for the hub endpoint to answer."""
DEFAULT_ENDPOINT = "https://huggingface.co"
_REPO_ID = re.compile(r"^[A-Za-z0-9_][\w.\-]*(/[\w.\-]+)?$")
_TRUE = {"1", "true", "yes", "on"}
_DOWN = {502, 503, 504}  # bad gateway, unavailable, gateway timeout: nothing behind the answer
_answers: dict[tuple[str, str | None, str, str], dict[str, Any]] = {}


def offline_mode() -> bool:
    """Whether ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` asks for no network at all."""
    return any(os.environ.get(name, "").strip().lower() in _TRUE for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_endpoint() -> str:
    """The hub the loaders talk to: ``HF_ENDPOINT`` or ``https://huggingface.co``."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def is_hub_id(pretrained: str) -> bool:
    """Whether ``pretrained`` names a hub repository (``name`` or ``org/name``), not a local folder."""
    return not os.path.isdir(os.path.expanduser(pretrained)) and bool(_REPO_ID.match(pretrained))


def hub_cache_dir() -> Path:
    """The local hub cache the loaders read (``HF_HUB_CACHE``, else ``HF_HOME/hub``)."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path(constants.HF_HUB_CACHE)


def is_cached(repo_id: str, revision: str | None = None) -> bool:
    """Whether the checkpoint's ``config.json`` at ``revision`` (default: ``main``) is in the local cache."""
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "config.json", cache_dir=hub_cache_dir(), revision=revision)
    except Exception:  # noqa: BLE001 - an id the cache layout cannot hold is simply not cached
        return False
    return isinstance(found, str)


def cached_revisions(repo_id: str) -> list[str]:
    """The snapshots of ``repo_id`` in the local cache (commit hashes), for the error message."""
    folder = hub_cache_dir() / f"models--{repo_id.replace('/', '--')}" / "snapshots"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def probe(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """One HEAD request to ``endpoint``: None if anything answered, else why not.

    Any HTTP status but 502/503/504 (a gateway with nothing behind it) counts as an answer, and so
    does a TLS handshake failure (a server is there; the loaders, with their own certificates,
    decide). The request runs in a daemon
    thread, so a slow DNS lookup cannot hold the caller past ``timeout``.
    """
    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            request = urllib.request.Request(endpoint, method="HEAD", headers={"User-Agent": "lmms-eval"})
            with urllib.request.urlopen(request, timeout=timeout):
                outcome.append(None)
        except urllib.error.HTTPError as exc:  # an answer, unless a gateway says the hub is down
            outcome.append(f"HTTP {exc.code} {exc.reason}" if exc.code in _DOWN else None)
        except urllib.error.URLError as exc:
            reason = exc.reason
            outcome.append(None if isinstance(reason, ssl.SSLError) else _why(reason))
        except ssl.SSLError:
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - timeouts, resets: not reachable
            outcome.append(_why(exc))

    thread = threading.Thread(target=attempt, name="hf-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def _why(exc: Any) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the timeout"
    text = str(getattr(exc, "strerror", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unreachable_message(pretrained: str, revision: str | None, endpoint: str, reason: str, cached: bool) -> str:
    """The one line naming the fixes."""
    what = "only part of it is in the local cache" if cached else "it is not in the local cache"
    revisions = [] if cached else cached_revisions(pretrained)
    pick = (
        f"or set revision= to a cached one ({', '.join(r[:12] for r in revisions)})"
        if revisions
        else "or check revision= names a downloaded revision"
    )
    at = f" at revision {revision!r}" if revision else ""
    return (
        f"cannot load {pretrained!r}{at}: the Hugging Face hub at {endpoint} is unreachable ({reason}) and {what}; "
        f"use a local folder (pretrained=/path/to/checkpoint), or download it where there is internet "
        f"(`hf download {pretrained}`, formerly `huggingface-cli download`) and rerun with HF_HUB_OFFLINE=1, {pick}"
    )


def hub_kwargs(pretrained: str, revision: str | None = None) -> dict[str, Any]:
    """Extra ``from_pretrained`` keyword arguments for ``pretrained`` (see the module docstring):
    ``{}`` or ``{"local_files_only": True}``. Raises :class:`UsageError` when it is a hub id that
    is neither cached nor reachable."""
    if offline_mode() or not is_hub_id(pretrained):
        return {}
    endpoint = hub_endpoint()
    key = (pretrained, revision, endpoint, str(hub_cache_dir()))
    if key not in _answers:
        if is_cached(pretrained, revision):
            _answers[key] = {"local_files_only": True}
        else:
            _answers[key] = require_hub(pretrained, revision)
    return dict(_answers[key])


def require_hub(pretrained: str, revision: str | None = None, cached: bool = False) -> dict[str, Any]:
    """``{}`` once the hub answers the probe; else :class:`UsageError` (``cached``: the cached copy
    is incomplete, e.g. an interrupted download)."""
    endpoint = hub_endpoint()
    reason = probe(endpoint)
    if reason is not None:
        raise UsageError(unreachable_message(pretrained, revision, endpoint, reason, cached))
    return {}


def forget() -> None:
    """Drop the kept answers (tests; a process whose network changed)."""
    _answers.clear()
