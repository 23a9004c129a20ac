"""Walking a spaCy dependency parse: the small tree moves the relation rules are built from."""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Token

from ..records import Span
from .relrules import Step

SUBJECTS = ("nsubj", "nsubjpass")
# Links below which a word belongs to a clause of its own, not to the outcome's.
_OWN_CLAUSES = ("relcl", "ccomp", "advcl", "acl", "conj", "parataxis", "xcomp")


def predicates(word: Token) -> list[Token]:
    """The words whose arguments the outcome takes: itself, or for "under siege" the noun, then the verb."""
    if word.pos_ != "ADP":
        return [word]
    nouns = [c for c in word.children if c.dep_ == "pobj"]
    return nouns + ([word.head] if word.head.pos_ in ("VERB", "AUX") else [])


def follow(start: Token, steps: tuple[Step, ...]) -> list[Token]:
    """The words `steps` lead to from `start` (none when a step finds no such child or head)."""
    nodes = [start]
    for step in steps:
        if step.up:
            nodes = [n.head for n in nodes if n.dep_ == step.dep and n.head.i != n.i]
        else:
            nodes = [c for n in nodes for c in n.children
                     if c.dep_ == step.dep and (not step.words or c.lower_ in step.words)]
    return nodes


def in_apposition(tok: Token, root: Token) -> bool:
    """True when `tok` lies inside an apposition ("ISIL, a version of al Qaeda in Iraq")."""
    while tok.i != root.i and tok.head.i != tok.i:
        if tok.dep_ == "appos":
            return True
        tok = tok.head
    return False


def conjuncts(tok: Token) -> list[Token]:
    """Every word joined to `tok` by a chain of conj links ("A, B and C"), nearest first."""
    out, todo = [], [tok]
    while todo:
        for child in todo.pop().children:
            if child.dep_ == "conj":
                out.append(child)
                todo.append(child)
    return out


def clause_tokens(pred: Token, depth: int) -> Iterator[Token]:
    """Tokens below `pred` that are not inside a clause of their own (relative, complement, adverbial)."""
    todo = [(pred, 0)]
    while todo:
        tok, level = todo.pop()
        yield tok
        if level < depth:
            todo += [(c, level + 1) for c in tok.children if c.dep_ not in _OWN_CLAUSES]


def unique_spans(spans: list[Span]) -> list[Span]:
    """`spans` without repeats, in their first order."""
    out: list[Span] = []
    for span in spans:
        if span not in out:
            out.append(span)
    return out
