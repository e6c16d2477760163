"""The JSON schema of a leaderboard record (``lmms_eval/reporting/schemas/``, linked from ``docs/schemas/``) and
validation against it.

Records are built from a run's results by :mod:`lmms_eval.reporting.export`; one that does not
match the schema is a bug of the exporter (or of the schema), so :func:`validate_records` raises
instead of writing it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lmms_eval.api.errors import LmmsEvalError

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "leaderboard_record.schema.json"
"""Where the schema lives: shipped with the package (``docs/schemas/`` links to it)."""


class ExportSchemaError(LmmsEvalError):
    """A record the exporter built does not match the schema: a bug, never written out."""


@functools.lru_cache(maxsize=4)
def load_schema(path: str | None = None) -> dict[str, Any]:
    """The record schema (read once), or an error naming the file that is missing."""
    where = Path(path) if path else SCHEMA_PATH
    try:
        return dict(json.loads(where.read_text(encoding="utf-8")))
    except OSError as exc:
        raise LmmsEvalError(
            f"cannot read the leaderboard schema {where}: {exc.strerror or exc}; "
            "the installed lmms-eval is incomplete: reinstall it (pip install --force-reinstall lmms_eval)"
        ) from None


def record_fields(schema: dict[str, Any] | None = None) -> list[str]:
    """The record's fields in schema order (the CSV columns)."""
    return list((schema or load_schema())["properties"])


def validate_records(records: Iterable[dict[str, Any]], schema: dict[str, Any] | None = None) -> None:
    """Raise :class:`ExportSchemaError` naming the first record and field that break the schema."""
    try:
        import jsonschema
    except ImportError:
        raise LmmsEvalError(
            "lmms-eval export validates records with jsonschema; install it: pip install 'lmms_eval[report]'"
        ) from None
    schema = schema or load_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    for record in records:
        error = jsonschema.exceptions.best_match(validator.iter_errors(record))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(record)"
            raise ExportSchemaError(
                f"bug: the export record of task {record.get('task')!r} does not match {SCHEMA_PATH.name} "
                f"at {where}: {error.message}; nothing was written. Please report it with the run's results.json"
            )
