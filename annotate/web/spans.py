"""Text cut into segments for highlighting, one column per annotator, prediction and the gold, each with its
relations in words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..gold.adjudicate import TaskGold
from ..gold.relations import relation_keys, relation_words
from ..records import Relation, RelationKey, Span, SpanKey, Task, span_id
from ..schema import Schema


@dataclass(frozen=True)
class Mark:
    """A span as shown: its key, colour, and its state: "diff" (not in every column it is compared with),
    "decided" (settled by a lead) or ""."""

    start: int
    end: int
    label: str
    color: str
    state: str = ""


@dataclass(frozen=True)
class Segment:
    """A stretch of text covered by the same marks; `ends` are the marks whose last segment this is."""

    text: str
    marks: tuple[Mark, ...]
    ends: tuple[Mark, ...]

    @property
    def css(self) -> str:
        states = {m.state for m in self.marks}
        return "decided" if "decided" in states else "diff" if "diff" in states else ""


@dataclass(frozen=True)
class RelationLine:
    """One relation of a version, in words ("ISIL —agent_of→ seized"), with the state its marks would have."""

    words: str
    source: str  # span ids
    target: str
    label: str
    state: str = ""


@dataclass(frozen=True)
class Column:
    title: str
    kind: str  # annotator, prediction, gold
    segments: tuple[Segment, ...]
    n_spans: int
    n_differs: int
    relations: tuple[RelationLine, ...] = ()


def segments(text: str, marks: Sequence[Mark]) -> tuple[Segment, ...]:
    """Cut `text` at every span boundary; each piece lists the marks covering it (outer first)."""
    cuts = sorted({0, len(text)} | {m.start for m in marks} | {m.end for m in marks})
    ordered = sorted(marks, key=lambda m: (m.start, -m.end))
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a == b:
            continue
        covering = tuple(m for m in ordered if m.start <= a and m.end >= b)
        out.append(Segment(text[a:b], covering, tuple(m for m in covering if m.end == b)))
    return tuple(out)


def _column(title: str, kind: str, text: str, keys: Iterable[SpanKey], flagged: set[SpanKey], schema: Schema,
            state: str = "diff") -> Column:
    marks = [Mark(s, e, lab, schema.color(lab), state if (s, e, lab) in flagged else "") for s, e, lab in sorted(set(keys))]
    return Column(title, kind, segments(text, marks), len(marks), sum(bool(m.state) for m in marks))


def _lines(text: str, relations: Iterable[RelationKey], flagged: set[RelationKey], state: str = "diff"
           ) -> tuple[RelationLine, ...]:
    return tuple(RelationLine(relation_words(text[a[0]:a[1]], label, text[b[0]:b[1]]), span_id(*a), span_id(*b), label,
                              state if (a, b, label) in flagged else "")
                 for a, b, label in sorted(relations))


def _by_span_id(spans: Sequence[Span], relations: Iterable[Relation]) -> set[RelationKey]:
    """Relations that point at span ids (predictions, gold) as span keys; dangling ones are left out."""
    ids = {s.id if s.id is not None else span_id(*s.key): s.key for s in spans}
    return {(ids[r.from_id], ids[r.to_id], r.label) for r in relations if r.from_id in ids and r.to_id in ids}


def columns_for(task: Task, gold: TaskGold, schema: Schema) -> list[Column]:
    """Annotator columns (spans and relations not everyone drew are differences), predictions and gold (vs gold)."""
    anns = task.completed
    per_person = [{s.key for s in a.spans} for a in anns]
    drawn = [relation_keys(a) for a in anns]
    shared = set.intersection(*per_person) if per_person else set()
    agreed = set.intersection(*drawn) if drawn else set()
    gold_keys = {s.key for s in gold.spans}
    gold_spans = [Span(s.start, s.end, s.label, s.text, id=s.id) for s in gold.spans]
    gold_relations = _by_span_id(gold_spans, gold.relations)
    cols = [replace(_column(a.annotator, "annotator", task.text, keys, keys - shared, schema),
                    relations=_lines(task.text, rels, rels - agreed))
            for a, keys, rels in zip(anns, per_person, drawn, strict=True)]
    for pred in task.predictions:
        keys = {s.key for s in pred.spans}
        rels = _by_span_id(pred.spans, pred.relations)
        cols.append(replace(_column(f"model {pred.model_version}", "prediction", task.text, keys,
                                    keys - gold_keys if anns else set(), schema),
                            relations=_lines(task.text, rels, rels - gold_relations if anns else set())))
    decided = {s.key for s in gold.spans if s.decision is not None}
    by_lead = _by_span_id(gold_spans, gold.decided_relations)
    cols.append(replace(_column("gold", "gold", task.text, gold_keys, decided, schema, state="decided"),
                        relations=_lines(task.text, gold_relations, by_lead, state="decided")))
    return cols
