"""The lead's adjudication log: append-only JSONL decisions that gold is recomputed from (stdlib only).

A decision is about an article (`article_id`, the task's `doc_id`) and carries the span text it was made on.
Label Studio task ids are not stable: a re-created project numbers its tasks from 1 again, so a decision is
matched to tasks by article, and applied only while the article's text at its offsets is still that text. Log
lines written before decisions carried the article id are matched by task id, under the same text check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import InputError, OffsetError
from .records import Span, Task
from .schema import Schema

ACTIONS = ("accept", "reject", "change")
DECISIONS_FILE = "decisions.jsonl"

SpanKey = tuple[int, int, str]


@dataclass(frozen=True)
class Decision:
    """One lead decision on one span of one task; `new` is the replacement span of a `change`."""

    task_id: int
    span: Span
    action: str
    by: str
    at: str
    guideline_version: str
    new: Span | None = None
    note: str | None = None
    article_id: str | None = None
    archive: str | None = None  # the pulled archive (file name) the lead looked at; retention keeps it

    @property
    def key(self) -> tuple[str | int, SpanKey]:
        """Which span this decision is about: (article id, (start, end, label)); old lines: (task id, span)."""
        return (self.article_id if self.article_id is not None else self.task_id, self.span.key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "article_id": self.article_id,
            "span": _span_dict(self.span),
            "action": self.action,
            "new": None if self.new is None else _span_dict(self.new),
            "by": self.by,
            "at": self.at,
            "guideline_version": self.guideline_version,
            "note": self.note,
            "archive": self.archive,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        decision = cls(
            task_id=int(data["task_id"]),
            span=Span.from_dict(data["span"]),
            action=str(data["action"]),
            by=str(data["by"]),
            at=str(data["at"]),
            guideline_version=str(data["guideline_version"]),
            new=None if data.get("new") is None else Span.from_dict(data["new"]),
            note=data.get("note"),
            article_id=data.get("article_id"),
            archive=data.get("archive"),
        )
        if decision.action not in ACTIONS:
            raise ValueError(f"action {decision.action!r} is not one of {', '.join(ACTIONS)}")
        if (decision.action == "change") != (decision.new is not None):
            raise ValueError("a change needs a `new` span, and only a change may have one")
        return decision


def _span_dict(span: Span) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "label": span.label, "text": span.text}


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string with seconds, e.g. 2025-01-31T12:00:00Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_decisions(path: Path | str) -> list[Decision]:
    """Read the decision log in file order (a missing file is an empty log); errors name the line."""
    path = Path(path)
    if not path.exists():
        return []
    decisions = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                decisions.append(Decision.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"not a valid decision ({exc}); each line needs task_id, span {{start, end, label, text}}, "
                    f"action ({'/'.join(ACTIONS)}), by, at, guideline_version",
                    str(path),
                    number,
                ) from exc
    return decisions


def append_decision(path: Path | str, decision: Decision) -> None:
    """Append one decision as a JSON line and fsync it; earlier lines are never rewritten."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(decision.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        # A crash mid-write can leave a partial last line; appending would glue two decisions together.
        if size and os.pread(fd, 1, size - 1) != b"\n":
            raise InputError("the last line is incomplete (an interrupted write?); repair it before adding more", str(path))
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def candidate_keys(task: Task) -> set[SpanKey]:
    """Every span key some submitted annotation of the task contains."""
    return {span.key for ann in task.completed for span in ann.spans}


def validate_decision(decision: Decision, task: Task, schema: Schema, leads: Sequence[str] = ()) -> None:
    """Raise an AnnotateError unless the decision fits the task text, the schema and the lead list."""
    where = f"task {task.task_id}"
    if decision.task_id != task.task_id:
        raise InputError(f"decision is for task {decision.task_id} but was checked against {where}")
    if leads and decision.by not in leads:
        raise InputError(f"{decision.by!r} is not a lead; leads: {', '.join(leads)}")
    for span in (decision.span, decision.new):
        if span is None:
            continue
        schema.require_label(span.label, where)
        span.check(task.text, where)
    if decision.action in ("reject", "change") and decision.span.key not in candidate_keys(task):
        known = ", ".join(f"{s}-{e} {lab}" for s, e, lab in sorted(candidate_keys(task))) or "none"
        raise OffsetError(
            f"{where}: no annotation contains span {decision.span.start}-{decision.span.end} {decision.span.label}; "
            f"spans on this task: {known}"
        )


def make_decision(
    task: Task,
    start: int,
    end: int,
    label: str,
    action: str,
    by: str,
    guideline_version: str,
    new: tuple[int, int, str] | None = None,
    note: str | None = None,
    at: str | None = None,
    archive: str | None = None,
) -> Decision:
    """Build a Decision whose span texts are cut from the task text (validate it before appending)."""
    if action not in ACTIONS:
        raise InputError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    span = _cut(task, start, end, label)
    new_span = None if new is None else _cut(task, *new)
    return Decision(task.task_id, span, action, by, at or utc_now(), guideline_version, new_span, note, task.article_id,
                    archive)


def _cut(task: Task, start: int, end: int, label: str) -> Span:
    if not 0 <= start < end <= len(task.text):
        raise OffsetError(
            f"task {task.task_id}: span [{start}:{end}] is out of range; valid offsets are 0..{len(task.text)} with start < end"
        )
    return Span(start, end, label, task.text[start:end])


def final_decisions(decisions: Iterable[Decision],
                    key: Callable[[Decision], Hashable] = lambda d: d.key) -> list[Decision]:
    """The last decision per span (`key`, default: article and span) in log order: later ones supersede earlier."""
    latest: dict[Hashable, tuple[int, Decision]] = {}
    for order, decision in enumerate(decisions):
        latest[key(decision)] = (order, decision)
    return [d for _, d in sorted(latest.values(), key=lambda pair: pair[0])]



def assign_decisions(tasks: Iterable[Task], decisions: Iterable[Decision]) -> tuple[dict[int, list[Decision]],
                                                                                   list[Decision]]:
    """Each task's decisions in log order, matched on the article (every task of it, if imported twice); old lines
    without an article id on the task id. Second: the decisions that match no task."""
    by_article: dict[str, list[int]] = {}
    for task in tasks:
        by_article.setdefault(task.article_id, []).append(task.task_id)
    task_ids = {tid for tids in by_article.values() for tid in tids}
    assigned: dict[int, list[Decision]] = {}
    unmatched = []
    for decision in decisions:
        if decision.article_id is not None:
            targets = by_article.get(decision.article_id, [])
        else:
            targets = [decision.task_id] if decision.task_id in task_ids else []
        for task_id in targets:
            assigned.setdefault(task_id, []).append(decision)
        if not targets:
            unmatched.append(decision)
    return assigned, unmatched


def stale_reason(decision: Decision, task: Task) -> str | None:
    """Why a decision does not fit its task's text any more (the article changed, or an old line's task id now
    names another article), or None when the text at its offsets is still the text it was made on."""
    for span in (decision.span, decision.new):
        if span is None:
            continue
        there = task.text[span.start:span.end] if 0 <= span.start < span.end <= len(task.text) else None
        if there != span.text:
            found = "out of range" if there is None else repr(there)
            return (f"{decision.action} by {decision.by} at {decision.at} on {span.label} {span.start}-{span.end} "
                    f"{span.text!r}: the article's text there is {found}; the decision is not applied")
    return None
