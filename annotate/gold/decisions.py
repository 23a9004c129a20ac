"""The lead's adjudication log: append-only JSONL decisions that gold is recomputed from (stdlib only).

A decision is about one span (`Decision`) or one relation (`RelationDecision`, a line with "kind": "relation") of an
article (`article_id`, the task's `doc_id`), and carries the text of every span it names as it was made.
Label Studio task ids are not stable: a re-created project numbers its tasks from 1 again, so a decision is
matched to tasks by article, and applied only while the article's text at its offsets is still that text. Log
lines written before decisions carried the article id are matched by task id, under the same text check.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..errors import InputError
from ..records import RelationKey, Span, SpanKey, Task

ACTIONS = ("accept", "reject", "change")
DECISIONS_FILE = "decisions.jsonl"



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
    kind: ClassVar[str] = "span"

    @property
    def subject(self) -> SpanKey:
        """What the decision is about within its article: the span's (start, end, label)."""
        return self.span.key

    @property
    def key(self) -> tuple[str | int, SpanKey]:
        """Which span this decision is about: (article id, (start, end, label)); old lines: (task id, span)."""
        return (_where(self), self.subject)

    @property
    def carried(self) -> tuple[Span, ...]:
        """The spans whose text the decision carries (checked against the article before it is applied)."""
        return (self.span,) if self.new is None else (self.span, self.new)

    def describe(self) -> str:
        return f"{self.span.label} {self.span.start}-{self.span.end} {self.span.text!r}"

    def to_dict(self) -> dict[str, Any]:
        return _line(self, ("span", _span_dict(self.span)), ("new", None if self.new is None else _span_dict(self.new)))

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
        return _checked(decision, decision.new, "a `new` span")


def _span_dict(span: Span) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "label": span.label, "text": span.text}


def _where(decision: AnyDecision) -> str | int:
    """The article a decision is about; lines from before article ids were logged name the task."""
    return decision.article_id if decision.article_id is not None else decision.task_id


def _line(decision: AnyDecision, subject: tuple[str, Any], new: tuple[str, Any]) -> dict[str, Any]:
    """A decision as its log line: the fields both kinds share around what it is about and what it changes to."""
    d = decision
    return {"kind": d.kind, "task_id": d.task_id, "article_id": d.article_id, subject[0]: subject[1],
            "action": d.action, new[0]: new[1], "by": d.by, "at": d.at, "guideline_version": d.guideline_version,
            "note": d.note, "archive": d.archive}


def _checked(decision: D, new: object, what: str) -> D:
    """The decision read from a line, if its action is known and it has `what` exactly when it is a change."""
    if decision.action not in ACTIONS:
        raise ValueError(f"action {decision.action!r} is not one of {', '.join(ACTIONS)}")
    if (decision.action == "change") != (new is not None):
        raise ValueError(f"a change needs {what}, and only a change may have one")
    return decision


@dataclass(frozen=True)
class RelationDecision:
    """One lead decision on one relation of one task: accept it, reject it, or change its type to `new_label`."""

    task_id: int
    source: Span  # the span the relation points from, with its text
    target: Span  # the span it points to
    label: str  # the relation type decided on
    action: str
    by: str
    at: str
    guideline_version: str
    new_label: str | None = None  # the type a `change` gives it
    note: str | None = None
    article_id: str | None = None
    archive: str | None = None
    kind: ClassVar[str] = "relation"

    @property
    def subject(self) -> RelationKey:
        """What the decision is about within its article: (from span key, to span key, type)."""
        return (self.source.key, self.target.key, self.label)

    @property
    def key(self) -> tuple[str | int, RelationKey]:
        return (_where(self), self.subject)

    @property
    def carried(self) -> tuple[Span, ...]:
        return (self.source, self.target)

    def describe(self) -> str:
        return f"{self.label} relation {self.source.text!r} -> {self.target.text!r}"

    def to_dict(self) -> dict[str, Any]:
        relation = {"from": _span_dict(self.source), "to": _span_dict(self.target), "label": self.label}
        return _line(self, ("relation", relation), ("new_label", self.new_label))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RelationDecision:
        relation = data["relation"]
        decision = cls(int(data["task_id"]), Span.from_dict(relation["from"]), Span.from_dict(relation["to"]),
                       str(relation["label"]), str(data["action"]), str(data["by"]), str(data["at"]),
                       str(data["guideline_version"]), data.get("new_label"), data.get("note"),
                       data.get("article_id"), data.get("archive"))
        return _checked(decision, decision.new_label, "a `new_label`")


AnyDecision = Decision | RelationDecision
D = TypeVar("D", bound=AnyDecision)


def decision_from_dict(data: dict[str, Any]) -> AnyDecision:
    """A log line as a decision; lines without "kind" (all lines written before relation decisions) are span ones."""
    kind = data.get("kind", "span")
    if kind == "relation":
        return RelationDecision.from_dict(data)
    if kind != "span":
        raise ValueError(f"kind {kind!r} is not span or relation")
    return Decision.from_dict(data)


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string with seconds, e.g. 2025-01-31T12:00:00Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_decisions(path: Path | str) -> list[AnyDecision]:
    """Read the decision log in file order (a missing file is an empty log); errors name the line."""
    path = Path(path)
    if not path.exists():
        return []
    decisions: list[AnyDecision] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                decisions.append(decision_from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"not a valid decision ({exc}); each line needs task_id, span {{start, end, label, text}}, "
                    f"action ({'/'.join(ACTIONS)}), by, at, guideline_version (a relation decision: kind "
                    "\"relation\" and relation {from, to, label} instead of span)",
                    str(path),
                    number,
                ) from exc
    return decisions


def append_decision(path: Path | str, decision: AnyDecision) -> None:
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


def final_decisions(decisions: Iterable[D], key: Callable[[D], Hashable] = lambda d: d.key) -> list[D]:
    """The last decision per span or relation (`key`, default: article and subject) in log order: later ones
    supersede earlier."""
    latest: dict[Hashable, tuple[int, D]] = {}
    for order, decision in enumerate(decisions):
        latest[key(decision)] = (order, decision)
    return [d for _, d in sorted(latest.values(), key=lambda pair: pair[0])]


def assign_decisions(tasks: Iterable[Task], decisions: Iterable[D]) -> tuple[dict[int, list[D]], list[D]]:
    """Each task's decisions in log order, matched on the article (every task of it, if imported twice); old lines
    without an article id on the task id. Second: the decisions that match no task."""
    by_article: dict[str, list[int]] = {}
    for task in tasks:
        by_article.setdefault(task.article_id, []).append(task.task_id)
    task_ids = {tid for tids in by_article.values() for tid in tids}
    assigned: dict[int, list[D]] = {}
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


def stale_reason(decision: AnyDecision, task: Task) -> str | None:
    """Why a decision does not fit its task's text any more (the article changed, or an old line's task id now
    names another article), or None when the text at its offsets is still the text it was made on."""
    for span in decision.carried:
        there = task.text[span.start:span.end] if 0 <= span.start < span.end <= len(task.text) else None
        if there != span.text:
            found = "out of range" if there is None else repr(there)
            what = "" if isinstance(decision, Decision) else f"the {decision.label} relation's end "
            return (f"{decision.action} by {decision.by} at {decision.at} on {what}{span.label} {span.start}-{span.end} "
                    f"{span.text!r}: the article's text there is {found}; the decision is not applied")
    return None
