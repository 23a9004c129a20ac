"""The local task store: one project's tasks as the last pull left them, in one SQLite file (stdlib sqlite3).

Each row keeps the task exactly as the raw archive writes it (so the archive can be written from the store, byte for
byte what a full pull writes), its update time, its counts, and the task parsed into records (pickled, with what
parsing quarantined). Read commands and the dashboard load the parsed tasks instead of parsing a whole archive
(measured at 2,000 tasks: 0.3 s against 2.3 s). The parse is keyed on the schema and this package's source: when
either changes, every stored row is parsed again from its JSON, locally.

The store is a cache of the archive, never the only copy: `meta.archive` names the archive it matches, and a pull
that finds the store missing, from another project or server, or not matching the newest archive, fills it again
with a full pull. Writers hold the pull lock; readers may read at any time (WAL).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from ..config import Settings
from ..localdb import MetaDB
from ..records import Task
from ..schema import Schema
from .archive import archive_project
from .convert import Quarantined, read_export, task_from_row, tasks_from_export

FORMAT = 2  # the layout below and the archive row shape (2: one-way fields dropped); another number: fill again
COUNTS = ("annotations", "skipped", "predictions", "drafts")
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  id INTEGER PRIMARY KEY, updated_at TEXT NOT NULL, row TEXT NOT NULL, parsed BLOB NOT NULL, quarantine TEXT NOT NULL,
  annotations INTEGER NOT NULL, skipped INTEGER NOT NULL, predictions INTEGER NOT NULL, drafts INTEGER NOT NULL);
"""


def store_path(settings: Settings, project_id: int) -> Path:
    """Where the store of project `project_id` lives (private state, next to the sync manifests)."""
    return settings.state_dir / "store" / f"project-{project_id}.sqlite"


def row_json(row: dict[str, Any]) -> str:
    """A task row as the raw archive writes it (one definition for the archive and the store)."""
    return json.dumps(row, ensure_ascii=False, sort_keys=True)


