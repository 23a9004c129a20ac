"""Token units from spaCy's English tokenizer, for callers that may not import spaCy themselves."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokenizer import Tokenizer


@lru_cache(maxsize=1)
def _blank_english() -> Language:
    return spacy.blank("en")


def tokenize_offsets(texts: Iterable[str]) -> list[list[tuple[int, int]]]:
    """(start, end) Python string offsets of each non-space token of each text (blank English tokenizer)."""
    nlp = _blank_english()
    tokenizer: Tokenizer = nlp.tokenizer  # a blank pipeline's is spaCy's Tokenizer, which has pipe()
    return [[(t.idx, t.idx + len(t.text)) for t in doc if not t.is_space] for doc in tokenizer.pipe(texts)]
