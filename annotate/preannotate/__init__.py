"""spaCy pre-annotation: the only package that imports spaCy. Imports are lazy: nothing loads until called."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from .annotator import Preannotator
    from .trained import TrainedPreannotator

__all__ = ["build_preannotator", "tokenize_offsets", "resolve_model"]


def build_preannotator(settings: Settings, model: str | None = None, with_rules: bool = True) -> Preannotator | TrainedPreannotator:
    """Build the pre-annotator from settings (model name or folder, schema mapping, rule files).

    A folder from `annotate train` gives the trained model, combined with the rules unless `with_rules` is False.
    """
    from .trained import build_trained_preannotator, is_trained_model

    if is_trained_model(model):
        assert model is not None
        return build_trained_preannotator(settings, model, with_rules)
    from .annotator import build_rule_preannotator

    return build_rule_preannotator(settings, model)


def tokenize_offsets(texts: Iterable[str]) -> list[list[tuple[int, int]]]:
    """(start, end) offsets of each non-space token of each text, from spaCy's blank English tokenizer."""
    from .tokens import tokenize_offsets as tokenize

    return tokenize(texts)


def resolve_model(name: str) -> str:
    """The installed package or folder that the model name `name` resolves to (raises ConfigError if none)."""
    from .model import resolve_model as resolve

    return resolve(name)
