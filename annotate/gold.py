"""Adjudication: pulled annotations plus the lead's decision log -> gold spans with provenance.

Per task, in this order: a lead's decision wins; else a ground-truth annotation, or one made by a lead, is
adopted; else with two or more annotations a span is gold when more than half of them contain it exactly,
and spans with partial support become open disagreements; a single annotation is gold as is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from .decisions import Decision, assign_decisions, final_decisions, stale_reason
from .errors import OffsetError
from .provenance import Origin, classify_span, parent_predictions
from .records import Annotation, Relation, Span, Task, span_id
from .schema import Schema

SpanKey = tuple[int, int, str]
RelationKey = tuple[SpanKey, SpanKey, str]
# in_adjudication: the lead has decided on some spans of the task, but disagreements in it are still open.
STATUSES = ("adjudicated", "in_adjudication", "ground_truth", "lead", "majority", "single", "unannotated")
GATING = ("offset", "quarantined")  # problem kinds that fail the export's quality gate


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input that the export reports (kinds in GATING fail the quality gate)."""

    kind: str
    where: str
    message: str


@dataclass(frozen=True)
class GoldSpan:
    """A gold span with provenance: who marked it, a lead's decision on it, and its model origin."""

    start: int
    end: int
    label: str
    text: str
    annotators: tuple[str, ...]
    origin: Origin
    decision: Decision | None = None

    @property
    def key(self) -> SpanKey:
        return (self.start, self.end, self.label)

    @property
    def id(self) -> str:
        return span_id(*self.key)


@dataclass(frozen=True)
class Disagreement:
    """A span some but not more than half of a task's annotators marked, with the spans competing with it."""

    task_id: int
    article_id: str
    start: int
    end: int
    label: str
    text: str
    support: tuple[str, ...]
    against: tuple[str, ...]
    competing: tuple[SpanKey, ...]

    def to_dict(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in ("task_id", "article_id", "start", "end", "label", "text")}
        out.update(support=list(self.support), against=list(self.against), competing=[list(c) for c in self.competing])
        return out


@dataclass(frozen=True)
class TaskGold:
    """The gold for one task: spans, relations between them, status and what is still open."""

    task_id: int
    article_id: str
    text: str
    meta: dict
    status: str
    spans: tuple[GoldSpan, ...]
    relations: tuple[Relation, ...]
    disagreements: tuple[Disagreement, ...]
    annotators: tuple[str, ...]
    single_annotated: bool
    problems: tuple[Problem, ...] = ()  # what was reported about this task's annotations

    @property
    def status_text(self) -> str:
        return status_text(self.status, len(self.disagreements))


def status_text(status: str, n_open: int = 0) -> str:
    """A status as people read it: "in adjudication (4 open)", "ground truth", "adjudicated"."""
    words = status.replace("_", " ")
    return f"{words} ({n_open} open)" if status == "in_adjudication" else words


@dataclass(frozen=True)
class GoldSet:
    """Gold for every task, the guidelines version it follows, and the problems found on the way."""

    tasks: tuple[TaskGold, ...]
    guideline_version: str
    problems: tuple[Problem, ...] = field(default=())

    @property
    def disagreements(self) -> tuple[Disagreement, ...]:
        return tuple(d for t in self.tasks for d in t.disagreements)

    def status_counts(self) -> dict[str, int]:
        """How many tasks ended in each status (every status listed, zeros included)."""
        counts = Counter(t.status for t in self.tasks)
        return {s: counts.get(s, 0) for s in STATUSES}


def relation_misfit(relation: Relation, spans: Mapping[str, Span], schema: Schema) -> str | None:
    """Why a relation does not fit (unknown type, an end that is not a span of its annotation, a direction the
    schema does not allow), or None when it fits. `relation` points source -> target."""
    kind = next((r for r in schema.relations if r.name == relation.label), None)
    if kind is None:
        names = ", ".join(r.name for r in schema.relations) or "none"
        return f"relation {relation.from_id} -> {relation.to_id} has unknown type {relation.label!r}; valid: {names}"
    missing = [end for end in (relation.from_id, relation.to_id) if end not in spans]
    if missing:
        return (f"{relation.label} relation {relation.from_id} -> {relation.to_id}: "
                f"{', '.join(map(repr, missing))} is not a span of this annotation")
    source, target = spans[relation.from_id], spans[relation.to_id]
    if (source.label, target.label) != (kind.source, kind.target):
        return (f"{kind.name} goes from {kind.source} to {kind.target}, not from {source.label} {source.text!r} "
                f"to {target.label} {target.text!r}")
    return None


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


def build_gold(
    tasks: Sequence[Task], decisions: Iterable[Decision], schema: Schema, leads: Sequence[str] = ()
) -> GoldSet:
    """Adjudicate every task: decisions, then ground truth / lead, then majority, then single annotation.

    Never raises for what annotators did: annotations (or relations) that do not fit are left out and reported.
    """
    by_task, unmatched = assign_decisions(tasks, decisions)
    problems = [_unmatched(d) for d in final_decisions(unmatched)]
    golds = tuple(_task_gold(t, by_task.get(t.task_id, []), set(leads), schema) for t in tasks)
    problems += [p for g in golds for p in g.problems]
    return GoldSet(tuple(sorted(golds, key=lambda g: g.task_id)), schema.version, tuple(problems))


def _unmatched(decision: Decision) -> Problem:
    if decision.article_id is None:
        return Problem("decision", f"task {decision.task_id}", "the decision log has decisions for a task not in this "
                       "export (an old line without article id: matched by task id)")
    return Problem("decision", f"article {decision.article_id}", "the decision log has decisions for an article not "
                   f"in this export (task {decision.task_id} when decided)")


