"""The located_at search: the LOCATION spans an OUTCOME word's parse names as where it happened.

First the places under the outcome itself ("withdrew from Saraqeb to Sermin"), then those of a coordinated
outcome, then the nearest governing place in the sentence. A place named only as a reference point ("the border with Turkey") is never linked.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Token

from ..records import Span
from .deptree import predicates, unique_spans
from .relrules import RelationRules


class PlaceFinder:
    """The places of one outcome word by the `[places]` settings of relations.toml."""

    def __init__(self, rules: RelationRules):
        self.rules = rules
        self.depth = int(rules.places.get("depth", 6))
        self.levels = int(rules.places.get("governing_levels", 3))

    def __call__(self, word: Token, outcome: Span, owner: dict[int, Span]) -> list[Span]:
        """The LOCATION spans (from `owner`, token index -> span) where the outcome at `word` happened."""
        preds = predicates(word)
        pred = preds[-1]
        tops = {t.i: t for t in (word, *preds)}.values()
        places = [p for top in tops for p in self._places_under(top, owner, outcome, skip=None)]
        if places:
            return unique_spans(places)
        for conj in (c for c in pred.children if c.dep_ == "conj" and c.pos_ == pred.pos_):
            places += self._places_under(conj, owner, outcome, skip=None)  # "killed or injured in the fighting"
        if places:
            return unique_spans(places)
        return self._governing(pred, owner, outcome)

    def _governing(self, pred: Token, owner: dict[int, Span], outcome: Span) -> list[Span]:
        """The nearest governing place within the sentence, a few heads up from `pred`."""
        node = pred
        for _ in range(self.levels):
            if node.dep_ in self.rules.places.get("governing_stops", ()) or node.head.i == node.i:
                break
            came_from, node = node, node.head
            span = owner.get(node.i)
            if span is not None and span.label == "LOCATION" and not self._reference(node):
                return [span]
            places = self._places_under(node, owner, outcome, skip=came_from)
            if places:
                return unique_spans(places)
        return []

    def _reference(self, tok: Token) -> bool:
        """A place named only to say where another lies: "the border with Turkey", "between A and B"."""
        while tok.dep_ == "conj":
            tok = tok.head
        return tok.dep_ == "pobj" and tok.head.lower_ in self.rules.places.get("reference_preps", ())

    def _places_under(self, top: Token, owner: dict[int, Span], outcome: Span, skip: Token | None) -> list[Span]:
        """LOCATION spans reached from `top` through place preps and deps, then through container links."""
        places = self.rules.places
        frontier: list[tuple[Token, int]] = []
        for child in top.children:
            if skip is not None and child.i == skip.i:
                continue
            if child.dep_ in places.get("deps", ()):
                frontier.append((child, 1))
            elif child.dep_ == "prep" and child.lower_ in places.get("preps", ()):
                frontier += [(c, 2) for c in child.children if c.dep_ in ("pobj", "prep", "pcomp")]
        found: list[Span] = []
        while frontier:
            tok, depth = frontier.pop(0)
            span = owner.get(tok.i)
            is_place = span is not None and span.label == "LOCATION"
            if span is not None and is_place and span not in found and not self._reference(tok):
                found.append(span)
            if depth >= self.depth or self._reference(tok):
                continue
            frontier += [(c, depth + n) for c, n in self._container_links(tok, is_place)]
        return found

    def _container_links(self, tok: Token, is_place: bool) -> Iterator[tuple[Token, int]]:
        """Children of `tok` that still name where the event is, with the steps taken to reach them."""
        places = self.rules.places
        for child in tok.children:
            if child.dep_ in places.get("container_deps", ()):
                # "Syria's Idlib region", "Madira, northeast of Damascus": a description or a reference point
                if is_place and (child.dep_ in ("poss", "compound") or child.lower_ in places.get("relative_words", ())):
                    continue
                yield child, 1
            elif child.dep_ == "prep" and (child.lower_ in places.get("container_preps", ())
                                           or tok.dep_ == "prep" and child.lower_ in places.get("preps", ())):
                yield from ((c, 2) for c in child.children if c.dep_ in ("pobj", "prep"))
            elif tok.pos_ == "ADP" and child.dep_ == "pobj":
                yield child, 1
