"""The Preannotator: base spaCy pipeline + rules -> Documents with scored, sourced spans."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO

from spacy.language import Language
from spacy.tokens import Doc

from ..config import Settings
from ..records import Article, Document, Span, span_id
from ..schema import Schema, load_schema
from .matchers import RuleMatcher, model_candidates, quoted_parties, reporting_sources, taken_places
from .model import load_model, model_version
from .outcome import OutcomeFinder
from .relations import RelationFinder
from .relrules import RelationRules, load_relation_rules
from .resolve import Candidate, clean, extend_names, propagate, resolve
from .rules import SOURCE_LABEL, RuleSet, load_rules


class Preannotator:
    """Pre-annotates Articles; `model_version` names the exact model + rules + code that produced the spans."""

    def __init__(self, nlp: Language, schema: Schema, rules: RuleSet, settings: Settings | None = None,
                 model: str | None = None, relations: RelationRules | None = None):
        self.nlp = nlp
        self.mapping = {m: label.name for label in schema.labels for m in label.model_labels}
        self.rules = rules
        self.matcher = RuleMatcher(nlp, rules)
        self.outcomes = OutcomeFinder(rules)
        self.relations = RelationFinder(relations or RelationRules({}, {}, ()))
        self.attribute_suffixes = rules.words("attribute_suffixes")
        self.reporting_verbs = rules.words("reporting_verbs")
        self.event_nouns = rules.words("event_nouns")
        self.place_verbs = rules.words("place_taking_verbs")
        self.group_heads = rules.words("group_heads") | rules.words("weak_group_heads")
        self.model_version = model_version(nlp, rules.digest, json.dumps(self.mapping, sort_keys=True))
        # What a worker process needs to rebuild this pre-annotator (see parallel.py).
        self.settings, self.model = settings, model

    def spans(self, doc: Doc, text: str | None = None) -> list[Span]:
        """The resolved spans of a parsed Doc, checked against its text (`text`, if known), in text order."""
        text = doc.text if text is None else text
        entities = self._entities(doc)
        final = resolve([*entities, *self.outcomes(doc, entities)])
        spans = []
        for cand in final:
            if cand.label == SOURCE_LABEL:
                continue  # a cited source: kept only to block ACTOR on these words
            piece = doc[cand.start : cand.end]
            span = Span(piece.start_char, piece.end_char, cand.label, piece.text, round(cand.score, 3), cand.source,
                        span_id(piece.start_char, piece.end_char, cand.label))
            span.check(text)
            spans.append(span)
        return spans

    def _entities(self, doc: Doc) -> list[Candidate]:
        raw = [*self.matcher(doc), *model_candidates(doc, self.mapping, self.event_nouns), *reporting_sources(doc, self.reporting_verbs),
               *taken_places(doc, self.place_verbs)]
        entities = [c for c in raw if c.label != "OUTCOME"]
        patterned_outcomes = [c for c in raw if c.label == "OUTCOME"]
        first = extend_names(doc, resolve(self._clean(doc, entities)), self.group_heads)
        second = resolve([*first, *self._clean(doc, propagate(doc, first))])
        second = quoted_parties(doc, second, self.reporting_verbs)
        return [*second, *patterned_outcomes]

    def _clean(self, doc: Doc, cands: Iterable[Candidate]) -> list[Candidate]:
        cleaned = (clean(doc, c, self.attribute_suffixes) for c in cands)
        return [c for c in cleaned if c is not None]

    def document(self, doc: Doc, article: Article) -> Document:
        """Wrap a parsed article as a Document: its spans and the relations proposed between them."""
        spans = self.spans(doc, article.text)
        return Document(article.id, article.text, tuple(spans), dict(article.meta), self.model_version,
                        tuple(self.relations(doc, spans)))

    def annotate(self, articles: Iterable[Article], processes: int = 1, batch_size: int = 32) -> Iterator[Document]:
        """Stream Documents in input order; `processes` > 1 parses in worker processes with the same result."""
        if processes > 1:
            from .parallel import annotate_parallel

            yield from annotate_parallel(self, build_rule_preannotator, articles, processes, batch_size)
            return
        pairs = ((a.text, a) for a in articles)
        for doc, article in self.nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            yield self.document(doc, article)


def build_rule_preannotator(settings: Settings, model: str | None = None) -> Preannotator:
    """Load the base model (`model` or settings.spacy_model), the schema mapping and the rule files."""
    schema = load_schema(settings.guidelines_dir)
    rules = load_rules(settings.guidelines_dir, schema.label_names)
    relations = load_relation_rules(settings.guidelines_dir, rules.lexicon)
    nlp = load_model(model or settings.spacy_model)
    return Preannotator(nlp, schema, rules, settings, model, relations)



def write_documents(documents: Iterable[Document], handle: IO[str]) -> int:
    """Write Documents as JSON lines as they come, checking every span's offsets first; return the count."""
    count = 0
    for doc in documents:
        doc.check(f"article {doc.id}")
        handle.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count