@cache
def _source_digest() -> str:
    """A digest of this package's source, taken once per process (cached): a parse pickled by other code is parsed
    again. Once, because the code that parses is the code this process loaded, whatever the files say later."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def parser_key(schema: Schema) -> str:
    """What a stored parse depends on: the schema and the code that parses."""
    return hashlib.sha256(f"{FORMAT}\0{schema!r}\0{_source_digest()}".encode()).hexdigest()


def row_counts(row: dict[str, Any]) -> tuple[int, int, int, int]:
    """(submitted annotations, skips, predictions, drafts) of one task row, as Label Studio counts them."""
    annotations = [a for a in row.get("annotations") or [] if isinstance(a, dict)]
    skipped = sum(1 for a in annotations if a.get("was_cancelled"))
    return (len(annotations) - skipped, skipped, len(row.get("predictions") or []), len(row.get("drafts") or []))


def _parse(row: dict[str, Any], schema: Schema) -> tuple[bytes, str]:
    """(the parsed task and its quarantine, pickled; the quarantine as JSON, '' when none)."""
    found: list[Quarantined] = []
    task = task_from_row(row, schema, found)
    blob = pickle.dumps((task, found), protocol=pickle.HIGHEST_PROTOCOL)
    return blob, json.dumps([q.to_dict() for q in found]) if found else ""


class TaskStore(MetaDB):
    """One project's stored tasks; open with `open_store`, write inside `transaction()`."""

    def __init__(self, path: Path, db: sqlite3.Connection):
        self.path, self.db = path, db
        self.note = ""  # set when an unreadable store was replaced by an empty one

    def clear(self) -> None:
        self.db.execute("DELETE FROM tasks")
        self.db.execute("DELETE FROM meta")

    def known(self) -> dict[int, str]:
        """Task id -> updated_at of every stored task."""
        return dict(self.db.execute("SELECT id, updated_at FROM tasks"))

    def upsert(self, rows: Iterable[dict[str, Any]], schema: Schema) -> list[int]:
        """Store (or replace) each task row with its parse and counts; the ids stored, in the order given."""
        ids, values = [], []
        for row in rows:
            ids.append(int(row["id"]))
            values.append((ids[-1], str(row.get("updated_at") or ""), row_json(row), *_parse(row, schema),
                           *row_counts(row)))
        self.db.executemany("INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        return ids

    def delete(self, ids: Iterable[int]) -> None:
        self.db.executemany("DELETE FROM tasks WHERE id = ?", [(int(i),) for i in ids])

    def totals(self) -> dict[str, int]:
        """tasks, annotations, skipped, predictions, drafts over every stored task."""
        found = self.db.execute(f"SELECT COUNT(*), {', '.join(f'TOTAL({c})' for c in COUNTS)} FROM tasks").fetchone()
        return dict(zip(("tasks", *COUNTS), (int(v) for v in found), strict=True))

    def reparse(self, schema: Schema) -> int:
        """Parse every stored row again when the schema or the parsing code changed; how many were parsed."""
        key = parser_key(schema)
        if self.meta("parser") == key:
            return 0
        with self.transaction():
            rows = self.db.execute("SELECT id, row FROM tasks").fetchall()
            self.db.executemany("UPDATE tasks SET parsed = ?, quarantine = ? WHERE id = ?",
                                [(*_parse(json.loads(text), schema), task_id) for task_id, text in rows])
            self.set_meta(parser=key)
        return len(rows)

    def parsed(self, schema: Schema) -> tuple[list[Task], list[Quarantined]]:
        """Every stored task in id order and what parsing quarantined: the stored parse when it was made with this
        schema and code, else each row parsed again from its JSON (a read-only reader cannot store it)."""
        tasks: list[Task] = []
        quarantine: list[Quarantined] = []
        if self.meta("parser") == parser_key(schema):
            for (blob,) in self.db.execute("SELECT parsed FROM tasks ORDER BY id"):
                task, found = pickle.loads(blob)
                tasks.append(task)
                quarantine.extend(found)
            return tasks, quarantine
        for (text,) in self.db.execute("SELECT row FROM tasks ORDER BY id"):
            tasks.append(task_from_row(json.loads(text), schema, quarantine))
        return tasks, quarantine

    def task(self, task_id: int, schema: Schema) -> tuple[Task, list[Quarantined]] | None:
        """One stored task and what parsing it quarantined (None when the store has no such task)."""
        found = self.db.execute("SELECT parsed, row FROM tasks WHERE id = ?", (int(task_id),)).fetchone()
        if found is None:
            return None
        if self.meta("parser") == parser_key(schema):
            task, quarantined = pickle.loads(found[0])
            return task, quarantined
        quarantined = []
        return task_from_row(json.loads(found[1]), schema, quarantined), quarantined

    def quarantine(self) -> list[Quarantined]:
        """What parsing the stored tasks quarantined, in task order (as parsed when stored: `reparse` first)."""
        rows = self.db.execute("SELECT quarantine FROM tasks WHERE quarantine != '' ORDER BY id")
        return [Quarantined(**item) for (text,) in rows for item in json.loads(text)]

    def write_archive(self, handle: Any) -> int:
        """Write the stored rows to `handle` as the raw archive (the bytes pull_raw writes); how many rows."""
        handle.write("[")
        n = 0
        for (text,) in self.db.execute("SELECT row FROM tasks ORDER BY id"):
            handle.write((",\n" if n else "\n") + text)
            n += 1
        handle.write("\n]\n")
        return n


def open_store(path: Path, readonly: bool = False) -> TaskStore | None:
    """The store at `path` (created when missing unless `readonly`); None when readonly and it does not exist or
    cannot be read. A writer that finds an unreadable file moves it aside and starts an empty store (the pull then
    fills it in full and says why: `TaskStore.note`)."""
    if readonly:
        if not path.exists():
            return None
        try:
            store = _connect(path, readonly=True)
            if store.meta("format") == FORMAT:
                return store
            store.db.close()
        except sqlite3.DatabaseError:
            pass
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path, readonly=False)
    except sqlite3.DatabaseError as exc:
        aside = path.with_name(path.name + ".unreadable")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").replace(Path(f"{aside}{suffix}")) if Path(f"{path}{suffix}").exists() else None
        store = _connect(path, readonly=False)
        store.note = f"the local store could not be read ({exc}); it was moved to {aside.name}"
        return store


def _connect(path: Path, readonly: bool) -> TaskStore:
    db = sqlite3.connect(f"file:{path}?mode={'ro' if readonly else 'rwc'}", uri=True, isolation_level=None,
                         check_same_thread=False)
    try:
        if not readonly:
            path.chmod(0o600)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_TABLES)
        store = TaskStore(path, db)
        store.meta("format")  # reads the file: an unreadable one fails here
    except sqlite3.DatabaseError:
        db.close()
        raise
    return store


@contextmanager
def reading(path: Path) -> Iterator[TaskStore | None]:
    """The store opened read-only for the block (None when there is none), closed after."""
    store = open_store(path, readonly=True)
    if store is None:
        yield None
        return
    with closing(store.db):
        yield store


def stored_project(settings: Settings, archive: Path) -> int | None:
    """The project whose local task store holds exactly this archive (None: not pulled into a store)."""
    project = archive_project(archive)
    if project is None:
        return None
    with reading(store_path(settings, project)) as store:
        return project if store is not None and store.meta("archive") == archive.name else None


def read_archive_tasks(settings: Settings, archive: Path, schema: Schema) -> tuple[list[Task], list[Quarantined]]:
    """The tasks of a raw archive: from the project's store when it holds exactly that archive (one consistent
    read), else parsed from the archive file itself."""
    project = archive_project(archive)
    if project is not None:
        with reading(store_path(settings, project)) as store:
            if store is not None:
                store.db.execute("BEGIN")  # one snapshot: the meta and the rows of the same commit
                try:
                    if store.meta("archive") == archive.name:
                        return store.parsed(schema)
                finally:
                    store.db.rollback()
    return tasks_from_export(read_export(archive), schema)
