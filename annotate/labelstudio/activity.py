"""What each annotator has done in a project: submitted, skipped and in-progress tasks, median lead_time.

Read from the task list with only the fields needed (Label Studio 1.23.2 applies `include` to the nested
annotations too, so naming their fields there keeps the rows small: no text, no predictions). The task list
gives `completed_by` as a user id and shows only the token owner's drafts; `draft_exists` is true for anyone's,
and `/api/tasks/{id}/drafts` lists them all, naming the user by email (measured on 1.23.2).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .client import Connection
from .pull import iter_task_rows
from .users import user_emails

INCLUDE = "id,annotations,draft_exists,completed_by,was_cancelled,lead_time"


@dataclass(frozen=True)
class Activity:
    """One annotator's work in one project; tasks are counted once each, by what the annotator last did there."""

    email: str
    user_id: int | None
    submitted: int = 0  # tasks with a submitted (not skipped) annotation of theirs
    skipped: int = 0  # tasks they skipped and never submitted
    in_progress: int = 0  # tasks with their draft and no annotation of theirs
    median_seconds: float | None = None  # median lead_time of their submitted annotations


@dataclass
class _Tally:
    submitted: set[int] = field(default_factory=set)
    skipped: set[int] = field(default_factory=set)
    drafted: set[int] = field(default_factory=set)
    seconds: list[float] = field(default_factory=list)

    def activity(self, email: str, user_id: int | None) -> Activity:
        skipped = self.skipped - self.submitted
        return Activity(email, user_id, len(self.submitted), len(skipped), len(self.drafted - self.submitted - skipped),
                        statistics.median(self.seconds) if self.seconds else None)


def annotator_activity(conn: Connection, project_id: int | None) -> list[Activity]:
    """Every member of the organisation (and any other author found), most submitted first, then by email."""
    emails = user_emails(conn)
    tallies: dict[str, _Tally] = defaultdict(_Tally)  # by email in lower case (Label Studio stores it so)
    if project_id is not None:
        for row in iter_task_rows(conn, project_id, include=INCLUDE):
            _count(conn, row, emails, tallies)
    rows = [tallies[email.lower()].activity(email, uid) for uid, email in emails.items()]
    members = {email.lower() for email in emails.values()}
    rows += [tally.activity(email, None) for email, tally in tallies.items() if email not in members]
    return sorted(rows, key=lambda a: (-a.submitted, a.email))


def _count(conn: Connection, row: dict[str, Any], emails: dict[int, str], tallies: dict[str, _Tally]) -> None:
    task_id = int(row["id"])
    for ann in row.get("annotations") or []:
        who = ann.get("completed_by")
        if isinstance(who, dict):
            who = who.get("id")
        if not isinstance(who, int):
            continue
        tally = tallies[emails.get(who, f"user-{who}").lower()]
        if ann.get("was_cancelled"):
            tally.skipped.add(task_id)
        else:
            tally.submitted.add(task_id)
            if isinstance(ann.get("lead_time"), int | float):
                tally.seconds.append(float(ann["lead_time"]))
    if row.get("draft_exists"):
        drafts = conn.call(f"list drafts of task {task_id}", conn.get_json, f"api/tasks/{task_id}/drafts")
        for draft in drafts if isinstance(drafts, list) else []:
            if isinstance(draft, dict) and isinstance(draft.get("user"), str):
                tallies[draft["user"].lower()].drafted.add(task_id)
