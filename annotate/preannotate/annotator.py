"""The Preannotator: one spaCy pipeline (assemble.build_pipeline) -> Documents with scored, sourced spans."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO

from spacy.language import Language
from spacy.tokens import Doc

from ..config import Settings
from ..errors import ConfigError
from ..records import Article, Document, Relation
from .assemble import META_KEY, build_pipeline
from .spangroups import MODEL, RULE_RELATIONS, RULES, get_candidates, to_document, to_records
from .stages import EntityStage


class Preannotator:
    """Pre-annotates Articles with a pipeline; `model_version` names the exact model + rules + code behind it."""

    def __init__(self, nlp: Language):
        if META_KEY not in nlp.meta:
            raise ConfigError("not a pre-annotator pipeline (no nlp.meta['preannotator']); build it with build_pipeline")
        self.nlp = nlp
        self.model_version: str = nlp.meta[META_KEY]["model_version"]

    @property
    def mapping(self) -> dict[str, str]:
        """Base-model entity label -> project label (empty without the rule components)."""
        if "annotate_entities" not in self.nlp.pipe_names:
            return {}
        stage = self.nlp.get_pipe("annotate_entities")
        assert isinstance(stage, EntityStage)
        return dict(stage.mapping)

    def document(self, doc: Doc, article: Article) -> Document:
        """The Document of an article whose text went through the whole pipeline as `doc`."""
        return to_document(doc, article, self.model_version)

    def annotate(self, articles: Iterable[Article], processes: int = 1, batch_size: int = 32) -> Iterator[Document]:
        """Stream Documents in input order; `processes` > 1 is nlp.pipe(n_process=...), with the same result."""
        pending: deque[Article] = deque()  # articles whose text spaCy has taken and whose Doc has not come back

        def texts() -> Iterator[str]:
            for article in articles:
                pending.append(article)
                yield article.text

        for doc in self.nlp.pipe(texts(), batch_size=batch_size, n_process=processes):
            yield self.document(doc, pending.popleft())


    def layers(self, articles: Iterable[Article], batch_size: int = 32) -> Iterator[dict[str, Document]]:
        """Per article, from one pass: {"rules", "model", "combined"} Documents (the rules' spans and all their
        relations, the trained model's spans, and the output); a layer the pipeline lacks has no spans."""
        info = self.nlp.meta[META_KEY]
        versions = {"rules": info.get("rules_version"), "model": info.get("trained"), "combined": self.model_version}
        articles = list(articles)
        for doc, article in zip(self.nlp.pipe([a.text for a in articles], batch_size=batch_size), articles,
                                strict=True):
            rules = to_records(doc, get_candidates(doc, RULES), article.text)
            relations = tuple(Relation(*r) for r in getattr(doc._, RULE_RELATIONS) or ())
            model = to_records(doc, get_candidates(doc, MODEL), article.text)
            meta = dict(article.meta)
            yield {"rules": Document(article.id, article.text, tuple(rules), meta, versions["rules"], relations),
                   "model": Document(article.id, article.text, tuple(model), meta, versions["model"]),
                   "combined": self.document(doc, article)}


def build_rule_preannotator(settings: Settings, model: str | None = None) -> Preannotator:
    """The rules on the base model (`model` or settings.spacy_model): build_pipeline without a trained model."""
    return Preannotator(build_pipeline(settings, model))


def write_documents(documents: Iterable[Document], handle: IO[str]) -> int:
    """Write Documents as JSON lines as they come, checking every span's offsets first; return the count."""
    count = 0
    for doc in documents:
        doc.check(f"article {doc.id}")
        handle.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count
