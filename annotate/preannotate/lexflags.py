"""Word-list token tests ({"LOWER": {"IN": [...]}}) as lexeme flags, which spaCy's Matcher checks natively.

The Matcher runs an IN / NOT_IN test on LOWER or ORTH as a Python call per token and pattern state: on the
rules' leading "*"/"+" tokens that was most of the rule stages' time. Both attributes belong to the lexeme,
not the token, so the same test can be a flag (Vocab.add_flag) computed once per vocabulary entry and read
in C by the Matcher, with the same result. Tests on token attributes (POS, DEP, ENT_TYPE) stay as they are.
"""

from __future__ import annotations

from typing import Any

from spacy.vocab import Vocab

_LEXEME_ATTRS = {"LOWER": True, "ORTH": False, "TEXT": False}  # attribute -> compare in lower case


class WordTest:
    """A picklable flag getter: is the lexeme's text (lower-cased for LOWER) one of `words`?"""

    def __init__(self, words: frozenset[str], lower: bool):
        self.words, self.lower = words, lower

    def __call__(self, text: str) -> bool:
        return (text.lower() if self.lower else text) in self.words


def word_flag(vocab: Vocab, words: frozenset[str], lower: bool) -> int:
    """The flag id of the test "text in words" on `vocab`, added once per vocab and word set."""
    for flag, getter in vocab.lex_attr_getters.items():  # type: ignore[attr-defined]  # (a cdef attribute spaCy does not stub)
        if isinstance(getter, WordTest) and (getter.words, getter.lower) == (words, lower):
            return int(flag)
    return int(vocab.add_flag(WordTest(words, lower)))


def compile_pattern(vocab: Vocab, pattern: list[dict[str, Any]]) -> list[dict[Any, Any]]:
    """`pattern` with every single IN / NOT_IN test on LOWER or ORTH replaced by its lexeme flag."""
    out = []
    for token in pattern:
        spec: dict[Any, Any] = {}
        for attr, value in token.items():
            lower = _LEXEME_ATTRS.get(attr.upper()) if isinstance(attr, str) else None
            if lower is not None and isinstance(value, dict) and len(value) == 1 and set(value) <= {"IN", "NOT_IN"}:
                (predicate, words), = value.items()
                spec[word_flag(vocab, frozenset(str(w) for w in words), lower)] = predicate == "IN"
            else:
                spec[attr] = value
        out.append(spec)
    return out
