"""The shapes every stage shares: Article, Span, Document, Annotation (stdlib only).

Offsets are Python string indices (code points) into the article's text: the input as given (a UTF-8
BOM removed) minus the furniture. `to_source` maps them back to the input with the article's source map.
"""

from __future__ import annotations

import contextlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, OffsetError

SpanKey = tuple[int, int, str]  # (start, end, label): how a span is named wherever spans are compared
RelationKey = tuple[SpanKey, SpanKey, str]  # (from span, to span, type)


def span_id(start: int, end: int, label: str) -> str:
    """The id of a span by its identity, e.g. "20-28-OUTCOME": what gold and pre-annotation relations point at."""
    return f"{start}-{end}-{label}"


@dataclass(frozen=True)
class Span:
    """A labelled character range; `text` must equal the article text at [start:end]."""

    start: int
    end: int
    label: str
    text: str
    score: float | None = None
    source: str | None = None
    id: str | None = None

    @property
    def key(self) -> SpanKey:
        """Identity for exact matching: (start, end, label)."""
        return (self.start, self.end, self.label)

    def check(self, text: str, where: str = "") -> None:
        """Raise OffsetError unless the span selects its own text inside `text`."""
        prefix = f"{where}: " if where else ""
        if not (0 <= self.start < self.end <= len(text)):
            raise OffsetError(
                f"{prefix}span {self.label} [{self.start}:{self.end}] is out of range for a text of {len(text)} characters"
            )
        if text[self.start : self.end] != self.text:
            raise OffsetError(
                f"{prefix}span {self.label} [{self.start}:{self.end}] is {self.text!r} "
                f"but the text there is {text[self.start:self.end]!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        return cls(
            start=int(data["start"]),
            end=int(data["end"]),
            label=str(data["label"]),
            text=str(data["text"]),
            score=None if data.get("score") is None else float(data["score"]),
            source=data.get("source"),
            id=data.get("id"),
        )


@dataclass(frozen=True)
class Furniture:
    """A piece of page furniture removed from the text annotators see, kept so nothing is lost."""

    kind: str
    start: int  # offset in the original text: the input as given (without a BOM)
    text: str


