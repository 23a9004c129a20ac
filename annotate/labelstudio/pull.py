"""Pull: every task with its annotations, drafts and predictions into a raw archive, as the project was when the
pull ended.

A full pull reads one export snapshot (snapshot.py), streamed and parsed task by task; when Label Studio cannot
make one, or when asked, it lists the tasks page by page (ordered by id) instead. Rows go to a spool file as they
arrive (memory stays flat: only offsets are kept) and the archive is written from it in id order, then renamed into
place only when complete. The archive has the shape of Label Studio's JSON export (annotator emails inlined), so it
and a UI export parse alike; the task list's rows and the snapshot's are normalised to the same bytes.

Neither way is a snapshot of the moment the pull ends: the export is made before its rows are read, and pages shift
when tasks are deleted or added between them. So the pull reads the project's task count and newest update time
before and after; when they moved, it lists the ids (and update times) the project holds now, fetches every task
it missed or that changed after it was read, leaves out the tasks deleted meanwhile, and reports all three.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import atomic_write
from .client import Connection
from .snapshot import SnapshotFailed, export_snapshot
from .store import row_json
from .users import user_emails

log = logging.getLogger(__name__)
PAGE_SIZE = 500  # measured at 1,000 tasks: 500 per page ~10% faster than 100, no slower than 1,000
ID_PAGE_SIZE = 5000  # ids only: cheap rows
BY_ID = {"ordering": ["tasks:id"]}
# The archive takes every field: Label Studio applies `include` to nested annotations too, so any field list
# here would silently drop annotation fields (it did: results were lost). Faster, but not lossless.


@dataclass(frozen=True)
class PullStats:
    path: Path
    tasks: int
    annotations: int
    drafts: int
    missed: tuple[int, ...] = ()  # tasks the pages skipped (others were deleted meanwhile), fetched at the end
    changed: tuple[int, ...] = ()  # tasks changed after their page was read, fetched again
    deleted: tuple[int, ...] = ()  # tasks deleted during the pull, left out of the archive
    unchanged_since: Path | None = None  # the archive was identical to this earlier one: no new file
    fetched: tuple[int, ...] | None = None  # incremental pull: the tasks fetched (None: a full pull)
    removed: tuple[int, ...] = ()  # incremental pull: tasks deleted since the last pull, dropped from the store
    full_reason: str = ""  # full pull: why not an incremental one

    def how(self) -> str:
        """How the pull was made: incrementally (what it fetched and dropped) or in full (and why)."""
        if self.fetched is None:
            return f"full pull ({self.full_reason})" if self.full_reason else "full pull"
        return (f"incremental pull: {len(self.fetched)} changed task(s) fetched, {len(self.removed)} deleted task(s) "
                "dropped")

    def changes(self) -> list[str]:
        """What happened in the project while it was being pulled, one line each."""
        out = []
        for ids, what in ((self.missed, "added or shifted between pages, fetched at the end"),
                          (self.changed, "changed while the pull ran, fetched again"),
                          (self.deleted, "deleted while the pull ran, left out")):
            if ids:
                shown = ", ".join(map(str, ids[:10])) + (", ..." if len(ids) > 10 else "")
                out.append(f"{len(ids)} task(s) {what}: {shown}")
        return out


@dataclass
class _Seen:
    updated: dict[int, Any] = field(default_factory=dict)  # task id -> updated_at when read
    annotations: dict[int, int] = field(default_factory=dict)
    drafts: dict[int, int] = field(default_factory=dict)


def iter_task_rows(conn: Connection, project_id: int, page_size: int = PAGE_SIZE, include: str | None = None,
                   query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every task of the project as Label Studio's JSON, page by page, in id order, each id once.

    Uses the SDK's HTTP client (its auth, its base URL) but skips building pydantic objects for each task:
    at 1,000 annotated tasks that halves the time of a pull.
    """
    seen: set[int] = set()
    page = 1
    while True:
        params: dict[str, Any] = {"project": project_id, "fields": "all", "page": page, "page_size": page_size,
                                  "query": json.dumps(query or BY_ID)}
        if include:
            params["include"] = include
        response = conn.call(f"list tasks (page {page})", conn.get_json, "api/tasks/", params)
        rows = response.get("tasks", [])
        for row in rows:
            if int(row["id"]) not in seen:  # a task added meanwhile can push one already read onto this page
                seen.add(int(row["id"]))
                yield row
        if len(rows) < page_size or page * page_size >= int(response.get("total", 0)):
            return
        page += 1


