"""Which pulled annotations adjudication may use, and the problems found in them (stdlib only).

An annotation whose offsets do not hold or whose labels the schema lacks is quarantined; a relation that does not
fit is left out of its annotation; overlapping spans and edits by someone else are only reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import OffsetError
from ..records import Annotation, Relation, Span, Task
from ..schema import Schema
from .relations import relation_misfit

GATING = ("offset", "quarantined")  # problem kinds that fail the export's quality gate


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input that the export reports (kinds in GATING fail the quality gate)."""

    kind: str
    where: str
    message: str


def _misfits(ann: Annotation, schema: Schema) -> tuple[str | None, tuple[Relation, ...], list[str]]:
    """Why the whole annotation does not fit (a label the schema lacks), its relations that fit, and why the
    others do not."""
    unknown = sorted({s.label for s in ann.spans} - set(schema.label_names))
    if unknown:
        return (f"unknown label(s) {', '.join(map(repr, unknown))} (schema version {schema.version}); valid "
                f"labels: {', '.join(schema.label_names)}. Is this an export of another project?"), (), []
    ids = {s.id: s for s in ann.spans if s.id is not None}
    kept, why = [], []
    for rel in ann.relations:
        reason = relation_misfit(rel, ids, schema)
        kept += [] if reason else [rel]
        why += [reason] if reason else []
    return None, tuple(kept), why


def overlapping_pairs(spans: Iterable[Span]) -> list[tuple[Span, Span]]:
    """Every pair of spans sharing at least one character, in offset order."""
    ordered = sorted(spans, key=lambda s: (s.start, s.end, s.label))
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if b.start >= a.end:
                break  # sorted by start: no later span reaches back into `a`
            pairs.append((a, b))
    return pairs


def _overlaps(task: Task, ann: Annotation) -> list[Problem]:
    # The guidelines forbid overlapping spans and Label Studio does not stop them; only reported, as both may be right.
    return [Problem("overlapping_spans", f"task {task.task_id}",
                    f"annotation {ann.annotation_id} by {ann.annotator}: {a.label} {a.start}-{a.end} {a.text!r} "
                    f"overlaps {b.label} {b.start}-{b.end} {b.text!r} (the guidelines forbid overlapping spans)")
            for a, b in overlapping_pairs(ann.spans)]


def usable_annotations(task: Task, schema: Schema, problems: list[Problem]) -> list[Annotation]:
    """Each annotator's final annotation (Task.final) if its offsets and labels hold (relations that do not fit
    removed); the others are quarantined and reported."""
    usable = []
    for ann in task.final:
        where = f"task {task.task_id}, annotation {ann.annotation_id} by {ann.annotator}"
        try:
            for span in ann.spans:
                span.check(task.text, where)
        except OffsetError as exc:
            problems.append(Problem("offset", f"task {task.task_id}", f"{exc}; annotation left out of the gold"))
            continue
        whole, relations, why = _misfits(ann, schema)
        if whole:
            problems.append(Problem("quarantined", f"task {task.task_id}", f"{where}: {whole}; annotation left out"))
            continue
        problems += [Problem("quarantined", f"task {task.task_id}", f"{where}: {w}; relation left out") for w in why]
        problems += _overlaps(task, ann)
        if ann.edited_by:
            # Kept: the editor may have fixed it; but it is no longer only its author's work, so agreement can lie.
            problems.append(Problem("edited_by_other", f"task {task.task_id}",
                                    f"annotation {ann.annotation_id} by {ann.annotator} was last updated by "
                                    f"{ann.edited_by}; kept as {ann.annotator}'s"))
        usable.append(replace(ann, relations=relations) if why else ann)
    return usable
