"""Models trained by `annotate train`: the folder (meta.json + model/), and the `annotate_model` component.

Each predicted entity gets a probability from a beam search over the trained NER (the share of the beam's
probability mass whose parse contains that entity), so spans and tasks can be ordered by uncertainty.

The component keeps the trained pipeline whole, as a sub-pipeline saved in its own folder: the model then
sees the lexical features (vocab, norms) it was trained with, whatever base pipeline the rules run on. It
reads the outer Doc's tokens, so its spans line up with the rules' token for token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from spacy.util import minibatch

from ..errors import ConfigError
from ..records import Article, Document, Span
from .combine import combine_by_source
from .resolve import Candidate
from .spangroups import MODEL, put_candidates, register_extensions, to_records

BEAM_WIDTH = 16
SOURCE = "model"
META_FILE = "meta.json"
MODEL_DIR = "model"
KIND = "annotate-ner"  # marks a folder as a model trained by `annotate train`


def is_trained_model(model: str | Path | None) -> bool:
    """True when `model` is a folder written by `annotate train` (it has meta.json and model/)."""
    if not model:
        return False
    path = Path(model).expanduser()
    return (path / META_FILE).is_file() and (path / MODEL_DIR).is_dir()


def read_meta(folder: Path | str) -> dict[str, Any]:
    """meta.json of a trained model folder (ConfigError if it is not one)."""
    path = Path(folder) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a trained model's meta.json ({exc}); train one with `annotate train`") from exc
    if meta.get("kind") != KIND or not (Path(folder) / MODEL_DIR).is_dir():
        raise ConfigError(f"{folder}: not a model trained by `annotate train` (meta.json kind {meta.get('kind')!r}, "
                          f"expected {KIND!r}, and a {MODEL_DIR}/ folder)")
    return meta


def load_trained(folder: Path | str) -> Language:
    """The spaCy pipeline of a trained model folder (its model/)."""
    try:
        return spacy.load(Path(folder) / MODEL_DIR)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the trained pipeline in {folder}/{MODEL_DIR}: {exc}") from exc


def scored_entities(nlp: Language, doc: Doc, beam_width: int = BEAM_WIDTH) -> list[Candidate]:
    """The greedy entities of a Doc that `nlp` (a trained pipeline) parsed, each scored by the beam."""
    probs: dict[tuple[int, int, str], float] = {}
    if "ner" in nlp.pipe_names:
        ner = cast(EntityRecognizer, nlp.get_pipe("ner"))
        probs = ner.scored_ents(ner.beam_parse([doc], beam_width=beam_width))[0]
    return [Candidate(e.start, e.end, e.label_, round(min(1.0, probs.get((e.start, e.end, e.label_), 0.0)), 3), SOURCE)
            for e in doc.ents]


class ModelStage:
    """The `annotate_model` component: the trained pipeline's scored spans as doc.spans["annotate_model"]."""

    def __init__(self, nlp: Language, name: str, beam_width: int):
        self.name, self.beam_width = name, beam_width
        self.model: Language | None = None
        register_extensions()

    def _trained(self) -> Language:
        if self.model is None:
            raise ConfigError(f"pipeline component {self.name!r} has no trained model: build the pipeline with "
                              "preannotate.build_pipeline or load a saved one with spacy.load")
        return self.model

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc], batch_size=1)))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        model = self._trained()
        for batch in minibatch(docs, batch_size):
            inner = [Doc(model.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in batch]
            for doc, parsed in zip(batch, model.pipe(inner, batch_size=batch_size), strict=True):
                put_candidates(doc, MODEL, scored_entities(model, parsed, self.beam_width))
                yield doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self._trained().to_disk(path)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ModelStage:
        self.model = spacy.load(path)
        return self


@Language.factory("annotate_model", default_config={"beam_width": BEAM_WIDTH})
def make_model(nlp: Language, name: str, beam_width: int) -> ModelStage:
    """The trained model stage (its pipeline given by `.model = ...` or from_disk)."""
    return ModelStage(nlp, name, beam_width)


class TrainedModel:
    """A trained pipeline and its meta.json; `documents()` turns articles into scored Documents (model only)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder).expanduser()
        self.meta: dict[str, Any] = read_meta(self.folder)
        self.model_version: str = self.meta["version"]

    @cached_property
    def nlp(self) -> Language:
        return load_trained(self.folder)

    def spans(self, doc: Doc) -> list[Span]:
        """The greedy entities of a parsed doc, each scored with its beam probability."""
        return to_records(doc, scored_entities(self.nlp, doc))

    def documents(self, articles: Iterable[Article], batch_size: int = 32) -> Iterator[Document]:
        """Documents in input order, spans from the trained model only."""
        pairs = ((a.text, a) for a in articles)
        for doc, article in self.nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
            yield Document(article.id, article.text, tuple(self.spans(doc)), dict(article.meta), self.model_version)


def combine_spans(first: Sequence[Span], second: Sequence[Span], min_score: float = 0.0) -> tuple[Span, ...]:
    """`first` kept whole; spans of `second` (most confident first) added where they overlap nothing kept.

    combine.combine_by_source with every label "both" (`min_score` drops weaker spans of `second` first).
    """
    second = [s for s in second if (s.score or 0.0) >= min_score]
    return tuple(combine_by_source(list(first), second, {}))


class Annotates(Protocol):
    """Anything with `annotate(articles, processes, batch_size)` and a model_version (a Preannotator)."""

    model_version: str

    def annotate(self, articles: Iterable[Article], processes: int = 1, batch_size: int = 32) -> Iterator[Document]: ...


class TrainedPreannotator:
    """A trained model's Documents, optionally combined with a rule pre-annotator's (kept for older callers).

    The pre-annotator proper is one pipeline (preannotate.build_preannotator); this runs the two separately.
    """

    def __init__(self, model: TrainedModel, rules: Annotates | None = None):
        self.model = model
        self.rules = rules
        self.model_version = model.model_version + (f"+{rules.model_version}" if rules else "")

    def annotate(self, articles: Iterable[Article], processes: int = 1, batch_size: int = 32) -> Iterator[Document]:
        """Stream Documents in input order; with rules, both span sets are combined per document."""
        if self.rules is None:
            yield from self.model.documents(articles, batch_size)
            return
        articles = list(articles)
        ruled = self.rules.annotate(articles, processes=processes, batch_size=batch_size)
        for learned, rule_doc in zip(self.model.documents(articles, batch_size), ruled, strict=True):
            spans = combine_spans(rule_doc.spans, learned.spans)
            ids = {s.id for s in spans}
            relations = tuple(r for r in rule_doc.relations if r.from_id in ids and r.to_id in ids)
            yield Document(learned.id, learned.text, spans, learned.meta, self.model_version, relations)
