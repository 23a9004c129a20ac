"""A lead's decision before it goes into the log: cut from the task text, checked against the task's annotations,
the schema and the lead list (stdlib only)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import InputError, OffsetError, SchemaError
from ..records import RelationKey, Span, SpanKey, Task
from ..schema import Schema
from .decisions import ACTIONS, Decision, RelationDecision, utc_now
from .relations import relation_keys


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


def parse_span_id(text: str, where: str = "") -> SpanKey:
    """(start, end, label) from a span id such as "20-28-OUTCOME" (the inverse of records.span_id)."""
    start, _, rest = text.partition("-")
    end, _, label = rest.partition("-")
    try:
        return int(start), int(end), _nonempty(label)
    except ValueError as exc:
        prefix = f"{where}: " if where else ""
        raise InputError(f"{prefix}{text!r} is not a span id; write START-END-LABEL, e.g. 14-20-LOCATION") from exc


def _nonempty(label: str) -> str:
    if not label:
        raise ValueError("no label")
    return label


def relation_candidates(task: Task) -> set[RelationKey]:
    """Every relation some submitted annotation of the task draws."""
    return {key for ann in task.completed for key in relation_keys(ann)}


def make_relation_decision(task: Task, source: SpanKey, target: SpanKey, label: str, action: str, by: str,
                           guideline_version: str, new_label: str | None = None, note: str | None = None,
                           at: str | None = None, archive: str | None = None) -> RelationDecision:
    """Build a RelationDecision whose end span texts are cut from the task text (validate it before appending)."""
    if action not in ACTIONS:
        raise InputError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    if (action == "change") != (new_label is not None):
        raise InputError("a change of a relation needs the new type, and only a change takes one")
    return RelationDecision(task.task_id, _cut(task, *source), _cut(task, *target), label, action, by,
                            at or utc_now(), guideline_version, new_label, note, task.article_id, archive)


def validate_relation_decision(decision: RelationDecision, task: Task, schema: Schema, leads: Sequence[str] = (),
                               gold_keys: Iterable[SpanKey] = ()) -> None:
    """Raise an AnnotateError unless the relation decision fits the task text, the schema (type known, direction
    allowed for the type and the new type) and the lead list, and both ends are spans some annotation of the task
    contains or the gold has (`gold_keys`: the gold after span decisions)."""
    where = f"task {task.task_id}"
    if decision.task_id != task.task_id:
        raise InputError(f"decision is for task {decision.task_id} but was checked against {where}")
    if leads and decision.by not in leads:
        raise InputError(f"{decision.by!r} is not a lead; leads: {', '.join(leads)}")
    known = candidate_keys(task) | set(gold_keys)
    for span in decision.carried:
        schema.require_label(span.label, where)
        span.check(task.text, where)
        if span.key not in known:
            spans = ", ".join(f"{s}-{e}-{lab}" for s, e, lab in sorted(known)) or "none"
            raise OffsetError(f"{where}: {span.start}-{span.end}-{span.label} is not a span of any annotation or of "
                              f"the gold; spans on this task: {spans}")
    for label in (decision.label, decision.new_label):
        if label is not None:
            _require_direction(schema, label, decision.source, decision.target, where)
    if decision.action in ("reject", "change") and decision.subject not in relation_candidates(task):
        drawn = ", ".join(f"{a[0]}-{a[1]}-{a[2]} -{lab}-> {b[0]}-{b[1]}-{b[2]}"
                          for a, b, lab in sorted(relation_candidates(task))) or "none"
        raise OffsetError(f"{where}: no annotation draws {decision.label} from {decision.source.start}-"
                          f"{decision.source.end}-{decision.source.label} to {decision.target.start}-"
                          f"{decision.target.end}-{decision.target.label}; relations on this task: {drawn}")


def _require_direction(schema: Schema, label: str, source: Span, target: Span, where: str) -> None:
    kind = next((r for r in schema.relations if r.name == label), None)
    if kind is None:
        names = ", ".join(r.name for r in schema.relations) or "none"
        raise SchemaError(f"{where}: unknown relation type {label!r}; valid: {names}")
    if (source.label, target.label) != (kind.source, kind.target):
        raise SchemaError(f"{where}: {label} goes from {kind.source} to {kind.target}, not from {source.label} "
                          f"{source.text!r} to {target.label} {target.text!r}")
