"""Where the pipeline's components leave their results on a Doc, and the Doc -> records.Document step.

Each stage writes a span group (`doc.spans[key]`) whose attrs hold each span's score and source, so the
groups survive `Doc.to_bytes` (and with it `nlp.pipe(n_process=N)`): plain lists, no Python objects.
Relations go into the `doc._.annotate_rule_relations` / `doc._.annotate_relations` extensions as
[from_id, to_id, label] lists.
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Doc, SpanGroup
from spacy.tokens import Span as DocSpan

from ..records import Article, Document, Relation, Span, span_id
from .resolve import Candidate

ENTITIES = "annotate_entities"  # ACTOR/LOCATION/SOURCE candidates after resolution, and pattern OUTCOMEs
RULES = "annotate_rules"  # the rules' final spans
MODEL = "annotate_model"  # the trained model's spans
OUTPUT = "annotate"  # what the pre-annotator proposes: the combination of the two
RULE_RELATIONS = "annotate_rule_relations"
RELATIONS = "annotate_relations"


def register_extensions() -> None:
    """The Doc extensions the components write (idempotent; called by every component's constructor)."""
    for name in (RULE_RELATIONS, RELATIONS):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


def put_candidates(doc: Doc, key: str, cands: Iterable[Candidate]) -> None:
    """Store candidates as the span group `key`, scores and sources in its attrs."""
    cands = list(cands)
    attrs = {"scores": [c.score for c in cands], "sources": [c.source for c in cands]}
    spans = [DocSpan(doc, c.start, c.end, label=c.label) for c in cands]
    doc.spans[key] = SpanGroup(doc, name=key, attrs=attrs, spans=spans)


def get_candidates(doc: Doc, key: str) -> list[Candidate]:
    """The candidates of span group `key` (none if no component wrote it)."""
    if key not in doc.spans:
        return []
    group = doc.spans[key]
    scores, sources = group.attrs["scores"], group.attrs["sources"]
    return [Candidate(s.start, s.end, s.label_, score, source)
            for s, score, source in zip(group, scores, sources, strict=True)]


def to_records(doc: Doc, cands: Iterable[Candidate], text: str | None = None) -> list[Span]:
    """Candidates as records.Span (score rounded, id set), each checked against the article `text` if given.

    (Without `text` there is nothing to check: a span cut from the Doc selects its own text, and Doc.text is
    rebuilt from the tokens on every access, which costs more than the rest of this function.)"""
    out = []
    for cand in cands:
        piece = doc[cand.start : cand.end]
        span = Span(piece.start_char, piece.end_char, cand.label, piece.text, round(cand.score, 3), cand.source,
                    span_id(piece.start_char, piece.end_char, cand.label))
        if text is not None:
            span.check(text)
        out.append(span)
    return out


def to_document(doc: Doc, article: Article, model_version: str | None) -> Document:
    """The pre-annotator's Document for a Doc that went through the whole pipeline."""
    register_extensions()
    spans = to_records(doc, get_candidates(doc, OUTPUT), article.text)
    relations = tuple(Relation(*rel) for rel in getattr(doc._, RELATIONS) or ())
    return Document(article.id, article.text, tuple(spans), dict(article.meta), model_version, relations)
