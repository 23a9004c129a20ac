"""Adjudication: pulled annotations plus the lead's decision log -> gold spans with provenance.

Per task, in this order: a lead's decision wins; else a ground-truth annotation, or one made by a lead, is
adopted; else with two or more annotations a span is gold when more than half of them contain it exactly,
and spans with partial support become open disagreements; a single annotation is gold as is.

Relations follow the same order, keyed on (from span, to span, type) with the spans matched exactly: a lead's
relation decision wins, then the adopted annotation, then a majority; a relation drawn by some but not more than
half of the annotators is an open RelationDisagreement, never dropped silently. A relation follows its end spans'
decisions: onto the replacement of a changed span, out with a rejected one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from .decisions import (
    AnyDecision,
    Decision,
    RelationDecision,
    RelationKey,
    SpanKey,
    assign_decisions,
    final_decisions,
    relation_keys,
    stale_reason,
)
from .errors import OffsetError
from .provenance import Origin, classify_span, parent_predictions
from .records import Annotation, Relation, Span, Task, span_id
from .schema import Schema

Follow = Callable[[SpanKey], SpanKey | None]
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
    kind: ClassVar[str] = "span"

    @property
    def key(self) -> SpanKey:
        return (self.start, self.end, self.label)

    def to_dict(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in ("kind", "task_id", "article_id", "start", "end", "label", "text")}
        out.update(support=list(self.support), against=list(self.against), competing=[list(c) for c in self.competing])
        return out


def relation_words(source_text: str, label: str, target_text: str) -> str:
    """A relation as people read it: "ISIL —agent_of→ seized"."""
    return f"{source_text} —{label}→ {target_text}"


@dataclass(frozen=True)
class RelationDisagreement:
    """A relation some but not more than half of a task's annotators drew, with the relations competing with it
    (the same two spans joined with another type)."""

    task_id: int
    article_id: str
    source: SpanKey
    target: SpanKey
    label: str  # the relation type
    source_text: str
    target_text: str
    support: tuple[str, ...]
    against: tuple[str, ...]
    competing: tuple[RelationKey, ...]
    kind: ClassVar[str] = "relation"

    @property
    def key(self) -> RelationKey:
        return (self.source, self.target, self.label)

    # Where the relation sits in the text: listings and disagreements.jsonl order both kinds by (task, start, end).
    @property
    def start(self) -> int:
        return min(self.source[0], self.target[0])

    @property
    def end(self) -> int:
        return max(self.source[1], self.target[1])

    @property
    def words(self) -> str:
        return relation_words(self.source_text, self.label, self.target_text)

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "task_id": self.task_id, "article_id": self.article_id, "label": self.label,
                "from_id": span_id(*self.source), "from_text": self.source_text, "to_id": span_id(*self.target),
                "to_text": self.target_text, "start": self.start, "end": self.end, "support": list(self.support),
                "against": list(self.against),
                "competing": [[span_id(*a), span_id(*b), lab] for a, b, lab in self.competing]}


Open = Disagreement | RelationDisagreement


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
    disagreements: tuple[Open, ...]  # spans and relations still open, in text order
    annotators: tuple[str, ...]
    single_annotated: bool
    problems: tuple[Problem, ...] = ()  # what was reported about this task's annotations
    decided_relations: tuple[Relation, ...] = ()  # the gold relations a lead's relation decision put there

    @property
    def status_text(self) -> str:
        return status_text(self.status, len(self.disagreements))

    @property
    def span_disagreements(self) -> tuple[Disagreement, ...]:
        return tuple(d for d in self.disagreements if isinstance(d, Disagreement))

    @property
    def relation_disagreements(self) -> tuple[RelationDisagreement, ...]:
        return tuple(d for d in self.disagreements if isinstance(d, RelationDisagreement))


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
    def disagreements(self) -> tuple[Open, ...]:
        """Every open span and relation disagreement, task by task."""
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
    tasks: Sequence[Task], decisions: Iterable[AnyDecision], schema: Schema, leads: Sequence[str] = ()
) -> GoldSet:
    """Adjudicate every task: decisions, then ground truth / lead, then majority, then single annotation.

    Never raises for what annotators did: annotations (or relations) that do not fit are left out and reported.
    """
    by_task, unmatched = assign_decisions(tasks, decisions)
    problems = [_unmatched(d) for d in final_decisions(unmatched)]
    golds = tuple(_task_gold(t, by_task.get(t.task_id, []), set(leads), schema) for t in tasks)
    problems += [p for g in golds for p in g.problems]
    return GoldSet(tuple(sorted(golds, key=lambda g: g.task_id)), schema.version, tuple(problems))


def _unmatched(decision: AnyDecision) -> Problem:
    if decision.article_id is None:
        return Problem("decision", f"task {decision.task_id}", "the decision log has decisions for a task not in this "
                       "export (an old line without article id: matched by task id)")
    return Problem("decision", f"article {decision.article_id}", "the decision log has decisions for an article not "
                   f"in this export (task {decision.task_id} when decided)")


def _fitting(task: Task, decisions: Sequence[AnyDecision], problems: list[Problem]) -> list[AnyDecision]:
    """The task's final decision per span and per relation, leaving out (and reporting) those made on another
    text."""
    fitting = []
    for decision in decisions:
        reason = stale_reason(decision, task)
        if reason:
            problems.append(Problem("stale_decision", f"task {task.task_id}", reason))
        else:
            fitting.append(decision)
    # One task holds one article, so the span alone says what a decision is about (old lines have no article id).
    return final_decisions(fitting, key=lambda d: d.subject)


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


def _task_gold(task: Task, decisions: list[AnyDecision], leads: set[str], schema: Schema) -> TaskGold:
    problems: list[Problem] = []
    anns = _usable(task, schema, problems)
    decisions = _fitting(task, decisions, problems)
    span_decisions = [d for d in decisions if isinstance(d, Decision)]
    follow = _follower(span_decisions)
    support: dict[SpanKey, list[str]] = {}
    drawn: dict[RelationKey, list[str]] = {}  # relation (its ends after the span decisions) -> who drew it
    for ann in anns:
        for key in sorted({s.key for s in ann.spans}):
            support.setdefault(key, []).append(ann.annotator)
        for rel in sorted(_followed(relation_keys(ann), follow)):
            drawn.setdefault(rel, []).append(ann.annotator)
    adopted = [a for a in anns if a.ground_truth] or [a for a in anns if a.annotator in leads]
    disagreements: tuple[Open, ...] = ()
    if adopted:
        chosen = _latest(adopted)
        status = "ground_truth" if chosen.ground_truth else "lead"
        keys = {s.key for s in chosen.spans}
        relations = _followed(relation_keys(chosen), follow)
    elif len(anns) >= 2:
        status = "majority"
        keys = {k for k, who in support.items() if len(who) * 2 > len(anns)}
        relations = {r for r, who in drawn.items() if len(who) * 2 > len(anns)}
        disagreements = (*_disagreements(task, anns, support, keys),
                         *_relation_disagreements(task, anns, drawn, relations))
    else:
        status = "single" if anns else "unannotated"
        keys = {s.key for s in anns[0].spans} if anns else set()
        relations = _followed(relation_keys(anns[0]), follow) if anns else set()
    decided: dict[SpanKey, Decision] = {}
    for decision in span_decisions:
        keys = _apply(decision, keys, decided)
    relation_decided: dict[RelationKey, RelationDecision] = {}
    settled: set[SpanKey | RelationKey] = {d.span.key for d in span_decisions}
    for rel_decision in (d for d in decisions if isinstance(d, RelationDecision)):
        relations = _apply_relation(rel_decision, relations, follow, relation_decided, settled)
    if decisions:
        disagreements = tuple(d for d in disagreements if d.key not in settled)
        # One decision out of ten does not make a task adjudicated: only when nothing in it is open any more.
        status = "in_adjudication" if disagreements else "adjudicated"
    disagreements = tuple(sorted(disagreements, key=lambda d: (d.start, d.end, d.kind, str(d.key))))
    spans = tuple(_gold_span(task, k, anns, support, decided.get(k)) for k in sorted(keys))
    rels, by_lead = [], []
    for a, b, label in sorted(relations):
        if a in keys and b in keys:
            rels.append(Relation(span_id(*a), span_id(*b), label))
            by_lead += [rels[-1]] if (a, b, label) in relation_decided else []
        elif (a, b, label) in relation_decided:
            problems.append(_waiting(task, relation_decided[(a, b, label)], [k for k in (a, b) if k not in keys]))
    annotators = tuple(sorted({a.annotator for a in anns}))
    return TaskGold(task.task_id, task.article_id, task.text, dict(task.meta), status, spans, tuple(rels),
                    disagreements, annotators, len(anns) == 1, tuple(problems), tuple(by_lead))


def _waiting(task: Task, decision: RelationDecision, missing: list[SpanKey]) -> Problem:
    ends = ", ".join(span_id(*k) for k in missing)
    return Problem("relation_end", f"task {task.task_id}",
                   f"{decision.action} of {decision.describe()} by {decision.by}: span {ends} is not in the gold (still "
                   "open, or not in the adopted annotation); the relation is left out until it is")


def _follower(decisions: Sequence[Decision]) -> Follow:
    """Where a span ends up after the lead's span decisions: its replacement after a change, None after a reject."""
    fate: dict[SpanKey, SpanKey | None] = {}
    for d in decisions:
        fate[d.span.key] = None if d.action == "reject" else d.new.key if d.new is not None else d.span.key

    def follow(key: SpanKey) -> SpanKey | None:
        seen: set[SpanKey] = set()
        current: SpanKey | None = key
        while current is not None and current in fate and current not in seen:
            seen.add(current)
            current = fate[current]
        return current

    return follow


