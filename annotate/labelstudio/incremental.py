"""Incremental pull: merge into the local store only the tasks that changed since the last pull, then write the raw
archive from the store.

`sync_store` decides. A full pull (pull_raw, every row also stored) when there is no store yet, when it belongs to
another project or server, when it does not match the newest archive, when `full` is asked for, or when change
detection cannot be trusted (changes.py: predictions imported in bulk, counts that do not add up after the merge);
the reason is kept in PullStats.full_reason and said by `annotate pull`. Otherwise: the tasks whose updated_at moved
are fetched by id, deletions are found from the task count, everything is merged in one transaction, and the merged
store must add up to the project's own counters; if it does not, the merge is rolled back and a full pull is made.
Drafts do not move updated_at, so an incremental pull keeps drafts as the last full pull found them (gold never
reads drafts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..config import redact_url
from ..files import atomic_write
from ..schema import Schema
from .changes import IdSource, Mark, changed_since, project_mark, read_project, totals_disagree
from .client import Connection
from .pull import PullStats, _same_bytes, _with_all_drafts, normalise_row, pull_raw
from .store import FORMAT, TaskStore, parser_key
from .users import user_emails

log = logging.getLogger(__name__)
FETCH_PAGE = 200  # task ids per request when fetching changed tasks (selectedItems in the query string)
RETRIES = 2  # merges redone when the project moved while one was made, before falling back to a full pull


class _FullPull(Exception):
    """Raised inside the merge's transaction (so it rolls back) when only a full pull can be trusted; `mark` is
    the project's state the merge started from (None: retrying cannot help)."""

    def __init__(self, reason: str, mark: Mark | None = None):
        super().__init__(reason)
        self.mark = mark


def project_identity(conn: Connection, project_id: int, project: dict[str, Any] | None = None) -> dict[str, Any]:
    """What tells a store it belongs to this project of this server: its id, creation time and the server URL
    (from `project`, a read_project, when given)."""
    project = project if project is not None else read_project(conn, project_id)
    return {"id": project_id, "created_at": str(project.get("created_at")), "url": redact_url(conn.url)}


def fetch_rows(conn: Connection, project_id: int, ids: Iterable[int], users: dict[int, str],
               page: int = FETCH_PAGE) -> Iterator[dict[str, Any]]:
    """The tasks with these ids as the archive keeps them (normalised, every user's drafts), in id order; a task
    deleted since it was listed is simply not among them."""
    wanted = sorted(ids)
    for start in range(0, len(wanted), page):
        chunk = wanted[start:start + page]
        query = {"selectedItems": {"all": False, "included": chunk}, "ordering": ["tasks:id"]}
        params = {"project": project_id, "fields": "all", "page": 1, "page_size": len(chunk),
                  "query": json.dumps(query)}
        rows = conn.call(f"read {len(chunk)} changed task(s)", conn.get_json, "api/tasks/", params).get("tasks", [])
        for row in rows:
            yield normalise_row(_with_all_drafts(conn, row), users)


def stale_reason(store: TaskStore, identity: dict[str, Any], previous: Path | None, schema: Schema) -> str:
    """Why the store cannot be merged into ('' when it can)."""
    if store.note:
        return store.note
    if store.meta("format") != FORMAT:
        return "no local store yet" if store.meta("format") is None else "the local store has an older layout"
    if store.meta("project") != identity:
        return "the local store belongs to another project or server"
    if previous is None or store.meta("archive") != previous.name:
        return "the local store does not match the newest archive in exports/raw/"
    if not store.meta("mark"):
        return "the local store has no mark of the last pull"
    return ""


