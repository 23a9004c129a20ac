"""spaCy pre-annotation: the only package that imports spaCy. Imports are lazy: nothing loads until called."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .pipeline import Preannotator

__all__ = ["build_preannotator", "tokenize_offsets", "resolve_model"]


def build_preannotator(settings: Settings, model: str | None = None, with_rules: bool = True) -> Preannotator:
    """Build the pre-annotator from settings (model name or folder, schema mapping, rule files).

    A folder from `annotate train` gives the trained model, combined with the rules unless `with_rules` is False.
    """
    from .pipeline import build_preannotator as build

    return build(settings, model, with_rules)


def tokenize_offsets(texts: Iterable[str]) -> list[list[tuple[int, int]]]:
    """(start, end) offsets of each non-space token of each text, from spaCy's blank English tokenizer."""
    from .tokens import tokenize_offsets as tokenize

    return tokenize(texts)


def resolve_model(name: str) -> str:
    """The installed package or folder that the model name `name` resolves to (raises ConfigError if none)."""
    from .model import resolve_model as resolve

    return resolve(name)
