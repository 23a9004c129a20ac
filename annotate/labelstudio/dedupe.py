"""Articles held by more than one task: reported by every push, removed on request, never an annotated task.

A copy counts as worked on when it has annotations (submitted or skipped) or anyone's draft; such a copy is never
deleted, and each task is read again just before it is deleted, so work that arrived meanwhile is kept.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..errors import LabelStudioError
from .client import Connection
from .payloads import ID_KEY
from .tasks import Copy, Listing, copy_of, tasks_since

log = logging.getLogger(__name__)


@dataclass
class Dedupe:
    """What a push found and did about duplicates."""

    duplicates: dict[str, tuple[int, ...]] = field(default_factory=dict)  # article id -> its tasks, when several
    removed: list[int] = field(default_factory=list)  # duplicate tasks deleted
    kept_annotated: dict[str, tuple[int, ...]] = field(default_factory=dict)  # duplicates all worked on: kept


def handle_duplicates(conn: Connection, project_id: int, listing: Listing, report: Dedupe, dedupe: bool) -> None:
    """Report articles held by several tasks; with `dedupe`, delete the copies without annotations."""
    for doc_id, copies in sorted(listing.duplicates.items()):
        ids = tuple(sorted(c.task_id for c in copies))
        if not dedupe:
            report.duplicates[doc_id] = ids
            continue
        keep = listing.tasks[doc_id].task_id
        remaining = [keep]
        for copy in copies:
            if copy.task_id == keep:
                continue
            if delete_if_unannotated(conn, copy.task_id):
                report.removed.append(copy.task_id)
            else:
                remaining.append(copy.task_id)
        if len(remaining) > 1:
            report.kept_annotated[doc_id] = tuple(sorted(remaining))
            report.duplicates[doc_id] = tuple(sorted(remaining))


def delete_if_unannotated(conn: Connection, task_id: int) -> bool:
    """Delete one task unless it has annotations or drafts now (read just before); True when deleted."""
    task = conn.call(f"read task {task_id}", conn.get_json, f"api/tasks/{task_id}/")
    if copy_of(task).annotated or task.get("annotations"):
        return False
    try:
        conn.call(f"delete duplicate task {task_id}", conn.request_json, "DELETE", f"api/tasks/{task_id}/")
    except LabelStudioError as exc:
        if getattr(exc.__cause__, "status_code", None) != 404:  # already gone: what we wanted
            raise
    return True


def remove_retry_copies(conn: Connection, project_id: int, after_id: int, ours: set[str],
                        report: Dedupe) -> dict[str, int]:
    """After a lost answer: if a late commit still doubled an article this push created, delete the extra copy.

    Returns article id -> the task kept for it."""
    seen: dict[str, list[Copy]] = {}
    kept: dict[str, int] = {}
    for task in tasks_since(conn, project_id, after_id):
        doc_id = str((task.get("data") or {}).get(ID_KEY))
        if doc_id in ours:
            seen.setdefault(doc_id, []).append(copy_of(task))
    for doc_id, copies in seen.items():
        keep = min(copies, key=lambda c: (not c.annotated, c.task_id))
        for copy in copies:
            if copy is not keep and delete_if_unannotated(conn, copy.task_id):
                log.warning("removed task %d: a second copy of article %r left by a lost answer", copy.task_id, doc_id)
                report.removed.append(copy.task_id)
        kept[doc_id] = keep.task_id
    return kept
