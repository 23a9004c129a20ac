"""Pull: every task with its annotations, drafts and predictions, page by page, into a raw archive.

No single long synchronous export request: tasks are listed in pages, each written to the archive as it
arrives (memory stays flat), and the archive is renamed into place only when complete. The archive has
the shape of Label Studio's JSON export (annotator emails inlined), so it and a UI export parse alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import atomic_write
from .client import Connection

PAGE_SIZE = 500  # measured at 1,000 tasks: 500 per page ~10% faster than 100, no slower than 1,000
# The archive takes every field: Label Studio applies `include` to nested annotations too, so any field list
# here would silently drop annotation fields (it did: results were lost). Faster, but not lossless.


@dataclass(frozen=True)
class PullStats:
    path: Path
    tasks: int
    annotations: int
    drafts: int


def iter_task_rows(conn: Connection, project_id: int, page_size: int = PAGE_SIZE,
                   include: str | None = None) -> Iterator[dict[str, Any]]:
    """Every task of the project as Label Studio's JSON, page by page.

    Uses the SDK's HTTP client (its auth, its base URL) but skips building pydantic objects for each task:
    at 1,000 annotated tasks that halves the time of a pull.
    """
    seen, page = 0, 1
    while True:
        params = {"project": project_id, "fields": "all", "page": page, "page_size": page_size}
        if include:
            params["include"] = include
        response = conn.call(f"list tasks (page {page})", conn.get_json, "api/tasks/", params)
        rows = response.get("tasks", [])
        yield from rows
        seen += len(rows)
        if not rows or seen >= int(response.get("total", 0)):
            return
        page += 1


def pull_raw(conn: Connection, project_id: int, dest: Path, page_size: int = PAGE_SIZE,
             progress: Callable[[int], None] | None = None,
             on_row: Callable[[dict[str, Any]], None] | None = None) -> PullStats:
    """Write the project's tasks (annotations, drafts, predictions) to `dest` atomically; `on_row` sees each."""
    users = {u.id: u.email for u in conn.call("list users", conn.sdk.users.list)}
    tasks = annotations = drafts = 0
    with atomic_write(dest) as handle:
        handle.write("[")
        for row in iter_task_rows(conn, project_id, page_size):
            for ann in row.get("annotations", []):
                ann["completed_by"] = _user(ann.get("completed_by"), users)
            for draft in row.get("drafts", []):
                draft["user"] = _user(draft.get("user"), users)
            handle.write(("\n" if tasks == 0 else ",\n") + json.dumps(row, ensure_ascii=False, sort_keys=True))
            tasks += 1
            annotations += len(row.get("annotations", []))
            drafts += len(row.get("drafts", []))
            if on_row:
                on_row(row)
            if progress:
                progress(1)
        handle.write("\n]\n")
    return PullStats(dest, tasks, annotations, drafts)


def _user(value: object, users: dict[int, str]) -> object:
    """Inline the annotator's email, as Label Studio's full export serialisation does."""
    if isinstance(value, int):
        return {"id": value, "email": users.get(value, f"user-{value}")}
    return value