def _fitting(task: Task, decisions: Sequence[Decision], problems: list[Problem]) -> list[Decision]:
    """The task's final decision per span, leaving out (and reporting) those made on another text."""
    fitting = []
    for decision in decisions:
        reason = stale_reason(decision, task)
        if reason:
            problems.append(Problem("stale_decision", f"task {task.task_id}", reason))
        else:
            fitting.append(decision)
    # One task holds one article, so the span alone says what a decision is about (old lines have no article id).
    return final_decisions(fitting, key=lambda d: d.span.key)


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


def _usable(task: Task, schema: Schema, problems: list[Problem]) -> list[Annotation]:
    """Submitted annotations whose offsets and labels hold (relations that do not fit removed); the others are
    quarantined and reported."""
    usable = []
    for ann in task.completed:
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


def _latest(anns: Sequence[Annotation]) -> Annotation:
    return max(anns, key=lambda a: (a.updated_at or a.created_at or "", a.annotation_id or 0))


def _task_gold(task: Task, decisions: list[Decision], leads: set[str], schema: Schema) -> TaskGold:
    problems: list[Problem] = []
    anns = _usable(task, schema, problems)
    decisions = _fitting(task, decisions, problems)
    support: dict[SpanKey, list[str]] = {}
    for ann in anns:
        for key in sorted({s.key for s in ann.spans}):
            support.setdefault(key, []).append(ann.annotator)
    adopted = [a for a in anns if a.ground_truth] or [a for a in anns if a.annotator in leads]
    disagreements: tuple[Disagreement, ...] = ()
    if adopted:
        chosen = _latest(adopted)
        status = "ground_truth" if chosen.ground_truth else "lead"
        keys = {s.key for s in chosen.spans}
        relations = _relation_keys(chosen)
    elif len(anns) >= 2:
        status = "majority"
        keys = {k for k, who in support.items() if len(who) * 2 > len(anns)}
        votes = Counter(r for ann in anns for r in set(_relation_keys(ann)))
        relations = {r for r, n in votes.items() if n * 2 > len(anns)}
        disagreements = _disagreements(task, anns, support, keys)
    else:
        status = "single" if anns else "unannotated"
        keys = {s.key for s in anns[0].spans} if anns else set()
        relations = _relation_keys(anns[0]) if anns else set()
    decided: dict[SpanKey, Decision] = {}
    for decision in decisions:
        keys, relations = _apply(decision, keys, relations, decided)
    if decisions:
        settled = {d.span.key for d in decisions}
        disagreements = tuple(d for d in disagreements if (d.start, d.end, d.label) not in settled)
        # One decision out of ten does not make a task adjudicated: only when nothing in it is open any more.
        status = "in_adjudication" if disagreements else "adjudicated"
    spans = tuple(_gold_span(task, k, anns, support, decided.get(k)) for k in sorted(keys))
    rels = tuple(
        Relation(span_id(*a), span_id(*b), label)
        for a, b, label in sorted(relations)
        if a in keys and b in keys
    )
    annotators = tuple(sorted({a.annotator for a in anns}))
    return TaskGold(task.task_id, task.article_id, task.text, dict(task.meta), status, spans, rels, disagreements,
                    annotators, len(anns) == 1, tuple(problems))


def _apply(
    decision: Decision, keys: set[SpanKey], relations: set[RelationKey], decided: dict[SpanKey, Decision]
) -> tuple[set[SpanKey], set[RelationKey]]:
    """Apply one lead decision; relations follow a changed span to its replacement."""
    old = decision.span.key
    keys = set(keys)
    if decision.action == "accept":
        keys.add(old)
        decided[old] = decision
    elif decision.action == "reject":
        keys.discard(old)
    else:
        assert decision.new is not None  # guaranteed by Decision.from_dict / make_decision
        new = decision.new.key
        keys.discard(old)
        keys.add(new)
        decided[new] = decision
        relations = {(new if a == old else a, new if b == old else b, lab) for a, b, lab in relations}
    return keys, relations


def _relation_keys(ann: Annotation) -> set[RelationKey]:
    """Relations of one annotation as (from span key, to span key, label); dangling ids are ignored."""
    ids = {s.id: s.key for s in ann.spans if s.id is not None}
    return {(ids[r.from_id], ids[r.to_id], r.label) for r in ann.relations if r.from_id in ids and r.to_id in ids}


def _disagreements(
    task: Task, anns: Sequence[Annotation], support: dict[SpanKey, list[str]], gold: set[SpanKey]
) -> tuple[Disagreement, ...]:
    everyone = sorted({a.annotator for a in anns})
    out = []
    for key in sorted(set(support) - gold):
        start, end, label = key
        competing = tuple(k for k in sorted(support) if k != key and k[0] < end and k[1] > start)
        who = tuple(sorted(support[key]))
        out.append(Disagreement(task.task_id, task.article_id, start, end, label, task.text[start:end], who,
                                tuple(a for a in everyone if a not in who), competing))
    return tuple(out)


def _gold_span(
    task: Task, key: SpanKey, anns: Sequence[Annotation], support: dict[SpanKey, list[str]], decision: Decision | None
) -> GoldSpan:
    markers = [a for a in anns if any(s.key == key for s in a.spans)]
    origin = classify_span(key, parent_predictions(task, markers) if markers else task.predictions)
    start, end, label = key
    return GoldSpan(start, end, label, task.text[start:end], tuple(sorted(support.get(key, ()))), origin, decision)
