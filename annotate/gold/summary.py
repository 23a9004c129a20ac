"""The summary of one data version: per task what a listing shows (title, annotators, labels, gold status, open
disagreements, agreement measures), the project's annotator and daily counts, and the agreement report, in one
SQLite file (stdlib sqlite3) so that a reader never holds the tasks.

It is built once per raw archive (rows first, then the report, the slow part), keyed on the archive's name, size
and mtime, the schema, the parsing and adjudicating code and the leads; `meta.decisions` is the digest of the
decision log the gold rows were built with, and a reader that sees a newer log rebuilds only the rows of the tasks
whose decisions changed (`set_gold`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import statistics
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, cast

from ..config import Settings
from ..labelstudio.store import parser_key, read_archive_tasks
from ..localdb import MetaDB
from ..records import Task
from ..schema import Schema
from .adjudicate import TaskGold, build_gold
from .decisions import DECISIONS_FILE, AnyDecision, assign_decisions, load_decisions

FORMAT = 1
BOOTSTRAP = 200  # replicates for the summary's CIs: 1,000 would take minutes on 10k tasks
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
  task_id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, title TEXT NOT NULL, annotators TEXT NOT NULL,
  labels TEXT NOT NULL, completed INTEGER NOT NULL, status TEXT NOT NULL, n_open INTEGER NOT NULL,
  overlapping INTEGER NOT NULL, decided TEXT NOT NULL, token_alpha REAL, exact_f1 REAL);
"""
COLUMNS = ("task_id", "completed", "status", "n_open", "overlapping", "token_alpha", "exact_f1", "annotators",
           "labels")


def summary_path(settings: Settings, archive: Path) -> Path:
    """Where the summary of one raw archive lives (private state, beside the task stores)."""
    return settings.state_dir / "summary" / f"{archive.name}.sqlite"


def summary_identity(archive: Path, schema: Schema, leads: Sequence[str]) -> dict[str, Any]:
    """What a summary must match to be read: the archive file, and what its gold and parse depend on."""
    stat = archive.stat()
    key = hashlib.sha256(f"{FORMAT}\0{parser_key(schema)}\0{sorted(leads)}".encode()).hexdigest()
    return {"archive": archive.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "key": key}


def log_digest(path: Path) -> str:
    """The decision log's content digest ('' when there is none yet)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""


def decisions_digest(decisions: Sequence[AnyDecision]) -> str:
    """One task's decisions as a digest ('' for none): a row is rebuilt when its digest changes."""
    if not decisions:
        return ""
    text = json.dumps([d.to_dict() for d in decisions], sort_keys=True, default=str)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def title_of(task: Task, width: int = 90) -> str:
    """The article's title from its metadata, else the start of its text."""
    title = task.meta.get("title") if isinstance(task.meta, dict) else None
    text = str(title or task.text).strip().replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def annotator_stats(tasks: Iterable[Task]) -> list[dict[str, Any]]:
    """Per annotator: tasks done and median seconds per task (Label Studio's lead_time)."""
    done: Counter[str] = Counter()
    times: dict[str, list[float]] = {}
    for task in tasks:
        for ann in task.completed:
            done[ann.annotator] += 1
            if ann.lead_time is not None:
                times.setdefault(ann.annotator, []).append(float(ann.lead_time))
    return [{"annotator": who, "tasks": n, "median_seconds": statistics.median(times[who]) if who in times else None}
            for who, n in sorted(done.items(), key=lambda kv: (-kv[1], kv[0]))]


def daily_progress(tasks: Iterable[Task]) -> list[tuple[str, int]]:
    """(day, completed annotations up to and including that day), from each annotation's created_at."""
    per_day = Counter((a.created_at or "")[:10] for t in tasks for a in t.completed if a.created_at)
    total, out = 0, []
    for day in sorted(per_day):
        total += per_day[day]
        out.append((day, total))
    return out


def task_gold(task: Task, decisions: Sequence[AnyDecision], schema: Schema, leads: Sequence[str]) -> TaskGold:
    """The gold of one task with its decisions (the same adjudication as build_gold over every task)."""
    return build_gold([task], decisions, schema, leads).tasks[0]


