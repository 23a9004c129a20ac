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
        preds = _predicates(word)
        found: list[tuple[ActorPath, Span]] = []
        for pred in preds:  # "under siege by X": the noun's own actor; else the verb's ("put X under siege")
            found = self._found(pred, owner, outcome)
            if found:
                break
        pred = preds[-1] if not found else pred
        for path, actor in found:
            yield path.score, self._role(path.role, pred, path), actor
        yield from self._opponents(pred, owner, outcome)

    def _found(self, pred: Token, owner: dict[int, Span], outcome: Span, levels: int = 4) -> list[tuple[ActorPath, Span]]:
        """(path, actor) pairs from the paths that apply to `pred`, the best path of each group only."""
        kind = "NOUN" if pred.pos_ in ("NOUN", "PROPN") else "VERB"
        best: dict[str, float] = {}  # group -> score of the path that found an actor
        found: list[tuple[ActorPath, Span]] = []
        for path in sorted(self.rules.paths, key=lambda p: -p.score):
            if path.pos not in (None, kind) or best.get(path.group, path.score) > path.score:
                continue
            for end in _follow(pred, path.steps):
                for actor in self._parties(end, owner, outcome):
                    best[path.group] = path.score
                    found.append((path, actor))
        if levels and "subject" not in best and not self._has_own_subject(pred):
            found += self._inherited(pred, owner, outcome, set(best), levels)
        if levels and not any(p.group == "subject" for p, _ in found):
            found += self._resolved_subject(pred, owner)
        if "subject" not in best and kind == "NOUN":
            found += self._owner_pronoun(pred, owner, outcome)
        return found

    def _has_own_subject(self, pred: Token) -> bool:
        """A subject (or owner) that is a noun but no actor: "the group won" takes no one else's subject."""
        deps = ("poss",) if pred.pos_ in ("NOUN", "PROPN") else _SUBJECTS
        return any(c.dep_ in deps and c.pos_ != "PRON" and not self._pointer(c) for c in pred.children)

    def _pointer(self, tok: Token) -> bool:
        """A pronoun or a bare noun that only points back ("they", "the group"): guidelines section 6, rule 2."""
        if tok.lower_ in self.rules["subject_pronouns"]:
            return True
        return tok.lower_ in self.rules["pointer_nouns"] and any(c.lower_ == "the" for c in tok.children) \
            and len(list(tok.children)) == 1

    def _resolved_subject(self, pred: Token, owner: dict[int, Span]) -> list[tuple[ActorPath, Span]]:
        """The antecedent of the outcome's pointing subject or owner ("The group has fended off", "the group's loss")."""
        deps = ("poss",) if pred.pos_ in ("NOUN", "PROPN") else _SUBJECTS
        out = []
        for subj in (c for c in pred.children if c.dep_ in deps and self._pointer(c)):
            span = self._antecedent(subj, owner)
            if span is not None and span.label == "ACTOR":
                role = "target_of" if subj.dep_ == "nsubjpass" else "subject"
                out.append((ActorPath((Step(subj.dep_),), role, 0.6, "subject"), span))
        return out

    def _owner_pronoun(self, noun: Token, owner: dict[int, Span], outcome: Span) -> list[tuple[ActorPath, Span]]:
        """"resentment toward ISIL ... over their kidnapping": an owner pronoun stands for the nearest actor before it."""
        pron = next((c for c in noun.children if c.dep_ == "poss" and c.lower_ in self.rules["owner_pronouns"]), None)
        if pron is None:
            return []
        for i in range(pron.i - 1, pron.sent.start - 1, -1):
            span = owner.get(i)
            if span is not None and span.label == "ACTOR" and not _in_apposition(noun.doc[i], pron.sent.root):
                return [(ActorPath((), "subject", 0.6, "subject"), span)]
        return []

    def _antecedent(self, pron: Token, owner: dict[int, Span]) -> Span | None:
        """The actor a subject pronoun or "the group" stands for: the nearest earlier actor that is a subject
        (of its verb, or the named party in it: "Dozens of his fighters") within a few sentences."""
        person = pron.lower_ in self.rules["person_pronouns"]
        doc, first = pron.doc, pron.sent.start
        for _ in range(int(self.rules.places.get("antecedent_sentences", 2))):
            if first > 0:
                first = doc[first - 1].sent.start
        for i in range(pron.i - 1, first - 1, -1):
            span = owner.get(i)
            if span is None or span.label != "ACTOR" or (person and doc[i].ent_type_ != "PERSON"):
                continue
            root = doc.char_span(span.start, span.end).root  # type: ignore[union-attr]
            while root.dep_ in ("conj", "compound") or (root.dep_ == "pobj" and root.head.lower_ in ("of", "from")):
                root = root.head.head if root.dep_ == "pobj" else root.head  # "Dozens of his fighters"
            if root.dep_ in _SUBJECTS:
                return span
        return None

    def _inherited(self, pred: Token, owner: dict[int, Span], outcome: Span, groups: set[str],
                   levels: int) -> list[tuple[ActorPath, Span]]:
        """What the clause leaves out, from the clause it hangs from: a conjunct shares every missing
        argument ("defected and joined Al Nusra", "kidnapping and killing of opponents"), a subordinate
        clause its subject ("shelled Madira, killing 11 people", "managed to besiege", "by seizing")."""
        link, head = pred.dep_, pred.head
        if link in ("pcomp", "pobj") and head.dep_ == "prep":
            head = head.head  # "by seizing territory", "hours after his withdrawal, Maarouf issued"
        if link not in self.rules["subject_links"] or head.i == pred.i:
            return []
        if link == "pobj" and (head.pos_ != "VERB" or pred.head.lower_ not in self.rules["pobj_subject_preps"]):
            return []
        if link == "xcomp" and head.lemma_.lower() in self.rules["causative_verbs"]:
            return self._caused(head, owner, outcome)
        inherited = self._found(head, owner, outcome, levels - 1)
        # a conjunct shares the object too, unless its subject is the one that undergoes it ("left them and pulled out")
        shares_all = link == "conj" and (pred.pos_ == "NOUN" or pred.lemma_.lower() not in self.rules["undergoer_verbs"])
        return [(p, a) for p, a in inherited if p.group not in groups and (shares_all or p.group == "subject")]

    def _caused(self, verb: Token, owner: dict[int, Span], outcome: Span) -> list[tuple[ActorPath, Span]]:
        """"forcing Maarouf to pull out": the object undergoes the outcome, the forcer is its agent."""
        out = []
        for obj in (c for c in verb.children if c.dep_ == "dobj"):
            out += [(ActorPath((), "subject", 0.85, "subject"), a) for a in self._parties(obj, owner, outcome)]
        out += [(ActorPath((), AGENT, 0.8, "cause"), a) for p, a in self._found(verb, owner, outcome, 2)
                if p.group == "subject"]
        return out

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
        preds = _predicates(word)
        pred = preds[-1]
        tops = {t.i: t for t in (word, *preds)}.values()
        places = [p for top in tops for p in self._places_under(top, owner, outcome, skip=None)]
        if places:
            return _unique(places)
        for subj in (c for c in pred.children if c.dep_ in _SUBJECTS and c.lower_ == "it"):
            span = self._antecedent(subj, owner)  # "Saraqeb was once ... it fell to ISIL"
            if span is not None and span.label == "LOCATION":
                return [span]
        for conj in (c for c in pred.children if c.dep_ == "conj" and c.pos_ == pred.pos_):
            places += self._places_under(conj, owner, outcome, skip=None)  # "killed or injured in the fighting"
        if places:
            return _unique(places)
        node = pred
        for _ in range(self.levels):  # the nearest governing place within the sentence
            if node.dep_ in self.rules.places.get("governing_stops", ()) or node.head.i == node.i:
                break
            came_from, node = node, node.head
            span = owner.get(node.i)
            if span is not None and span.label == "LOCATION" and not self._reference(node):
                return [span]
            places = self._places_under(node, owner, outcome, skip=came_from)
            if places:
                return _unique(places)
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
            if is_place and span not in found and not self._reference(tok):
                found.append(span)  # type: ignore[arg-type]
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


def _predicates(word: Token) -> list[Token]:
    """The words whose arguments the outcome takes: itself, or for "under siege" the noun, then the verb."""
    if word.pos_ != "ADP":
        return [word]
    nouns = [c for c in word.children if c.dep_ == "pobj"]
    return nouns + ([word.head] if word.head.pos_ in ("VERB", "AUX") else [])


def _follow(start: Token, steps: tuple[Step, ...]) -> list[Token]:
    nodes = [start]
    for step in steps:
        if step.up:
            nodes = [n.head for n in nodes if n.dep_ == step.dep and n.head.i != n.i]
        else:
            nodes = [c for n in nodes for c in n.children
                     if c.dep_ == step.dep and (not step.words or c.lower_ in step.words)]
    return nodes


def _in_apposition(tok: Token, root: Token) -> bool:
    """True when `tok` lies inside an apposition ("ISIL, a version of al Qaeda in Iraq")."""
    while tok.i != root.i and tok.head.i != tok.i:
        if tok.dep_ == "appos":
            return True
        tok = tok.head
    return False


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