def _followed(relations: Iterable[RelationKey], follow: Follow) -> set[RelationKey]:
    """Relations moved onto their ends' replacements; those with a rejected end are left out (they follow it)."""
    out = set()
    for a, b, label in relations:
        fa, fb = follow(a), follow(b)
        if fa is not None and fb is not None:
            out.add((fa, fb, label))
    return out


def _apply(decision: Decision, keys: set[SpanKey], decided: dict[SpanKey, Decision]) -> set[SpanKey]:
    """Apply one lead span decision (relations already follow it: see _follower)."""
    old = decision.span.key
    keys = set(keys)
    if decision.action == "accept":
        keys.add(old)
        decided[old] = decision
    elif decision.action == "reject":
        keys.discard(old)
    else:
        assert decision.new is not None  # guaranteed by Decision.from_dict / make_decision
        keys.discard(old)
        keys.add(decision.new.key)
        decided[decision.new.key] = decision
    return keys


def _apply_relation(decision: RelationDecision, relations: set[RelationKey], follow: Follow,
                    decided: dict[RelationKey, RelationDecision],
                    settled: set[SpanKey | RelationKey]) -> set[RelationKey]:
    """Apply one lead relation decision, on its ends as they are after the span decisions."""
    a, b = follow(decision.source.key), follow(decision.target.key)
    if a is None or b is None:
        return relations  # an end span was rejected: the relation follows that decision
    old = (a, b, decision.label)
    relations = set(relations)
    settled.add(old)
    if decision.action == "accept":
        relations.add(old)
        decided[old] = decision
    elif decision.action == "reject":
        relations.discard(old)
    else:
        assert decision.new_label is not None  # guaranteed by RelationDecision.from_dict / make_relation_decision
        new = (a, b, decision.new_label)
        relations.discard(old)
        relations.add(new)
        decided[new] = decision
        settled.add(new)
    return relations


def _relation_disagreements(task: Task, anns: Sequence[Annotation], drawn: dict[RelationKey, list[str]],
                            gold: set[RelationKey]) -> tuple[RelationDisagreement, ...]:
    everyone = sorted({a.annotator for a in anns})
    out = []
    for key in sorted(set(drawn) - gold):
        a, b, label = key
        who = tuple(sorted(drawn[key]))
        competing = tuple(k for k in sorted(drawn) if k[:2] == (a, b) and k != key)
        out.append(RelationDisagreement(task.task_id, task.article_id, a, b, label, task.text[a[0]:a[1]],
                                        task.text[b[0]:b[1]], who, tuple(x for x in everyone if x not in who),
                                        competing))
    return tuple(out)


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
