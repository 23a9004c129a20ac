"""Rules and trained model combined per label: the `annotate_combine` component and the one definition of it.

Each label has a source: "rules" (only the rules' spans of that label), "model" (only the model's) or
"both" (the rules' spans whole, plus the model's spans, most confident first, that overlap no rule span of
any label and no model span taken before). A label without a choice is "both", the behaviour before
per-label sources existed.

Per label the output is exactly what that label's source gives on its own: a "rules" or "model" label is
copied whole, and a "both" label's model spans are tested against every rule span whatever the other
labels chose, so its output does not depend on their choices. The price: spans of two labels with
different sources may overlap ("model" ACTOR over a "rules" LOCATION); both are kept, for the annotator
to settle, instead of silently dropping one label's spans. Rule relations are kept when both of their
spans are in the output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import numpy
from spacy.language import Language
from spacy.tokens import Doc

from ..errors import ConfigError
from ..records import Document, span_id
from ..scoring import SpanLike
from .spangroups import (
    MODEL,
    OUTPUT,
    RELATIONS,
    RULE_RELATIONS,
    RULES,
    get_candidates,
    put_candidates,
    register_extensions,
)

SOURCES = ("rules", "model", "both")
DEFAULT_SOURCE = "both"


class Located(SpanLike, Protocol):
    """What combining needs of a span: scoring's (start, end, label) and a score (records.Span, resolve.Candidate)."""

    @property
    def score(self) -> float | None: ...


S = TypeVar("S", bound=Located)


def check_sources(sources: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of `sources` (label -> "rules" | "model" | "both"); ConfigError naming a bad value."""
    out = dict(sources or {})
    for label, source in out.items():
        if source not in SOURCES:
            raise ConfigError(f"source {source!r} for label {label!r} is not one of {', '.join(SOURCES)}")
    return out


def combine_by_source(rule_spans: Sequence[S], model_spans: Sequence[S], sources: Mapping[str, str]) -> list[S]:
    """The spans each label's source gives (see the module docstring), ordered by (start, end, label)."""
    choice: Callable[[S], str] = lambda s: sources.get(s.label, DEFAULT_SOURCE)  # noqa: E731
    out = [s for s in rule_spans if choice(s) in ("rules", "both")]
    out += [s for s in model_spans if choice(s) == "model"]
    out += [s for s in _added(rule_spans, model_spans) if choice(s) == "both"]
    return sorted(out, key=lambda s: (s.start, s.end, s.label))


def _added(kept: Sequence[S], extra: Sequence[S]) -> list[S]:
    """The spans of `extra` (most confident first) that overlap nothing in `kept` nor any taken before."""
    taken = list(kept)
    out = []
    for span in sorted(extra, key=lambda s: (-(s.score or 0.0), s.start)):
        if all(span.end <= k.start or k.end <= span.start for k in taken):
            taken.append(span)
            out.append(span)
    return out


def combine_documents(rules: Sequence[Document], model: Sequence[Document], sources: Mapping[str, str],
                      model_version: str | None = None) -> list[Document]:
    """combine_by_source per pair of Documents (same articles, same order); a rule relation stays when both of
    its spans do. `model_version` defaults to "<model's>+<rules'>"."""
    out = []
    for r, m in zip(rules, model, strict=True):
        spans = tuple(combine_by_source(r.spans, m.spans, sources))
        kept = {s.id for s in spans}
        relations = tuple(rel for rel in r.relations if rel.from_id in kept and rel.to_id in kept)
        version = model_version or f"{m.model_version}+{r.model_version}"
        out.append(Document(r.id, r.text, spans, r.meta, version, relations))
    return out


class Combiner:
    """The `annotate_combine` component: writes doc.spans["annotate"] and doc._.annotate_relations."""

    def __init__(self, nlp: Language, name: str, sources: dict[str, str], keep_tensor: bool):
        self.name = name
        self.sources = check_sources(sources)
        self.keep_tensor = keep_tensor
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        spans = combine_by_source(get_candidates(doc, RULES), get_candidates(doc, MODEL), self.sources)
        put_candidates(doc, OUTPUT, spans)
        ids = {span_id(doc[c.start].idx, doc[c.end - 1].idx + len(doc[c.end - 1]), c.label) for c in spans}
        relations: Iterable[Any] = getattr(doc._, RULE_RELATIONS) or ()
        setattr(doc._, RELATIONS, [r for r in relations if r[0] in ids and r[1] in ids])
        if not self.keep_tensor:
            # nothing after this reads it; dropping it keeps Doc.to_bytes (n_process > 1) small
            doc.tensor = numpy.zeros((0,), dtype="float32")
        return doc


@Language.factory("annotate_combine", default_config={"sources": {}, "keep_tensor": False})
def make_combine(nlp: Language, name: str, sources: dict[str, str], keep_tensor: bool) -> Combiner:
    """Combine doc.spans["annotate_rules"] and ["annotate_model"] by per-label `sources` (default "both")."""
    return Combiner(nlp, name, sources, keep_tensor)
