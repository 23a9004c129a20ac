"""Models trained by `annotate train`: the folder (meta.json + model/), and the `annotate_model` component.

Each predicted entity gets a probability from the trained NER's own per-step softmax along its greedy parse,
at the temperature `annotate train` fitted on dev (nerscores.py says why not the beam's), so spans and tasks can
be ordered by uncertainty.

The component keeps the trained pipeline whole, as a sub-pipeline saved in its own folder: the model then
sees the lexical features (vocab, norms) it was trained with, whatever base pipeline the rules run on. It
reads the outer Doc's tokens, so its spans line up with the rules' token for token. It proposes only the
schema's labels (`labels`): a fine-tuned pretrained NER keeps some of its own (NORP, CARDINAL...) after short
training, and those are dropped. With a `calibration` mapping (meta.json's, fitted on dev by `annotate train`)
its scores go through it after the temperature, so the uncertainty order of tasks uses calibrated scores.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from spacy.util import minibatch

from ..errors import ConfigError
from ..records import Article, Document
from ..training.calibration import apply_mapping
from .combine import Located
from .nerscores import Parse, parse_greedy
from .resolve import Candidate
from .spangroups import MODEL, put_candidates, register_extensions, to_records

SOURCE = "model"
META_FILE = "meta.json"
MODEL_DIR = "model"
KIND = "annotate-ner"  # marks a folder as a model trained by `annotate train`

L = TypeVar("L", bound=Located)


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


def parse_docs(nlp: Language, docs: list[Doc]) -> list[Doc]:
    """`docs` through the trained pipeline's components, its NER left to `scored_entities` (one parse, not two)."""
    for name, proc in nlp.pipeline:
        if name != "ner":
            docs = list(proc.pipe(docs)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
    return docs


def greedy_parses(nlp: Language, docs: list[Doc]) -> list[Parse]:
    """The NER's greedy parses of Docs that `parse_docs` ran through the rest of the pipeline (none: no NER)."""
    if "ner" not in nlp.pipe_names:
        return [Parse([]) for _ in docs]
    return parse_greedy(cast(EntityRecognizer, nlp.get_pipe("ner")), docs)


def scored_entities(parse: Parse, temperature: float = 1.0) -> list[Candidate]:
    """The parse's entities as candidates, each scored with its probability at `temperature`."""
    return [Candidate(s, e, label, round(p, 3), SOURCE) for s, e, label, p in parse.scored(temperature)]


def in_schema(spans: Iterable[L], labels: Collection[str]) -> list[L]:
    """The spans whose label is one of the schema's `labels` (a pretrained NER's own labels never pass)."""
    return [s for s in spans if s.label in labels]


def calibration_mapping(meta: dict[str, Any]) -> dict[str, Any]:
    """The score mapping of a trained model's meta.json, {} unless `annotate train` applied one on dev."""
    model = (meta.get("calibration") or {}).get("model") or {}
    return dict(model["mapping"]) if model.get("applied") and model.get("mapping") else {}


def score_temperature(meta: dict[str, Any]) -> float:
    """The softmax temperature of a trained model's meta.json (fitted on dev by `annotate train`), else 1."""
    return float(((meta.get("calibration") or {}).get("model") or {}).get("temperature") or 1.0)


class ModelStage:
    """The `annotate_model` component: the trained pipeline's scored spans as doc.spans["annotate_model"]."""

    def __init__(self, nlp: Language, name: str, temperature: float, labels: list[str], calibration: dict[str, Any]):
        self.name, self.temperature = name, temperature
        self.labels = frozenset(labels)
        self.calibration = dict(calibration)
        self.model: Language | None = None
        register_extensions()

    def _trained(self) -> Language:
        if self.model is None:
            raise ConfigError(f"pipeline component {self.name!r} has no trained model: build the pipeline with "
                              "preannotate.build_pipeline or load a saved one with spacy.load")
        return self.model

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc], batch_size=1)))

    def proposed(self, cands: Iterable[Candidate]) -> list[Candidate]:
        """The candidates of schema labels only, their scores through the calibration mapping (if any)."""
        kept = in_schema(cands, self.labels)
        if not self.calibration:
            return kept
        return [replace(c, score=round(apply_mapping(self.calibration, c.score), 3)) for c in kept]

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterator[Doc]:
        model = self._trained()
        if not self.labels:
            raise ConfigError(f"pipeline component {self.name!r} has no schema labels to propose: build the pipeline "
                              "with preannotate.build_pipeline")
        for batch in minibatch(docs, batch_size):
            inner = [Doc(model.vocab, words=[t.text for t in d], spaces=[bool(t.whitespace_) for t in d]) for d in batch]
            for doc, parse in zip(batch, greedy_parses(model, parse_docs(model, inner)), strict=True):
                put_candidates(doc, MODEL, self.proposed(scored_entities(parse, self.temperature)))
                yield doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        self._trained().to_disk(path)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ModelStage:
        self.model = spacy.load(path)
        return self


@Language.factory("annotate_model", default_config={"temperature": 1.0, "labels": [], "calibration": {}})
def make_model(nlp: Language, name: str, temperature: float, labels: list[str], calibration: dict[str, Any]) -> ModelStage:
    """The trained model stage proposing the schema's `labels` (its pipeline given by `.model = ...` or from_disk)."""
    return ModelStage(nlp, name, temperature, labels, calibration)


class TrainedModel:
    """A trained pipeline and its meta.json; `documents()` turns articles into scored Documents (model only).

    Raw, unlike the model stage: every label the trained pipeline predicts, scores at the temperature of meta.json
    (or the one given) but not through the calibration mapping (what the dev evaluation measures and fits)."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder).expanduser()
        self.meta: dict[str, Any] = read_meta(self.folder)
        self.model_version: str = self.meta["version"]
        self.temperature = score_temperature(self.meta)

    @cached_property
    def nlp(self) -> Language:
        return load_trained(self.folder)

    def parses(self, articles: Iterable[Article], batch_size: int = 32) -> Iterator[tuple[Article, Doc, Parse]]:
        """(article, doc, greedy parse) in input order: parse once, score at any temperature (`documents_of`)."""
        for batch in minibatch(articles, batch_size):
            docs = parse_docs(self.nlp, [self.nlp.make_doc(a.text) for a in batch])
            yield from zip(batch, docs, greedy_parses(self.nlp, docs), strict=True)

    def documents_of(self, parsed: Iterable[tuple[Article, Doc, Parse]], temperature: float | None = None
                     ) -> list[Document]:
        """Documents of parsed articles, each entity scored at `temperature` (None: meta.json's)."""
        t = self.temperature if temperature is None else temperature
        return [Document(article.id, article.text, tuple(to_records(doc, scored_entities(parse, t))), dict(article.meta),
                         self.model_version) for article, doc, parse in parsed]

    def documents(self, articles: Iterable[Article], batch_size: int = 32,
                  temperature: float | None = None) -> Iterator[Document]:
        """Documents in input order, spans from the trained model only."""
        for parsed in minibatch(self.parses(articles, batch_size), batch_size):
            yield from self.documents_of(parsed, temperature)
