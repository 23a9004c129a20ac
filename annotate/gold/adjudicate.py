"""Adjudication: pulled annotations plus the lead's decision log -> gold spans and relations with provenance.

Per task, in this order: a lead's decision wins; else a ground-truth annotation, or one made by a lead, is
adopted; else with two or more annotators (each counted once, by their final annotation: records.Task.final) a
span is gold when more than half of them marked it exactly, and spans with partial support become open
disagreements; a single annotation is gold as is. Relations take the
same path (see gold/relations.py); which annotations are used at all is screening's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from ..records import Annotation, Relation, RelationKey, SpanKey, Task, latest_first, span_id
from ..schema import Schema
from .decisions import (
    AnyDecision,
    Decision,
    RelationDecision,
    assign_decisions,
    final_decisions,
    stale_reason,
)
from .provenance import Origin, classify_span, parent_predictions
from .relations import (
    RelationDisagreement,
    apply_relation_decision,
    followed_relations,
    relation_disagreements,
    relation_keys,
    span_follower,
)
from .screening import Problem, usable_annotations

# in_adjudication: the lead has decided on some spans of the task, but disagreements in it are still open.
STATUSES = ("adjudicated", "in_adjudication", "ground_truth", "lead", "majority", "single", "unannotated")


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


def _latest(anns: Sequence[Annotation]) -> Annotation:
    return max(anns, key=latest_first)


def _task_gold(task: Task, decisions: list[AnyDecision], leads: set[str], schema: Schema) -> TaskGold:
    problems: list[Problem] = []
    anns = usable_annotations(task, schema, problems)
    decisions = _fitting(task, decisions, problems)
    span_decisions = [d for d in decisions if isinstance(d, Decision)]
    follow = span_follower(span_decisions)
    support: dict[SpanKey, list[str]] = {}
    drawn: dict[RelationKey, list[str]] = {}  # relation (its ends after the span decisions) -> who drew it
    for ann in anns:
        for key in sorted({s.key for s in ann.spans}):
            support.setdefault(key, []).append(ann.annotator)
        for rel in sorted(followed_relations(relation_keys(ann), follow)):
            drawn.setdefault(rel, []).append(ann.annotator)
    adopted = [a for a in anns if a.ground_truth] or [a for a in anns if a.annotator in leads]
    disagreements: tuple[Open, ...] = ()
    if adopted:
        chosen = _latest(adopted)
        status = "ground_truth" if chosen.ground_truth else "lead"
        keys = {s.key for s in chosen.spans}
        relations = followed_relations(relation_keys(chosen), follow)
    elif len(anns) >= 2:
        status = "majority"
        keys = {k for k, who in support.items() if len(who) * 2 > len(anns)}
        relations = {r for r, who in drawn.items() if len(who) * 2 > len(anns)}
        disagreements = (*_disagreements(task, anns, support, keys),
                         *relation_disagreements(task, anns, drawn, relations))
    else:
        status = "single" if anns else "unannotated"
        keys = {s.key for s in anns[0].spans} if anns else set()
        relations = followed_relations(relation_keys(anns[0]), follow) if anns else set()
    decided: dict[SpanKey, Decision] = {}
    for decision in span_decisions:
        keys = _apply(decision, keys, decided)
    relation_decided: dict[RelationKey, RelationDecision] = {}
    settled: set[SpanKey | RelationKey] = {d.span.key for d in span_decisions}
    for rel_decision in (d for d in decisions if isinstance(d, RelationDecision)):
        relations = apply_relation_decision(rel_decision, relations, follow, relation_decided, settled)
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


def _apply(decision: Decision, keys: set[SpanKey], decided: dict[SpanKey, Decision]) -> set[SpanKey]:
    """Apply one lead span decision (relations already follow it: see span_follower)."""
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