def fill_store(conn: Connection, project_id: int, store: TaskStore, dest: Path, schema: Schema,
               previous: Path | None, identity: dict[str, Any], reason: str,
               progress: Callable[[int], None] | None = None) -> PullStats:
    """A full pull into `dest` that also refills the store (committed only once the archive is in place)."""
    _, mark = project_mark(conn, project_id)  # before the pages: what changes during the pull is fetched next time
    def keep(row: dict[str, Any]) -> None:
        store.upsert([row], schema)

    with store.transaction():
        store.clear()
        stats = pull_raw(conn, project_id, dest, progress=progress, previous=previous, on_row=keep)
        store.delete(stats.deleted)
        store.set_meta(format=FORMAT, project=identity, mark=asdict(mark), archive=stats.path.name,
                       parser=parser_key(schema))
    return replace(stats, full_reason=reason)


def merge_changes(conn: Connection, project_id: int, store: TaskStore, dest: Path, schema: Schema,
                  previous: Path, present: IdSource | None = None, project: dict[str, Any] | None = None
                  ) -> PullStats:
    """Fetch and merge what changed since the store's mark, write the archive from the store (none when nothing
    changed); raises _FullPull with the reason when the result cannot be trusted."""
    mark = Mark(**store.meta("mark"))
    changes = changed_since(conn, project_id, mark, store.known(), present=present, project=project)
    if changes.needs_full_pull or changes.mark is None:
        raise _FullPull(changes.reason)
    with store.transaction():
        fetched = store.upsert(fetch_rows(conn, project_id, changes.changed, user_emails(conn)), schema)
        gone = (set(changes.changed) - set(fetched)) | set(changes.deleted)  # deleted after being listed, or before
        store.delete(gone)
        totals = store.totals()
        wrong = totals_disagree(changes.mark, totals)
        if changes.ids is not None and totals["tasks"] != len(changes.ids - gone):
            wrong = wrong or f"the merged store holds {totals['tasks']} tasks, Label Studio {len(changes.ids)}"
        if wrong:
            raise _FullPull(wrong, changes.mark)
        stats = dict(tasks=totals["tasks"], annotations=totals["annotations"] + totals["skipped"],
                     drafts=totals["drafts"], removed=tuple(sorted(gone)), fetched=tuple(fetched))
        staging = dest.with_name(f".{dest.name}.pulling.tmp")
        if fetched or gone:
            with atomic_write(staging) as handle:
                store.write_archive(handle)
        if not (fetched or gone) or _same_bytes(staging, previous):  # (a change undone since: the same bytes)
            staging.unlink(missing_ok=True)
            store.set_meta(mark=asdict(changes.mark))
            return PullStats(previous, unchanged_since=previous, **stats)  # type: ignore[arg-type]
        staging.replace(dest)
        store.set_meta(mark=asdict(changes.mark), archive=dest.name)
    return PullStats(dest, **stats)  # type: ignore[arg-type]


def sync_store(conn: Connection, project_id: int, store: TaskStore, dest: Path, schema: Schema,
               previous: Path | None, full: bool = False,
               progress: Callable[[int], None] | None = None, present: IdSource | None = None,
               project: dict[str, Any] | None = None) -> PullStats:
    """Bring the store and the archive up to date: incrementally when it can be trusted, else by a full pull.
    `present`: where the project's task ids can be read without listing them (changes.changed_since); `project`:
    a read_project made just before (its identity and the first merge's counters come from it)."""
    project = project if project is not None else read_project(conn, project_id)
    identity = project_identity(conn, project_id, project)
    reason = "a full pull was asked for" if full else stale_reason(store, identity, previous, schema)
    if not reason:
        assert previous is not None  # stale_reason checked it
        store.reparse(schema)
        for attempt in range(RETRIES + 1):
            try:
                return merge_changes(conn, project_id, store, dest, schema, previous, present,
                                     project if attempt == 0 else None)  # a retry reads the project again
            except _FullPull as exc:
                reason = str(exc)
                if attempt == RETRIES or exc.mark is None or project_mark(conn, project_id)[1] == exc.mark:
                    break
                log.info("pull: the project changed during the merge (%s): merging again", reason)
    log.info("pull: full pull (%s)", reason)
    return fill_store(conn, project_id, store, dest, schema, previous, identity, reason, progress)
