"""Relations from the dependency parse: each OUTCOME's agent_of / target_of ACTORs and located_at LOCATIONs.

The rules are data (`guidelines/rules/relations.toml`, read by relrules.py): verb and noun classes that
decide agent against target, the dependency paths from an outcome word to its actors, and the prepositions
that lead to its places (places.py). This module walks the parse for actors (guidelines section 6): the
outcome's own arguments first, then, for a subject the clause leaves out, the clause it hangs from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from spacy.tokens import Doc, Token

from ..records import Relation, Span
from .antecedents import antecedent, is_pointer, previous_subject
from .deptree import SUBJECTS, clause_tokens, conjuncts, follow, in_apposition, predicates
from .places import PlaceFinder
from .relrules import AGENT, PLACE, TARGET, ActorPath, RelationRules, Step


class RelationFinder:
    """Proposes the relations of one parsed Doc's spans (which carry ids) by the rules of relations.toml."""

    def __init__(self, rules: RelationRules):
        self.rules = rules
        self.depth = int(rules.places.get("depth", 6))
        self.places = PlaceFinder(rules)

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
        """The outcome's actor relations (one role per actor) and then its places."""
        if outcome.id is None:
            return  # ids are set by the pipeline's rule stage; a span without one cannot be linked
        roles: dict[str, tuple[float, str]] = {}  # actor id -> (score, role)
        for score, role, actor in self._actors(word, outcome, owner):
            if actor.id is not None and (actor.id not in roles or score > roles[actor.id][0]):
                roles[actor.id] = (score, role)  # one role per actor and outcome: the better-scored path's
        for actor_id, (_, role) in roles.items():
            yield Relation(actor_id, outcome.id, role)
        for place in self.places(word, outcome, owner):
            if place.id is not None:
                yield Relation(outcome.id, place.id, PLACE)

    # --- actors -------------------------------------------------------------------------------

    def _actors(self, word: Token, outcome: Span, owner: dict[int, Span]) -> Iterator[tuple[float, str, Span]]:
        """(score, relation, actor) for every actor the paths, the clause above and the fight find."""
        preds = predicates(word)
        found: list[tuple[ActorPath, Span]] = []
        for pred in preds:  # "under siege by X": the noun's own actor; else the verb's ("put X under siege")
            found = self._found(pred, owner, outcome)
            if found:
                break
        pred = preds[-1] if not found else pred
        for path, actor in found:
            yield path.score, self._role(path.role, pred, path), actor
        yield from self._opponents(pred, owner, outcome)
        yield from self._cause(pred, owner)

    def _cause(self, pred: Token, owner: dict[int, Span]) -> Iterator[tuple[float, str, Span]]:
        """"X shelled the town. Five people died as a result": the previous sentence's subject brought it about
        (guidelines section 6, rule 2); only for an outcome its subject suffers."""
        for prep in (c for c in pred.children if c.dep_ == "prep" and c.lower_ == "as"):
            results = [c for c in prep.children if c.dep_ == "pobj" and c.lower_ in self.rules["result_nouns"]]
            # "as a result of the clashes" names its own cause
            if any(not any(g.dep_ == "prep" for g in c.children) for c in results) and self._undergoes(pred):
                actor = previous_subject(pred, owner)
                if actor is not None:
                    yield 0.6, AGENT, actor

    def _found(self, pred: Token, owner: dict[int, Span], outcome: Span, levels: int = 4) -> list[tuple[ActorPath, Span]]:
        """(path, actor) pairs from the paths that apply to `pred`, the best path of each group only."""
        kind = "NOUN" if pred.pos_ in ("NOUN", "PROPN") else "VERB"
        best: dict[str, float] = {}  # group -> score of the path that found an actor
        found: list[tuple[ActorPath, Span]] = []
        for path in sorted(self.rules.paths, key=lambda p: -p.score):
            if path.pos not in (None, kind) or best.get(path.group, path.score) > path.score:
                continue
            for end in follow(pred, path.steps):
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
        deps = ("poss",) if pred.pos_ in ("NOUN", "PROPN") else SUBJECTS
        return any(c.dep_ in deps and c.pos_ != "PRON" and not is_pointer(c, self.rules) for c in pred.children)

    def _resolved_subject(self, pred: Token, owner: dict[int, Span]) -> list[tuple[ActorPath, Span]]:
        """The antecedent of the outcome's pointing subject or owner ("The group has fended off", "the group's loss")."""
        deps = ("poss",) if pred.pos_ in ("NOUN", "PROPN") else SUBJECTS
        out = []
        for subj in (c for c in pred.children if c.dep_ in deps and is_pointer(c, self.rules)):
            span = antecedent(subj, owner, self.rules)
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
            if span is not None and span.label == "ACTOR" and not in_apposition(noun.doc[i], pron.sent.root):
                return [(ActorPath((), "subject", 0.6, "subject"), span)]
        return []

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
        for tok in [end, *conjuncts(end)]:
            span = owner.get(tok.i)
            if span is None:
                span = next((owner[c.i] for c in tok.children if c.dep_ in self.rules["modifier_deps"]
                             and c.i in owner and owner[c.i].label == "ACTOR"), None)
            if span is not None and span.label == "ACTOR" and span is not outcome:
                yield span

    def _opponents(self, pred: Token, owner: dict[int, Span], outcome: Span) -> Iterator[tuple[float, str, Span]]:
        """The other side in a fight the outcome came out of: "withdrew after a battle against local rebels"."""
        preps = self.rules["opponent_preps"]
        for noun in clause_tokens(pred, self.depth):
            if noun.lower_ not in self.rules["conflict_nouns"] or noun.i == pred.i:
                continue
            for prep in noun.children:
                if prep.dep_ == "prep" and prep.lower_ in preps:
                    for pobj in prep.children:
                        if pobj.dep_ == "pobj":
                            for actor in self._parties(pobj, owner, outcome):
                                yield 0.7, self._role("opponent", pred, None), actor

    def _role(self, role: str, pred: Token, path: ActorPath | None) -> str:
        """The relation a path's role gives at `pred`: "subject" and "object" depend on the verb or noun."""
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
        if pred.dep_ == "conj" and pred.tag_ == "VBN" and not any(c.dep_ in SUBJECTS for c in pred.children):
            return self._undergoes(pred.head)  # "were killed or injured"
        return lemma in self.rules["undergoer_verbs"]
