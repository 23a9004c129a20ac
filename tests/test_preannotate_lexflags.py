"""Word-list tests as lexeme flags: the compiled patterns match exactly what the written ones match."""

from __future__ import annotations

import pytest
import spacy
from spacy.matcher import Matcher

from annotate.preannotate.lexflags import compile_pattern, word_flag

PATTERNS = [
    [{"LOWER": {"IN": ["front", "army"]}}],
    [{"LOWER": {"NOT_IN": ["the", "a"]}, "OP": "+"}, {"LOWER": {"IN": ["front"]}}],
    [{"ORTH": {"IN": ["'s", "’s"]}}, {"TEXT": {"NOT_IN": ["Army"]}}],
    [{"POS": {"IN": ["PROPN"]}, "LOWER": {"IN": ["al", "nusra"]}, "OP": "*"}, {"lower": {"IN": ["Front", "front"]}}],
    [{"LOWER": {"IN": ["x"], "NOT_IN": ["y"]}}],  # two tests in one dict: left as it is
]
TEXTS = ["The Al Nusra Front and the Syrian army's Front said FRONT ARMY front", "Army's Army 's front army"]


def _matches(nlp, pattern, text: str) -> list[tuple[int, int]]:
    matcher = Matcher(nlp.vocab, validate=False)
    matcher.add("p", [pattern])
    return sorted((s, e) for _, s, e in matcher(nlp(text)))


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("text", TEXTS)
def test_compiled_patterns_match_the_same_tokens(pattern, text: str) -> None:
    nlp = spacy.blank("en")
    compiled = compile_pattern(nlp.vocab, pattern)
    assert compiled != pattern or pattern[0]["LOWER"].keys() == {"IN", "NOT_IN"}
    assert _matches(nlp, compiled, text) == _matches(nlp, pattern, text)


def test_one_flag_per_word_set_and_case() -> None:
    vocab = spacy.blank("en").vocab
    first = word_flag(vocab, frozenset({"front"}), lower=True)
    assert word_flag(vocab, frozenset({"front"}), lower=True) == first
    assert word_flag(vocab, frozenset({"front"}), lower=False) != first
    assert vocab["FRONT"].check_flag(first) and not vocab["FRONT"].check_flag(word_flag(vocab, frozenset({"front"}), False))
