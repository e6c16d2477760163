"""One line on a terminal when a run enters a phase (loading the model, generating, judging, scoring)."""

from __future__ import annotations

import sys


def announce(message: str, enabled: bool = True) -> None:
    """Print ``lmms-eval: <message> ...`` on stderr when it is a terminal (logs get progress bars)."""
    if enabled and sys.stderr.isatty():
        print(f"lmms-eval: {message} ...", file=sys.stderr, flush=True)
