"""spaCy pre-annotation: the only package that imports spaCy. Imports are lazy: nothing loads until called.

The pre-annotator is one spaCy pipeline (assemble.py): build_pipeline makes it, save_pipeline writes it,
spacy.load (or load_preannotator) opens it again, and Preannotator turns its Docs into records.Document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

    from ..config import Settings
    from .annotator import Preannotator

__all__ = ["build_preannotator", "build_pipeline", "save_pipeline", "load_preannotator", "tokenize_offsets",
           "resolve_model"]


def build_preannotator(settings: Settings, model: str | None = None, with_rules: bool = True,
                       sources: Mapping[str, str] | None = None) -> Preannotator:
    """The pre-annotator for `model` (base model name or folder, a folder from `annotate train`, or a saved
    pre-annotator; default settings.spacy_model).

    A trained folder's model is combined with the rules per label by its meta.json "sources" ({label:
    "rules" | "model" | "both"}, missing: "both"); `sources` overrides them; `with_rules=False` gives the model alone.
    """
    from .annotator import Preannotator

    return Preannotator(build_pipeline(settings, model, sources, with_rules))


def build_pipeline(settings: Settings, model: str | None = None, sources: Mapping[str, str] | None = None,
                   with_rules: bool = True) -> Language:
    """The pre-annotator as one spaCy Language (see build_preannotator for the arguments)."""
    from .assemble import build_pipeline as build

    return build(settings, model, sources, with_rules)


def save_pipeline(nlp: Language, path: str | Path) -> Path:
    """Write a pipeline from build_pipeline to `path` (nlp.to_disk); spacy.load(path) opens it."""
    from .assemble import save_pipeline as save

    return save(nlp, path)


def load_preannotator(path: str | Path) -> Preannotator:
    """The pre-annotator saved at `path` by save_pipeline."""
    from .annotator import Preannotator
    from .assemble import load_pipeline

    return Preannotator(load_pipeline(path))


def tokenize_offsets(texts: Iterable[str]) -> list[list[tuple[int, int]]]:
    """(start, end) offsets of each non-space token of each text, from spaCy's blank English tokenizer."""
    from .tokens import tokenize_offsets as tokenize

    return tokenize(texts)


def resolve_model(name: str) -> str:
    """The installed package or folder that the model name `name` resolves to (raises ConfigError if none)."""
    from .model import resolve_model as resolve

    return resolve(name)
