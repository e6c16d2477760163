"""The package's shape: no import cycle between its packages, no torch where none belongs, small modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "lmms_eval"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, module: str) -> set[str]:
    """Every module imported anywhere in the file (functions too), except under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("lmms_eval.")}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_cycle_between_packages() -> None:
    """api <- media <- models/clients/engine...: a package never imports one that imports it back."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        src = _package(module)
        for target in _imports(path, module):
            while target and target not in modules:  # "pkg.mod.attr" -> "pkg.mod"
                target = target.rpartition(".")[0]
            dst = _package(target)
            if target and src and dst and dst != src:
                graph.setdefault(src, set()).add(dst)

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return trail + [start]
                if nxt not in trail:
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = [c for c in (cycle_from(p) for p in sorted(graph)) if c]
    assert not cycles, f"package import cycles: {[' -> '.join(c) for c in cycles]}"
    assert "media" in graph.get("models", set()) and "media" in graph.get("clients", set())
    assert "models" not in graph.get("clients", set())  # sending a video to an API needs no adapter code


def test_media_and_task_listing_import_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import lmms_eval.media, lmms_eval.api.generation, lmms_eval.api.record, lmms_eval.clients.media\n"
        "assert 'torch' not in sys.modules, 'media'\n"
        "from lmms_eval.cli.main import main\n"
        "assert main(['tasks']) == 0\n"
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'transformers')))\n"
        "assert not bad, bad\n"
    )
    env_cache = {"LMMS_EVAL_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**_env(), **env_cache})
    assert proc.returncode == 0, proc.stderr[-2000:]


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_no_module_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by job: {long}"