@dataclass(frozen=True)
class Article:
    """One ingested article: a stable id, the text annotators see, metadata, and what was removed."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    furniture: tuple[Furniture, ...] = ()

    def check_furniture(self) -> None:
        """Raise OffsetError unless the furniture pieces fit the text: in range, in order, not overlapping."""
        # Pieces that pass put every piece text back exactly at its start in original_text(); pieces that
        # do not would land elsewhere silently, shifting every offset mapped back to the original.
        previous_end, removed = 0, 0  # end of the previous piece in the original; furniture characters before
        for number, piece in enumerate(self.furniture, 1):
            name = f"'furniture' piece {number} ({piece.kind} at {piece.start})"
            if not piece.text:
                raise OffsetError(f"{name} is empty; each piece holds the text that was removed")
            if piece.start < 0:
                raise OffsetError(f"{name} is out of range: starts count from 0")
            if number > 1 and piece.start < self.furniture[number - 2].start:
                raise OffsetError(f"{name} is not in increasing order: the piece before starts at "
                                  f"{self.furniture[number - 2].start}")
            if piece.start < previous_end:
                raise OffsetError(f"{name} overlaps the piece before, which ends at {previous_end}")
            if not 0 <= piece.start - removed <= len(self.text):
                raise OffsetError(f"{name} is out of range for a text of {len(self.text)} characters: after the "
                                  f"pieces before it, valid starts are {previous_end}..{len(self.text) + removed}")
            previous_end, removed = piece.start + len(piece.text), removed + len(piece.text)

    @property
    def source_map(self) -> tuple[tuple[int, int], ...]:
        """(body offset, removed length) for each place in `text` where furniture was removed, in order."""
        pairs: list[tuple[int, int]] = []
        removed = 0
        for piece in sorted(self.furniture, key=lambda f: f.start):
            offset = piece.start - removed
            if pairs and pairs[-1][0] == offset:  # adjacent pieces (e.g. a footer, then blank lines) are one gap
                pairs[-1] = (offset, pairs[-1][1] + len(piece.text))
            else:
                pairs.append((offset, len(piece.text)))
            removed += len(piece.text)
        return tuple(pairs)

    def original_text(self) -> str:
        """Rebuild the input text as given (without a BOM) by putting the furniture back."""
        out, taken, removed = [], 0, 0  # body characters copied so far; furniture characters put back so far
        for piece in sorted(self.furniture, key=lambda f: f.start):
            body_end = piece.start - removed  # piece.start counts the original text: body plus earlier furniture
            out += [self.text[taken:body_end], piece.text]
            taken, removed = body_end, removed + len(piece.text)
        out.append(self.text[taken:])
        return "".join(out)


def to_source(source_map: Sequence[Sequence[int]], start: int, end: int) -> tuple[int, int]:
    """Map the span [start:end] of an article's text to offsets in the input text as given.

    A start at a removal point moves past the removed text; an end exactly at one does not, so a span
    that no removal point cuts selects the same characters in both texts. A span with a removal point
    strictly inside it maps to the input range that also holds the removed text.
    """
    if not 0 <= start <= end:
        raise OffsetError(f"span [{start}:{end}] is not a span: need 0 <= start <= end")
    offsets = [offset for offset, _length in source_map]
    shifts = [0]
    for _offset, length in source_map:
        shifts.append(shifts[-1] + length)
    source_start = start + shifts[bisect_right(offsets, start)]
    return source_start, max(source_start, end + shifts[bisect_left(offsets, end)])


@dataclass(frozen=True)
class Relation:
    """A directed link between two spans of one annotation (e.g. an ACTOR to its OUTCOME)."""

    from_id: str
    to_id: str
    label: str

    def to_dict(self) -> dict[str, str]:
        return {"from_id": self.from_id, "to_id": self.to_id, "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Relation:
        return cls(str(data["from_id"]), str(data["to_id"]), str(data["label"]))


def relation_keys(spans: Iterable[Any], relations: Iterable[Relation]) -> list[RelationKey]:
    """Relations by their ends' (start, end, label) instead of span ids, in order; `spans` are anything with `id`
    and `key` (Span, gold spans). A relation with an end not among them is left out."""
    keys = {s.id: s.key for s in spans if s.id is not None}
    return [(keys[r.from_id], keys[r.to_id], r.label) for r in relations if r.from_id in keys and r.to_id in keys]


@dataclass(frozen=True)
class Document:
    """An article with spans: a pre-annotation, or a gold record. The JSONL shape of preannotate/evaluate."""

    id: str
    text: str
    spans: tuple[Span, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    model_version: str | None = None
    relations: tuple[Relation, ...] = ()  # between spans of this document, by Span.id

    def check(self, where: str = "") -> None:
        """Raise OffsetError unless every span selects its text and every relation joins two of its span ids."""
        where = where or f"document {self.id}"
        for span in self.spans:
            span.check(self.text, where)
        ids = [s.id for s in self.spans if s.id is not None]
        if len(set(ids)) != len(ids):
            raise OffsetError(f"{where}: two spans share an id; span ids must be unique within a document")
        for rel in self.relations:
            missing = [end for end in (rel.from_id, rel.to_id) if end not in ids]
            if missing:
                raise OffsetError(f"{where}: {rel.label} relation {rel.from_id} -> {rel.to_id} names "
                                  f"{', '.join(map(repr, missing))}, which is no span id of this document")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text, "meta": self.meta}
        if self.model_version is not None:
            out["model_version"] = self.model_version
        out["spans"] = [s.to_dict() for s in self.spans]
        out["relations"] = [r.to_dict() for r in self.relations]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            id=str(data["id"]),
            text=data["text"],
            spans=tuple(Span.from_dict(s) for s in data.get("spans", [])),
            meta=dict(data.get("meta") or {}),
            model_version=data.get("model_version"),
            relations=tuple(Relation.from_dict(r) for r in data.get("relations") or ()),
        )


@dataclass(frozen=True)
class Annotation:
    """One annotator's (or prediction's) result on one task, as pulled from Label Studio."""

    task_id: int
    article_id: str
    annotator: str
    spans: tuple[Span, ...]
    relations: tuple[Relation, ...] = ()
    annotation_id: int | None = None
    lead_time: float | None = None
    created_at: str | None = None
    updated_at: str | None = None
    ground_truth: bool = False
    cancelled: bool = False
    parent_prediction: int | None = None
    edited_by: str | None = None  # who saved it last, when someone other than its author did (else None)


@dataclass(frozen=True)
class Prediction:
    """A model's proposed spans (and relations between them) for one task, tagged with the model version that made them."""

    model_version: str
    spans: tuple[Span, ...]
    prediction_id: int | None = None
    score: float | None = None
    relations: tuple[Relation, ...] = ()  # between its spans, by Span.id


@dataclass(frozen=True)
class Task:
    """A pulled Label Studio task: the article, its predictions and every annotation on it.

    This is what the pull produces and what agreement, gold and the dashboard consume.
    """

    task_id: int
    article_id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    predictions: tuple[Prediction, ...] = ()
    annotations: tuple[Annotation, ...] = ()

    @property
    def completed(self) -> tuple[Annotation, ...]:
        """Annotations that count: submitted, not cancelled (skipped)."""
        return tuple(a for a in self.annotations if not a.cancelled)

    @property
    def final(self) -> tuple[Annotation, ...]:
        """One annotation per annotator, by annotator: their latest submitted one (a second annotation the same
        person made on the task replaces the first). Gold votes, agreement and the export gate all use these."""
        latest: dict[str, Annotation] = {}
        for ann in self.completed:
            old = latest.get(ann.annotator)
            if old is None or latest_first(ann) >= latest_first(old):
                latest[ann.annotator] = ann
        return tuple(latest[name] for name in sorted(latest))


def latest_first(ann: Annotation) -> tuple[str, int]:
    """The order in which annotations replace each other: last updated (or created), then the higher id."""
    return (ann.updated_at or ann.created_at or "", ann.annotation_id or 0)


def read_documents(path: Path | str, stream: Any = None) -> Iterator[Document]:
    """Stream Documents from a JSONL file (or from `stream`, named `path`), checking every span; errors name the
    file and line."""
    path = Path(path)
    try:
        handle = stream if stream is not None else path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", str(path)) from exc
    with contextlib.nullcontext(handle) if stream is not None else handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                doc = Document.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"expected a JSON object with id, text and spans (start, end, label, text): {exc}", str(path), number
                ) from exc
            try:
                doc.check()
            except OffsetError as exc:
                raise InputError(str(exc), str(path), number) from exc
            yield doc


def write_jsonl(rows: Iterable[dict[str, Any]], handle: Any) -> int:
    """Write dicts as JSON lines (UTF-8, stable key order as given); return the count."""
    count = 0
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