def change_marker(conn: Connection, project_id: int) -> tuple[int, Any]:
    """(task count, newest update time) in one small request: equal before and after a pull means no task was
    added, deleted or changed meanwhile (an annotation, a deletion or an import all move one of the two)."""
    response = conn.call("read the newest change", conn.get_json, "api/tasks/",
                         {"project": project_id, "page": 1, "page_size": 1, "include": "id,updated_at",
                          "query": json.dumps({"ordering": ["-tasks:updated_at"]})})
    rows = response.get("tasks") or []
    return int(response.get("total", 0)), rows[0].get("updated_at") if rows else None


def project_ids(conn: Connection, project_id: int) -> dict[int, Any]:
    """Task id -> updated_at of every task the project holds now (ids only: cheap)."""
    rows = iter_task_rows(conn, project_id, page_size=ID_PAGE_SIZE, include="id,updated_at")
    return {int(r["id"]): r.get("updated_at") for r in rows}


# Derived or relative-time fields: "3 minutes" ago changes every minute, and the *_results strings repeat the
# annotations and predictions (and come back empty from the single-task endpoint). Leaving them out loses nothing
# and lets two pulls of an unchanged project give the same bytes.
VOLATILE_TASK = ("annotations_results", "predictions_results")
VOLATILE_ITEM = ("created_ago",)
# Fields only one of the two ways of reading tasks gives (compared on 1.23.2, tests/test_pull_archive.py keeps it
# true): the Data Manager's task list adds aggregates and upload details, the export snapshot adds a task's
# allow_skip and an annotation's copy of its prediction, result count and unique id. All derived or repeated
# (`parent_prediction` names the prediction); the archive keeps neither set, so both ways give the same bytes.
ONE_WAY_TASK = ("annotations_ids", "annotators", "avg_lead_time", "completed_at", "draft_exists", "file_upload",
                "is_labeled", "overlap", "predictions_model_versions", "predictions_score", "storage_filename",
                "allow_skip")
ONE_WAY_ANNOTATION = ("created_username", "prediction", "result_count", "unique_id")


def _user(value: object, users: dict[int, str]) -> object:
    """The annotator as {id, email}, as Label Studio's full export serialisation inlines it."""
    if isinstance(value, list):  # the task list's task updated_by: [{"user_id": N}] or []
        value = next((v.get("user_id") for v in value if isinstance(v, dict)), None)
    if isinstance(value, dict) and isinstance(value.get("id"), int):  # the single-task endpoint's full user
        value = value["id"]
    if isinstance(value, str):  # the drafts endpoint names the user by email
        value = next((uid for uid, email in users.items() if email == value), value)
    if isinstance(value, int):
        return {"id": value, "email": users.get(value, f"user-{value}")}
    return value


def normalise_row(row: dict[str, Any], users: dict[int, str]) -> dict[str, Any]:
    """One task as the archive keeps it, from the task list or the export snapshot alike: annotator emails inlined,
    volatile, derived and one-way fields left out."""
    for key in (*VOLATILE_TASK, *ONE_WAY_TASK):
        row.pop(key, None)
    if "updated_by" in row:
        row["updated_by"] = _user(row["updated_by"], users)
    for kind, who in (("annotations", "completed_by"), ("drafts", "user"), ("predictions", None)):
        for item in row.get(kind) or []:
            if isinstance(item, dict):
                for key in (*VOLATILE_ITEM, *(ONE_WAY_ANNOTATION if kind == "annotations" else ())):
                    item.pop(key, None)
                if who:
                    item[who] = _user(item.get(who), users)
                if kind == "annotations" and item.get("updated_by") is not None:  # who last saved it (gold.py)
                    item["updated_by"] = _user(item["updated_by"], users)
    return row


SNAPSHOT, PAGES = "snapshot", "pages"