def _gold_values(gold: TaskGold) -> tuple[str, int, int]:
    """(status, open disagreements, overlapping span pairs reported) of one task's gold."""
    return gold.status, len(gold.disagreements), sum(p.kind == "overlapping_spans" for p in gold.problems)


def _doc_values(task: Task, decided: list[AnyDecision], schema: Schema, leads: Sequence[str]) -> tuple:
    done = task.completed
    labels = {s.label for a in done for s in a.spans} | {s.label for p in task.predictions for s in p.spans}
    return (task.task_id, task.article_id, title_of(task), json.dumps(sorted({a.annotator for a in done})),
            json.dumps(sorted(labels)), len(done), *_gold_values(task_gold(task, decided, schema, leads)),
            decisions_digest(decided), None, None)


class Summary(MetaDB):
    """One data version's summary; open with `open_summary`, made by `write_summary`."""

    def __init__(self, path: Path, db: sqlite3.Connection):
        self.path, self.db = path, db

    def columns(self) -> dict[str, list[Any]]:
        """Every row's sortable and filterable values (COLUMNS, annotators and labels as lists), in task id order."""
        rows = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM docs ORDER BY task_id").fetchall()
        out: dict[str, list[Any]] = {name: [r[i] for r in rows] for i, name in enumerate(COLUMNS)}
        out["annotators"] = [json.loads(v) for v in out["annotators"]]
        out["labels"] = [json.loads(v) for v in out["labels"]]
        return out

    def docs(self, task_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The rows of these tasks, whole (annotators and labels as lists)."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(task_ids), 500):  # under SQLite's limit on bound parameters
            part = [int(t) for t in task_ids[start:start + 500]]
            cursor = self.db.execute(f"SELECT * FROM docs WHERE task_id IN ({', '.join('?' * len(part))})", part)
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values, strict=True))
                row["annotators"], row["labels"] = json.loads(row["annotators"]), json.loads(row["labels"])
                found[row["task_id"]] = row
        return found

    def refs(self) -> list[tuple[int, str]]:
        """(task id, article id) of every row, for matching decisions to tasks."""
        return self.db.execute("SELECT task_id, article_id FROM docs ORDER BY task_id").fetchall()

    def decided(self) -> dict[int, str]:
        """Task id -> digest of the decisions its gold row was built with (tasks with decisions only)."""
        return dict(self.db.execute("SELECT task_id, decided FROM docs WHERE decided != ''"))

    def set_gold(self, gold: TaskGold, decisions: Sequence[AnyDecision]) -> tuple[str, int, int]:
        """Replace one task's gold values after its decisions changed; (status, open, overlapping)."""
        values = _gold_values(gold)
        self.db.execute("UPDATE docs SET status = ?, n_open = ?, overlapping = ?, decided = ? WHERE task_id = ?",
                        (*values, decisions_digest(decisions), gold.task_id))
        return values

    def report(self) -> dict[str, Any] | None:
        """The agreement report without its per-document rows (those are in the rows), None before it is made."""
        return self.meta("report")

    def set_report(self, report: dict[str, Any]) -> None:
        """Store the report: its per-document measures into the rows, the rest as one JSON value."""
        documents = report.get("documents", [])
        with self.transaction():
            self.db.execute("UPDATE docs SET token_alpha = NULL, exact_f1 = NULL")
            self.db.executemany("UPDATE docs SET token_alpha = ?, exact_f1 = ? WHERE task_id = ?",
                                [(d.get("token_alpha"), d.get("exact_f1"), d["task_id"]) for d in documents])
            self.set_meta(report={k: v for k, v in report.items() if k != "documents"})

    def close(self) -> None:
        self.db.close()


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, check_same_thread=False, isolation_level=None,
                           timeout=30)


def open_summary(path: Path, identity: dict[str, Any]) -> Summary | None:
    """The summary at `path` when it was made for `identity` (summary_identity), else None (missing, other
    version, unreadable)."""
    if not path.exists():
        return None
    try:
        summary = Summary(path, _connect(path))
        if summary.meta("identity") == identity:
            return summary
        summary.close()
    except sqlite3.DatabaseError:
        pass
    return None


