"""Fold the call caches of several run folders (judge replies, tool results) into one SQLite file.

``lmms-eval merge`` runs the judge stage again over the merged sample logs; with the shards'
cached replies folded into the merged folder's cache, that costs no judge call and gives the
very replies each shard scored with. Generic over tables: every table of a source is created in
the destination (same definition) and its rows copied; a key already there is kept.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable


def merge_caches(sources: Iterable[str], dest: str) -> int:
    """Copy every row of every table of the existing ``sources`` into ``dest``; rows copied."""
    copied = 0
    paths = [p for p in sources if os.path.isfile(p) and os.path.abspath(p) != os.path.abspath(dest)]
    if not paths:
        return 0
    db = sqlite3.connect(dest, timeout=60, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        for path in paths:
            db.execute("ATTACH DATABASE ? AS src", (path,))
            try:
                tables = db.execute(
                    "SELECT name, sql FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                ).fetchall()
                for name, sql in tables:
                    create = sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
                    if "IF NOT EXISTS IF NOT EXISTS" in create:
                        create = sql
                    db.execute(create)  # in main: an unqualified CREATE goes to the first database
                    columns = ", ".join(f'"{row[1]}"' for row in db.execute(f'PRAGMA src.table_info("{name}")'))
                    before = db.total_changes
                    db.execute(f'INSERT OR IGNORE INTO main."{name}" ({columns}) SELECT {columns} FROM src."{name}"')
                    copied += db.total_changes - before
            finally:
                db.execute("DETACH DATABASE src")
    finally:
        db.close()
    return copied
