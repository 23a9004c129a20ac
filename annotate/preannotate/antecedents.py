"""What a pointing word stands for: "they", "it", "the group" and the earlier mention they point back to.

Guidelines section 6, rule 2: a party or place given only by a pronoun or "the group" links the nearest
earlier marked mention of it.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from ..records import Span
from .deptree import SUBJECTS
from .relrules import RelationRules


def is_pointer(tok: Token, rules: RelationRules) -> bool:
    """A pronoun or a bare noun that only points back ("they", "the group")."""
    if tok.lower_ in rules["subject_pronouns"]:
        return True
    return tok.lower_ in rules["pointer_nouns"] and any(c.lower_ == "the" for c in tok.children) \
        and len(list(tok.children)) == 1


def antecedent(pron: Token, owner: dict[int, Span], rules: RelationRules, hops: int = 3) -> Span | None:
    """The ACTOR a subject pronoun or "the group" stands for: the nearest earlier actor that is a subject
    (of its verb, or the named party in it: "Dozens of his fighters") within a few sentences, or what
    a nearer "the group" stands for ("X emerged ... The group was pushed out ... it has recaptured")."""
    person = pron.lower_ in rules["person_pronouns"]
    doc, first = pron.doc, pron.sent.start
    for _ in range(int(rules.places.get("antecedent_sentences", 2))):
        if first > 0:
            first = doc[first - 1].sent.start
    for i in range(pron.i - 1, first - 1, -1):
        span = owner.get(i)
        if span is None and hops and _chains(doc[i], person, rules):
            # the nearer pointer is the nearer mention: it stands for the same party, so follow it back
            return antecedent(doc[i], owner, rules, hops - 1)
        if span is None or span.label != "ACTOR" or (person and doc[i].ent_type_ != "PERSON"):
            continue
        if _is_subject(span, pron.doc):
            return span
    return None


def previous_subject(word: Token, owner: dict[int, Span]) -> Span | None:
    """The last actor that is a subject in the sentence before `word`'s ("X shelled Y. ... died as a result")."""
    start = word.sent.start
    if start == 0:
        return None
    for i in range(start - 1, word.doc[start - 1].sent.start - 1, -1):
        span = owner.get(i)
        if span is not None and span.label == "ACTOR" and _is_subject(span, word.doc):
            return span
    return None


def _is_subject(span: Span, doc: Doc) -> bool:
    """True when the actor is its verb's subject, or the named party in it ("Dozens of his fighters")."""
    piece = doc.char_span(span.start, span.end)
    if piece is None:
        return False  # offsets off the token grid: not one of this Doc's spans
    root = piece.root
    while root.dep_ in ("conj", "compound") or (root.dep_ == "pobj" and root.head.lower_ in ("of", "from")):
        root = root.head.head if root.dep_ == "pobj" else root.head
    return root.dep_ in SUBJECTS


def _chains(tok: Token, person: bool, rules: RelationRules) -> bool:
    """A subject "the group" (not a person's pronoun's antecedent) that a later pointer may stand for.

    Only the pointer nouns: they always name a party, where "it" may stand for a claim or a town."""
    return not person and tok.dep_ in SUBJECTS and tok.lower_ in rules["pointer_nouns"] and is_pointer(tok, rules)