def pull_raw(conn: Connection, project_id: int, dest: Path, page_size: int = PAGE_SIZE,
             progress: Callable[[int], None] | None = None,
             on_row: Callable[[dict[str, Any]], None] | None = None,
             previous: Path | None = None, method: str = SNAPSHOT) -> PullStats:
    """Write the project's tasks to `dest` atomically, in id order, as a consistent snapshot; `on_row` sees each
    row written.

    `method`: one export snapshot (snapshot.py; page by page when Label Studio cannot make it), or the task list
    page by page. Either way the project's task count and newest update time are read before and after: when they
    moved, the tasks added or changed meanwhile are read again and the deleted ones left out. A task read again is
    passed to `on_row` again (keep the last row per id); `PullStats.deleted` lists the ids whose rows must be
    dropped. When the archive comes out byte-identical to `previous`, no new file is written.
    """
    users = user_emails(conn)
    seen = _Seen()
    marker = change_marker(conn, project_id)
    staging = dest.with_name(f".{dest.name}.pulling.tmp")
    with _Spool(dest.with_name(f".{dest.name}.spool.tmp")) as spool:

        def write(row: dict[str, Any]) -> None:
            task_id = int(row["id"])
            spool.add(task_id, row_json(row))
            seen.updated[task_id] = row.get("updated_at")
            seen.annotations[task_id] = len(row.get("annotations", []))
            seen.drafts[task_id] = len(row.get("drafts", []))
            if on_row:
                on_row(row)
            if progress:
                progress(1)

        _read_all(conn, project_id, method, page_size, lambda row: write(normalise_row(row, users)))
        if change_marker(conn, project_id) == marker and marker[0] == len(seen.updated):
            now = dict(seen.updated)  # nothing moved while the tasks were read: skip listing every id (~2 ms a task)
        else:
            now = project_ids(conn, project_id)
        missed = tuple(sorted(set(now) - set(seen.updated)))
        changed = tuple(sorted(t for t in set(now) & set(seen.updated) if now[t] != seen.updated[t]))
        deleted = tuple(sorted(set(seen.updated) - set(now)))
        for task_id in (*missed, *changed):
            row = conn.call(f"read task {task_id}", conn.get_json, f"api/tasks/{task_id}/")
            write(normalise_row(_with_all_drafts(conn, row), users))
        with atomic_write(staging) as handle:
            spool.write_archive(handle, set(deleted))
    for task_id in deleted:
        seen.annotations.pop(task_id, None)
        seen.drafts.pop(task_id, None)
    kept = len(now)
    stats = dict(tasks=kept, annotations=sum(seen.annotations.values()), drafts=sum(seen.drafts.values()),
                 missed=missed, changed=changed, deleted=deleted)
    if previous is not None and _same_bytes(staging, previous):
        staging.unlink()
        return PullStats(previous, unchanged_since=previous, **stats)  # type: ignore[arg-type]
    staging.replace(dest)
    return PullStats(dest, **stats)  # type: ignore[arg-type]


def _read_all(conn: Connection, project_id: int, method: str, page_size: int,
              write: Callable[[dict[str, Any]], None]) -> None:
    """Every task once, to `write`: from one export snapshot, or page by page (asked for, or when the snapshot
    fails before any row was read)."""
    if method == SNAPSHOT:
        try:
            with export_snapshot(conn, project_id) as rows:
                for row in rows:
                    write(row)
            return
        except SnapshotFailed as exc:
            log.warning("%s; reading the tasks page by page instead", exc)
    elif method != PAGES:
        raise ValueError(f"unknown pull method {method!r}: expected {SNAPSHOT!r} or {PAGES!r}")
    for row in iter_task_rows(conn, project_id, page_size):
        write(_with_all_drafts(conn, row))


def _with_all_drafts(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """The task with every user's drafts: the task endpoints list only the requesting user's own drafts, but
    `draft_exists` counts anyone's, and /api/tasks/{id}/drafts lists them all (measured on 1.23.2)."""
    if row.get("draft_exists"):
        drafts = conn.call(f"list drafts of task {row['id']}", conn.get_json, f"api/tasks/{row['id']}/drafts")
        row["drafts"] = sorted(drafts if isinstance(drafts, list) else [], key=lambda d: d.get("id") or 0)
    return row


class _Spool:
    """Rows as they arrive, in any order and perhaps twice, kept on disk with only their offsets in memory; then
    written out as the archive: the last row of each id, in id order."""

    def __init__(self, path: Path):
        self.path = path
        self.where: dict[int, tuple[int, int]] = {}  # task id -> (offset, length) of its last row

    def __enter__(self) -> _Spool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = self.path.open("w+b")
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)

    def add(self, task_id: int, text: str) -> None:
        data = text.encode("utf-8")
        self.where[task_id] = (self.file.tell(), len(data))
        self.file.write(data)

    def write_archive(self, handle: Any, dropped: set[int]) -> None:
        """The archive's text (a JSON list, one task a line) to `handle`, without the `dropped` ids."""
        self.file.flush()
        handle.write("[")
        first = True
        for task_id in sorted(self.where):
            if task_id in dropped:
                continue
            offset, length = self.where[task_id]
            self.file.seek(offset)
            handle.write(("\n" if first else ",\n") + self.file.read(length).decode("utf-8"))
            first = False
        handle.write("\n]\n")


def _same_bytes(a: Path, b: Path) -> bool:
    if not b.exists() or a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            chunk = fa.read(1 << 20)
            if chunk != fb.read(1 << 20):
                return False
            if not chunk:
                return True
