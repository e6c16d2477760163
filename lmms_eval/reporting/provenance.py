"""What a run records about its environment: git revision and package versions."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

_PACKAGES = (
    "lmms_eval",
    "torch",
    "torchvision",
    "transformers",
    "accelerate",
    "datasets",
    "numpy",
    "pillow",
    "jiwer",
    "sacrebleu",
    "math-verify",
    "openai",
    "vllm",
    "pocketsphinx",
    "rapidocr",
    "onnxruntime",
)


def git_revision(path: str | None = None) -> str | None:
    """The git commit of the folder holding ``lmms_eval`` (None outside a checkout)."""
    path = path or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(
            ["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that can change scores (without importing them)."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "git_hash": git_revision(),
        "packages": package_versions(),
    }
