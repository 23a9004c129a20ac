"""Relations from the dependency parse: each OUTCOME's agent_of / target_of ACTORs and located_at LOCATIONs.

The rules are data (`guidelines/rules/relations.toml`): verb and noun classes that decide agent against
target, the dependency paths from an outcome word to its actors, and the prepositions that lead to its
places. The code below only walks the parse (guidelines section 6): the outcome's own arguments first,
then, for a subject the clause leaves out, the clause it hangs from; for a place, the nearest governing one.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, Token

from ..errors import InputError
from ..records import Relation, Span
from .rules import RULES_DIR

RELATIONS_FILE = "relations.toml"
AGENT, TARGET, PLACE = "agent_of", "target_of", "located_at"
_ROLES = (AGENT, TARGET, "subject", "object", "opponent")
_SUBJECTS = ("nsubj", "nsubjpass")


@dataclass(frozen=True)
class Step:
    """One move along the parse: down to a child with label `dep` (and one of `words`), or `up` to the head."""

    dep: str
    words: frozenset[str] = frozenset()
    up: bool = False


@dataclass(frozen=True)
class ActorPath:
    """Dependency steps from an outcome word to an actor word, the role they give, and their rank."""

    steps: tuple[Step, ...]
    role: str
    score: float
    group: str
    pos: str | None = None


@dataclass(frozen=True)
class RelationRules:
    """Everything relations.toml says: word classes, place search settings and actor paths."""

    words: dict[str, frozenset[str]]
    places: dict[str, Any]
    paths: tuple[ActorPath, ...]

    def __getitem__(self, name: str) -> frozenset[str]:
        return self.words.get(name, frozenset())


def load_relation_rules(guidelines_dir: Path | str, lexicon: dict[str, frozenset[str]]) -> RelationRules:
    """Read `<guidelines>/rules/relations.toml` (no file: no relations are proposed)."""
    path = Path(guidelines_dir) / RULES_DIR / RELATIONS_FILE
    if not path.is_file():
        return RelationRules({}, {}, ())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", str(path)) from exc
    places = dict(data.get("places", {}))
    words = {name: _words(value, lexicon, path) for name, value in data.get("words", {}).items()}
    for name, value in places.items():
        if isinstance(value, list):
            places[name] = _words(value, lexicon, path)
    paths = tuple(_actor_path(row, f"{path} [[actor]] {n}") for n, row in enumerate(data.get("actor", []), 1))
    return RelationRules(words, places, paths)


def _words(value: Any, lexicon: dict[str, frozenset[str]], path: Path) -> frozenset[str]:
    if not isinstance(value, list):
        raise InputError(f"expected a list of words, got {value!r}", str(path))
    out: set[str] = set()
    for word in value:
        if str(word).startswith("@"):
            if word[1:] not in lexicon:
                raise InputError(f"unknown word list {word!r}; lexicon.toml defines: {', '.join(sorted(lexicon))}", str(path))
            out |= lexicon[word[1:]]
        else:
            out.add(str(word).lower())
    return frozenset(out)


def _actor_path(row: dict[str, Any], where: str) -> ActorPath:
    if not isinstance(row.get("path"), str) or row.get("role") not in _ROLES:
        raise InputError(f"an actor path needs `path` (steps) and `role`, one of {', '.join(_ROLES)}", where)
    steps = []
    for part in row["path"].split():
        up = part.startswith("^")
        dep, _, words = part.lstrip("^").partition(":")
        steps.append(Step(dep, frozenset(w for w in words.split("|") if w), up))
    pos = row.get("pos")
    if pos not in (None, "VERB", "NOUN"):
        raise InputError(f"`pos` must be VERB or NOUN, got {pos!r}", where)
    return ActorPath(tuple(steps), row["role"], float(row.get("score", 0.7)), str(row.get("group", row["path"])), pos)


class RelationFinder:
    """Proposes the relations of one parsed Doc's spans (which carry ids) by the rules of relations.toml."""

    def __init__(self, rules: RelationRules):
        self.rules = rules
        self.depth = int(rules.places.get("depth", 6))
        self.levels = int(rules.places.get("governing_levels", 3))

    def __call__(self, doc: Doc, spans: Sequence[Span]) -> list[Relation]:
        """Relations between `spans` (ids required) in `doc`, each (from, to, label) once, in text order."""
        if not self.rules.paths and not self.rules.places:
            return []
        owner: dict[int, Span] = {}
        for span in spans:
            piece = doc.char_span(span.start, span.end)
            for i in range(piece.start, piece.end) if piece is not None else ():
                owner[i] = span
        out: dict[tuple[str, str, str], None] = {}
        for span in spans:
            if span.label != "OUTCOME" or span.id is None:
                continue
            piece = doc.char_span(span.start, span.end)
            if piece is None:
                continue
            for rel in self._relations(piece.root, span, owner):
                out[(rel.from_id, rel.to_id, rel.label)] = None
        return [Relation(*key) for key in out]

    def _relations(self, word: Token, outcome: Span, owner: dict[int, Span]) -> Iterator[Relation]:
        roles: dict[str, tuple[float, str]] = {}  # actor id -> (score, role)
        for score, role, actor in self._actors(word, outcome, owner):
            if actor.id not in roles or score > roles[actor.id][0]:
                roles[actor.id] = (score, role)  # one role per actor and outcome: the better-scored path's
        for actor_id, (_, role) in roles.items():
            yield Relation(actor_id, outcome.id, role)  # type: ignore[arg-type]
        for place in self._places(word, outcome, owner):
            yield Relation(outcome.id, place.id, PLACE)  # type: ignore[arg-type,arg-type]

    # --- actors -------------------------------------------------------------------------------

    def _actors(self, word: Token, outcome: Span, owner: dict[int, Span]) -> Iterator[tuple[float, str, Span]]:
        pred = _predicate(word)
        kind = "NOUN" if pred.pos_ in ("NOUN", "PROPN") else "VERB"
        best: dict[str, float] = {}  # group -> best score that found an actor
        found: list[tuple[ActorPath, Span]] = []
        for path in sorted(self.rules.paths, key=lambda p: -p.score):
            if path.pos not in (None, kind) or best.get(path.group, path.score) > path.score:
                continue
            for end in _follow(pred, path.steps):
                for actor in self._parties(end, owner, outcome):
                    best[path.group] = path.score
                    found.append((path, actor))
        if not any(p.group == "subject" for p, _ in found):
            found += [(p, a) for p, a in self._inherited_subject(pred, owner, outcome)]
        for path, actor in found:
            yield path.score, self._role(path.role, pred, path), actor
        yield from self._opponents(pred, owner, outcome)

    def _parties(self, end: Token, owner: dict[int, Span], outcome: Span) -> Iterator[Span]:
        """The ACTOR spans at `end`: its own span, else a party naming it ("FSA factions"), plus conjuncts."""
        if end.lower_ in self.rules["relative_pronouns"] and end.head.dep_ == "relcl":
            end = end.head.head  # "Jarabolos, which ISIL seized" / "IS, which has seized": the clause's head
        for tok in [end, *_conjuncts(end)]:
            span = owner.get(tok.i)
            if span is None:
                span = next((owner[c.i] for c in tok.children if c.dep_ in self.rules["modifier_deps"]
                             and c.i in owner and owner[c.i].label == "ACTOR"), None)
            if span is not None and span.label == "ACTOR" and span is not outcome:
                yield span

    def _inherited_subject(self, pred: Token, owner: dict[int, Span], outcome: Span) -> Iterator[tuple[ActorPath, Span]]:
        """A subject the clause leaves out or gives as a pronoun, taken from the clause it hangs from."""
        subject_path = next((p for p in self.rules.paths if p.group == "subject" and p.steps[0].dep == "nsubj"), None)
        if subject_path is None:
            return
        clause = pred
        for _ in range(4):
            link = clause.dep_
            head = clause.head
            if link == "pcomp" and head.dep_ == "prep":
                head = head.head  # "by seizing territory"
            if link not in self.rules["subject_links"] or head.i == clause.i:
                return
            if link == "xcomp" and head.lemma_.lower() in self.rules["causative_verbs"]:
                obj = next((c for c in head.children if c.dep_ == "dobj"), None)
                if obj is not None:  # "forcing Maarouf to pull out": Maarouf is the subject of "pull out"
                    yield from ((subject_path, a) for a in self._parties(obj, owner, outcome))
                    forcer = ActorPath((), AGENT, subject_path.score, "cause")
                    for subj in _subjects(head):
                        yield from ((forcer, a) for a in self._parties(subj, owner, outcome))
                    return
            clause = head
            subjects = [s for s in _subjects(clause) if s.pos_ != "PRON"]
            for subj in subjects:
                yield from ((subject_path, a) for a in self._parties(subj, owner, outcome))
            if subjects:
                return

    def _opponents(self, pred: Token, owner: dict[int, Span], outcome: Span) -> Iterator[tuple[float, str, Span]]:
        """The other side in a fight the outcome came out of: "withdrew after a battle against local rebels"."""
        preps = self.rules["opponent_preps"]
        for noun in _clause_tokens(pred, self.depth):
            if noun.lower_ not in self.rules["conflict_nouns"] or noun.i == pred.i:
                continue
            for prep in noun.children:
                if prep.dep_ == "prep" and prep.lower_ in preps:
                    for pobj in prep.children:
                        if pobj.dep_ == "pobj":
                            for actor in self._parties(pobj, owner, outcome):
                                yield 0.7, self._role("opponent", pred, None), actor

    def _role(self, role: str, pred: Token, path: ActorPath | None) -> str:
        if role in (AGENT, TARGET):
            return role
        if role == "object":
            return AGENT if pred.lemma_.lower() in self.rules["object_agent_verbs"] else TARGET
        subject = TARGET if self._undergoes(pred) else AGENT
        if role == "subject" and path is not None and path.steps and path.steps[0].dep == "nsubjpass":
            subject = TARGET
        return subject if role == "subject" else (AGENT if subject == TARGET else TARGET)

    def _undergoes(self, pred: Token) -> bool:
        """True when the subject (or owner) suffers the outcome: an undergoer verb or noun, or a passive."""
        lemma, lower = pred.lemma_.lower(), pred.lower_
        if pred.pos_ in ("NOUN", "PROPN"):
            return lower in self.rules["undergoer_nouns"] or lemma in self.rules["undergoer_nouns"]
        if any(c.dep_ in ("nsubjpass", "auxpass") for c in pred.children):
            return True
        if pred.dep_ == "acl" and pred.tag_ == "VBN":
            return True  # "rebels captured during the fighting"
        if pred.dep_ == "conj" and pred.tag_ == "VBN" and not any(c.dep_ in _SUBJECTS for c in pred.children):
            return self._undergoes(pred.head)  # "were killed or injured"
        return lemma in self.rules["undergoer_verbs"]

    # --- places -------------------------------------------------------------------------------

    def _places(self, word: Token, outcome: Span, owner: dict[int, Span]) -> list[Span]:
        pred = _predicate(word)
        places = self._places_under(pred, owner, outcome, skip=None)
        if pred.i != word.i:
            places += self._places_under(word, owner, outcome, skip=None)
        if places:
            return _unique(places)
        node = pred
        for _ in range(self.levels):  # the nearest governing place within the sentence
            if node.dep_ in self.rules.places.get("governing_stops", ()) or node.head.i == node.i:
                break
            came_from, node = node, node.head
            span = owner.get(node.i)
            if span is not None and span.label == "LOCATION":
                return [span]
            places = self._places_under(node, owner, outcome, skip=came_from)
            if places:
                return _unique(places)
        return []

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
            if span is not None and span.label == "LOCATION" and span not in found:
                found.append(span)
            elif span is not None and span.label != "LOCATION" and span is not outcome and tok.dep_ not in ("pobj",):
                continue  # an actor or another outcome is no way to a place
            if depth >= self.depth:
                continue
            for child in tok.children:
                if child.dep_ in places.get("container_deps", ()):
                    frontier.append((child, depth + 1))
                elif child.dep_ == "prep" and (child.lower_ in places.get("container_preps", ())
                                               or tok.dep_ == "prep" and child.lower_ in places.get("preps", ())):
                    frontier += [(c, depth + 2) for c in child.children if c.dep_ in ("pobj", "prep")]
                elif tok.pos_ == "ADP" and child.dep_ == "pobj":
                    frontier.append((child, depth + 1))
        return found


