"""Judge prompts as jinja2 templates.

A template is found by name: a path (absolute, or relative to the task's folder), else a file of
``lmms_eval/judge/templates/`` (``binary`` and ``binary.jinja`` both work). Rendering uses
``StrictUndefined``: a variable the template needs but the sample lacks is an error naming the
template and the variable, never an empty string in the prompt.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lmms_eval.api.errors import ConfigError, SampleError

BUILTIN_DIR = os.path.join(os.path.dirname(__file__), "templates")
_EXTENSIONS = ("", ".jinja", ".j2", ".txt")


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class JudgeTemplate:
    """A loaded template: where it came from, its source and a hash of that source."""

    name: str
    path: str
    source: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()[:16]

    def render(self, **variables: Any) -> str:
        """The prompt text for one sample (raises :class:`SampleError` naming what is missing)."""
        import jinja2

        try:
            template = _compiled(self.source)
            # leading whitespace dropped (comment headers); the end kept as written, "Extracted answer: " and
            # MMK12's final newline included (jinja drops the one newline that ends the file)
            return template.render(**variables).lstrip()
        except jinja2.UndefinedError as exc:
            raise SampleError(f"judge template {self.path}: {exc}; give that value or change the template") from None
        except jinja2.TemplateError as exc:
            raise SampleError(f"judge template {self.path}: {type(exc).__name__}: {exc}") from None


@lru_cache(maxsize=64)
def _compiled(source: str) -> Any:
    return _environment().from_string(source)


def find_template(name: str, search_dirs: list[str] | None = None) -> str:
    """Resolve a template name to a file path (see the module docstring)."""
    candidates: list[str] = []
    if os.path.isabs(name):
        candidates.append(name)
    for base in list(search_dirs or []) + [BUILTIN_DIR]:
        for ext in _EXTENSIONS:
            candidates.append(os.path.join(base, name + ext))
    for path in candidates:
        if os.path.isfile(path):
            return path
    builtins = sorted(os.path.splitext(f)[0] for f in os.listdir(BUILTIN_DIR) if f.endswith(".jinja"))
    where = ", ".join(search_dirs or []) or "(no task folder)"
    raise ConfigError(
        f"judge template {name!r} not found in {where} nor among the built-ins ({', '.join(builtins)}); "
        "give a file next to the task YAML or a built-in name"
    )


def load_template(name: str, search_dirs: list[str] | None = None) -> JudgeTemplate:
    """Load and syntax-check a template."""
    import jinja2

    path = find_template(name, search_dirs)
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    try:
        _compiled(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"judge template {path} line {exc.lineno}: {exc.message}") from None
    return JudgeTemplate(name=name, path=path, source=source)
