"""Gold records -> spaCy Docs: the train/dev DocBin files, and the token view CoNLL and events use.

spaCy is imported only inside annotate/preannotate (one package per third-party library), so the DocBin
writer lives here and hands plain Python tuples back to the exporters.

Relations travel in `doc.user_data["relations"]`: a list of `[head, child, type]`, where head and child index
`doc.spans["sc"]` (head = the relation's from span, child = its to span, as in gold.jsonl), e.g.
`[0, 1, "agent_of"]`, which is what a spaCy `rel` component's reader needs. A relation to a span that covers no
token (left out of `doc.spans["sc"]`, reported as an alignment problem) is left out too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.tokens import Span as SpacySpan
from spacy.util import filter_spans

from ..files import atomic_write
from ..records import RelationKey, SpanKey

# Only what NER training needs; no sentence starts, so the sentencizer used for CoNLL does not leak in.
DOCBIN_ATTRS = ["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE"]
SPAN_KEY = "sc"



@dataclass(frozen=True)
class GoldInput:
    """What the writer needs of one gold record: id, text, spans as (start, end, label), relations between them."""

    id: str
    text: str
    spans: tuple[SpanKey, ...]
    relations: tuple[RelationKey, ...] = ()


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int
    sent_start: bool
    tag: str  # BIO tag from the non-overlapping entities, e.g. "B-ACTOR", "O"


@dataclass(frozen=True)
class DocView:
    """One converted record: tokens (whitespace dropped), sentences, and where each span ended up."""

    id: str
    tokens: tuple[Token, ...]
    sentences: tuple[tuple[int, int], ...]
    aligned: Mapping[SpanKey, tuple[int, int] | None]  # gold span -> token-aligned (start, end), None if none
    in_ents: frozenset[SpanKey]  # gold spans also in doc.ents (the rest overlap another span)


@lru_cache(maxsize=1)
def _nlp() -> Language:
    """Blank English: the rule-based tokenizer plus the rule-based sentencizer, no model to load."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _convert(record: GoldInput) -> tuple[Doc, DocView]:
    doc = _nlp()(record.text)
    aligned: dict[SpanKey, tuple[int, int] | None] = {}
    group: list[SpacySpan] = []
    by_span: dict[tuple[int, int, str], SpanKey] = {}
    index: dict[SpanKey, int] = {}
    for key in record.spans:
        start, end, label = key
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        # Whitespace between tokens expands to an empty or all-space span: no token to train on; reported.
        if span is not None and all(t.is_space for t in span):
            span = None
        aligned[key] = None if span is None else (span.start_char, span.end_char)
        if span is not None:
            index.setdefault(key, len(group))
            group.append(span)
            by_span[(span.start, span.end, label)] = key
    doc.spans[SPAN_KEY] = group
    # Lists, not tuples: that is what msgpack gives back when the DocBin is read.
    doc.user_data["relations"] = [[index[a], index[b], kind] for a, b, kind in record.relations
                                  if a in index and b in index]
    doc.ents = filter_spans(group)
    in_ents = frozenset(by_span[(e.start, e.end, e.label_)] for e in doc.ents)
    doc.user_data["id"] = record.id
    tokens = tuple(
        Token(t.text, t.idx, t.idx + len(t.text), bool(t.is_sent_start), f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O")
        for t in doc
        if not t.is_space
    )
    return doc, DocView(record.id, tokens, _sentences(doc), aligned, in_ents)


def _sentences(doc: Doc) -> tuple[tuple[int, int], ...]:
    """Sentencizer sentences, also cut at line breaks (headlines and datelines end without a full stop)."""
    out = []
    for sent in doc.sents:
        start = sent.start_char
        for token in sent:
            if token.is_space and "\n" in token.text and token.ent_iob_ != "I":
                if token.idx > start:
                    out.append((start, token.idx))
                start = token.idx + len(token.text)
        if sent.end_char > start:
            out.append((start, sent.end_char))
    return tuple(out)


def write_docbins(records: Iterable[GoldInput], sides: Mapping[str, str], folder: Path,
                  names: Sequence[str] = ("train", "dev")) -> list[DocView]:
    """Write `<side>.spacy` per side into `folder` (every name in `names`, even if empty); return the token views."""
    bins: dict[str, DocBin] = {}
    views = []
    for record in records:
        doc, view = _convert(record)
        side = sides[record.id]
        bins.setdefault(side, DocBin(attrs=DOCBIN_ATTRS, store_user_data=True)).add(doc)
        views.append(view)
    for side in sorted(set(names) | set(bins)):
        with atomic_write(Path(folder) / f"{side}.spacy", "wb") as handle:
            handle.write(bins.get(side, DocBin(attrs=DOCBIN_ATTRS, store_user_data=True)).to_bytes())
    return views
