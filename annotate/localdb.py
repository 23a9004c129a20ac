"""The SQLite files annotate keeps for itself (the task store, the dashboard summary): a `meta` table of JSON values
and all-or-nothing transactions, defined once (stdlib only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self


class MetaDB:
    """A connection (autocommit: isolation_level=None) whose file has a `meta (key, value)` table."""

    db: sqlite3.Connection

    def meta(self, key: str, default: Any = None) -> Any:
        found = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(found[0]) if found else default

    def set_meta(self, **values: Any) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                            [(k, json.dumps(v, sort_keys=True)) for k, v in values.items()])

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Everything inside is committed together, or not at all (an error or a fallback rolls it back)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()
