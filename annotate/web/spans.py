"""Text cut into segments for highlighting, one column per annotator, prediction and the gold."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..gold import TaskGold
from ..records import Task
from ..schema import Schema

SpanKey = tuple[int, int, str]


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
class Column:
    title: str
    kind: str  # annotator, prediction, gold
    segments: tuple[Segment, ...]
    n_spans: int
    n_differs: int


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


def columns_for(task: Task, gold: TaskGold, schema: Schema) -> list[Column]:
    """Annotator columns (spans not everyone marked are differences), predictions and gold (vs gold)."""
    anns = task.completed
    per_person = [{s.key for s in a.spans} for a in anns]
    shared = set.intersection(*per_person) if per_person else set()
    gold_keys = {s.key for s in gold.spans}
    cols = [_column(a.annotator, "annotator", task.text, keys, keys - shared, schema)
            for a, keys in zip(anns, per_person, strict=True)]
    for pred in task.predictions:
        keys = {s.key for s in pred.spans}
        cols.append(_column(f"model {pred.model_version}", "prediction", task.text, keys,
                            keys - gold_keys if anns else set(), schema))
    decided = {s.key for s in gold.spans if s.decision is not None}
    cols.append(_column("gold", "gold", task.text, gold_keys, decided, schema, state="decided"))
    return cols
