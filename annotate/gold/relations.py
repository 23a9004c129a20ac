"""Gold relations: keyed on (from span, to span, type) with the spans matched exactly (stdlib only).

Relations follow the span path's order: a lead's relation decision wins, then the adopted annotation, then a
majority; a relation drawn by some but not more than half of the annotators is an open RelationDisagreement, never
dropped silently. A relation follows its end spans' decisions: onto the replacement of a changed span, out with a
rejected one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..records import Annotation, Relation, RelationKey, Span, SpanKey, Task, span_id
from ..records import relation_keys as span_relation_keys
from ..schema import Schema
from .decisions import Decision, RelationDecision

Follow = Callable[[SpanKey], SpanKey | None]  # a span key -> where the span decisions put it (None: rejected)


def relation_keys(ann: Annotation) -> set[RelationKey]:
    """Relations of one annotation as (from span key, to span key, type); dangling ids are ignored."""
    return set(span_relation_keys(ann.spans, ann.relations))


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


def span_follower(decisions: Sequence[Decision]) -> Follow:
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


def followed_relations(relations: Iterable[RelationKey], follow: Follow) -> set[RelationKey]:
    """Relations moved onto their ends' replacements; those with a rejected end are left out (they follow it)."""
    out = set()
    for a, b, label in relations:
        fa, fb = follow(a), follow(b)
        if fa is not None and fb is not None:
            out.add((fa, fb, label))
    return out


def apply_relation_decision(decision: RelationDecision, relations: set[RelationKey], follow: Follow,
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


def relation_disagreements(task: Task, anns: Sequence[Annotation], drawn: dict[RelationKey, list[str]],
                           gold: set[RelationKey]) -> tuple[RelationDisagreement, ...]:
    """The relations drawn (`drawn`: relation -> who drew it) that did not make the gold, as open disagreements."""
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