def write_summary(path: Path, identity: dict[str, Any], tasks: Sequence[Task], decisions: Sequence[AnyDecision],
                  decisions_key: str, schema: Schema, leads: Sequence[str], quarantined: int = 0) -> Summary:
    """Build the rows and counts of these tasks with these decisions into a new file that replaces `path` whole
    (a reader of the old one keeps reading it); older summaries beside it are removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.partial")  # writers never share one
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial, isolation_level=None)
    try:
        partial.chmod(0o600)
        db.executescript(_TABLES)
        summary = Summary(partial, db)
        decided, _ = assign_decisions(tasks, decisions)
        with summary.transaction():
            db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (_doc_values(t, decided.get(t.task_id, []), schema, leads) for t in tasks))
            summary.set_meta(format=FORMAT, identity=identity, decisions=decisions_key, quarantined=quarantined,
                             tasks=len(tasks), annotators=annotator_stats(tasks), daily=daily_progress(tasks))
    finally:
        db.close()
    os.replace(partial, path)
    for old in path.parent.glob("*.sqlite"):
        if old != path:
            old.unlink(missing_ok=True)  # one summary per project folder: the newest archive's
    return Summary(path, _connect(path))


def summarise(settings: Settings, archive: Path, tasks: Sequence[Task], schema: Schema,
              quarantined: int = 0) -> Summary:
    """Write the summary of `archive` (its parsed `tasks`) with the decision log as it is now: what a pull does
    once its archive is written, so the dashboard opens the new version at once instead of parsing it."""
    decisions_path = settings.exports_dir / DECISIONS_FILE
    key = log_digest(decisions_path)  # before reading the log: a line written meanwhile is seen as a change
    return write_summary(summary_path(settings, archive), summary_identity(archive, schema, settings.leads), tasks,
                         load_decisions(decisions_path), key, schema, settings.leads, quarantined)


def summarise_archive(settings: Settings, archive: Path, schema: Schema) -> None:
    """`summarise` with the archive's tasks read here (from the local store when it holds the archive)."""
    tasks, quarantine = read_archive_tasks(settings, archive, schema)
    summarise(settings, archive, tasks, schema, len(quarantine)).close()


def report_into_summary(settings: Settings, archive: Path, schema: Schema, bootstrap: int = BOOTSTRAP) -> None:
    """Make the agreement report of the archive's tasks and store it in the archive's summary (which must exist)."""
    summary = open_summary(summary_path(settings, archive), summary_identity(archive, schema, settings.leads))
    if summary is None:
        raise FileNotFoundError(f"no summary of {archive.name} to store its agreement report in")
    try:
        summary.set_report(make_report(read_archive_tasks(settings, archive, schema)[0], schema, bootstrap))
    finally:
        summary.close()


def make_report(tasks: Sequence[Task], schema: Schema, bootstrap: int = BOOTSTRAP) -> dict[str, Any]:
    """The agreement report of a summary's tasks, for `Summary.set_report` (the slow part: minutes at 100,000)."""
    from ..agreement import agreement_report  # pandas and spaCy's tokenizer: only when a report is made

    return agreement_report(tasks, schema, bootstrap=bootstrap, seed=0)


def regold(summary: Summary, decisions: Sequence[AnyDecision], decisions_key: str,
           load_task: Callable[[int], Task | None], schema: Schema, leads: Sequence[str]
           ) -> list[tuple[int, tuple[str, int, int]]]:
    """Bring the gold rows up to the decision log `decisions` (digest `decisions_key`): only the tasks whose
    decisions changed are loaded (`load_task`) and adjudicated again. (task id, its new gold values), each changed."""
    if summary.meta("decisions") == decisions_key:
        return []
    # Matched on the article as build_gold matches them; a row carries all assign_decisions reads of a task.
    refs = [_Ref(task_id, article_id) for task_id, article_id in summary.refs()]
    decided, _ = assign_decisions(cast("list[Task]", refs), decisions)
    before = summary.decided()
    changed = []
    with summary.transaction():
        for task_id in sorted(set(decided) | set(before)):
            mine = decided.get(task_id, [])
            if decisions_digest(mine) == before.get(task_id, ""):
                continue
            task = load_task(task_id)
            if task is not None:
                changed.append((task_id, summary.set_gold(task_gold(task, mine, schema, leads), mine)))
        summary.set_meta(decisions=decisions_key)
    return changed


class _Ref(NamedTuple):
    task_id: int
    article_id: str
