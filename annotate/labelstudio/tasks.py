"""Our tasks on the Label Studio server: what a task we push looks like, and the light listing of what is there.

Each task keeps the article id in `data.doc_id` (filterable in Label Studio, unlike task meta) and a hash of the
text, so a push can recognise articles already imported, by anyone, and notice an id reused for another text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .client import Connection
from .manifest import Existing
from .payloads import ID_KEY, text_sha
from .pull import iter_task_rows

LIGHT_FIELDS = "id,data,predictions_model_versions,total_annotations,cancelled_annotations,draft_exists"


@dataclass(frozen=True)
class Copy:
    """One task holding an article, with what people have done on it."""

    task_id: int
    annotations: int  # submitted, cancelled (skipped) included
    drafts: bool

    @property
    def annotated(self) -> bool:
        return self.annotations > 0 or self.drafts


@dataclass
class Listing:
    """What the project holds, per article id: the task we treat as its task, and every copy when several."""

    tasks: dict[str, Existing] = field(default_factory=dict)
    copies: dict[str, list[Copy]] = field(default_factory=dict)

    @property
    def duplicates(self) -> dict[str, list[Copy]]:
        return {doc_id: c for doc_id, c in self.copies.items() if len(c) > 1}


def _versions(task: dict[str, Any]) -> frozenset[str]:
    versions = task.get("predictions_model_versions") or ""
    if isinstance(versions, str):
        versions = [v.strip() for v in versions.split(",") if v.strip()]
    return frozenset(str(v) for v in versions)


def copy_of(task: dict[str, Any]) -> Copy:
    """What people did on a task; `draft_exists` counts every user's drafts (the `drafts` list only the token's)."""
    count = int(task.get("total_annotations") or 0) + int(task.get("cancelled_annotations") or 0)
    return Copy(int(task["id"]), count, bool(task.get("draft_exists") or task.get("drafts")))


def list_tasks(conn: Connection, project_id: int, rows: Iterable[dict[str, Any]] | None = None) -> Listing:
    """Every task of ours in the project (paginated, light fields), grouped by article id."""
    listing = Listing()
    rows = iter_task_rows(conn, project_id, page_size=500, include=LIGHT_FIELDS) if rows is None else rows
    found: dict[str, list[tuple[Copy, Existing]]] = {}
    for task in rows:
        data = task.get("data") or {}
        if not isinstance(data, dict) or ID_KEY not in data:
            continue  # a task someone imported by hand: not ours to manage
        sha = data.get("text_sha") or text_sha(str(data.get("text", "")))
        found.setdefault(str(data[ID_KEY]), []).append(
            (copy_of(task), Existing(int(task["id"]), str(sha), _versions(task))))
    for doc_id, entries in found.items():
        # The task we keep adding to: the most annotated copy, then the oldest.
        entries.sort(key=lambda e: (-e[0].annotations, not e[0].drafts, e[0].task_id))
        listing.tasks[doc_id] = entries[0][1]
        listing.copies[doc_id] = [c for c, _ in entries]
    return listing


def existing_tasks(conn: Connection, project_id: int) -> dict[str, Existing]:
    """Article id -> the task that holds it (the most annotated one when there are several)."""
    return list_tasks(conn, project_id).tasks


def tasks_since(conn: Connection, project_id: int, after_id: int) -> Iterator[dict[str, Any]]:
    """Tasks created after task `after_id` (ids only grow), light fields only."""
    query = {"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:id", "operator": "greater", "type": "Number", "value": after_id}]},
        "ordering": ["tasks:id"]}
    return iter_task_rows(conn, project_id, page_size=500, include=LIGHT_FIELDS, query=query)