def _predicate(word: Token) -> Token:
    """The word whose arguments the outcome takes: itself, or the verb of "put ... under siege"."""
    if word.pos_ == "ADP" and word.head.pos_ in ("VERB", "AUX"):
        return word.head
    return word


def _follow(start: Token, steps: tuple[Step, ...]) -> list[Token]:
    nodes = [start]
    for step in steps:
        if step.up:
            nodes = [n.head for n in nodes if n.dep_ == step.dep and n.head.i != n.i]
        else:
            nodes = [c for n in nodes for c in n.children
                     if c.dep_ == step.dep and (not step.words or c.lower_ in step.words)]
    return nodes


def _subjects(verb: Token) -> list[Token]:
    return [c for c in verb.children if c.dep_ in _SUBJECTS]


def _conjuncts(tok: Token) -> list[Token]:
    out, todo = [], [tok]
    while todo:
        for child in todo.pop().children:
            if child.dep_ == "conj":
                out.append(child)
                todo.append(child)
    return out


def _clause_tokens(pred: Token, depth: int) -> Iterator[Token]:
    """Tokens below `pred` that are not inside a clause of their own (relative, complement, adverbial)."""
    todo = [(pred, 0)]
    while todo:
        tok, level = todo.pop()
        yield tok
        if level < depth:
            todo += [(c, level + 1) for c in tok.children
                     if c.dep_ not in ("relcl", "ccomp", "advcl", "acl", "conj", "parataxis", "xcomp")]


def _unique(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in spans:
        if span not in out:
            out.append(span)
    return out
