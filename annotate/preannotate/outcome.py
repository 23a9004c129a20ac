"""OUTCOME spans from the dependency parse: an event verb that happened, with its result object.

Boundaries follow guidelines section 5.5: the verb with its particle ("pulled out"); the object only
when it belongs to the result ("took total control", "broke the siege") or is a casualty count with
no party named ("killed 11 people", "at least 10 were killed"); never the object that names what was
taken ("seized six villages" -> "seized") nor auxiliaries. Result nouns ("withdrawal", "retreat",
"capture") are OUTCOMEs too (7.6).
"""

from __future__ import annotations

from collections import defaultdict

from spacy.tokens import Doc, Token

from .resolve import Candidate
from .rules import RuleSet, VerbRule

CASUALTY_SCORE = 0.85  # the longer forms ("killed 11 people"); the verb alone is the fallback
NOUN_SCORE = 0.6
_OBJECT_DEPS = {"dobj", "obj"}


class OutcomeFinder:
    """Event verbs by lemma (from `outcome_verbs.jsonl`) plus the lexicon lists the checks use."""

    def __init__(self, rules: RuleSet):
        self.by_lemma: dict[str, list[VerbRule]] = defaultdict(list)
        for verb in rules.verbs:
            self.by_lemma[verb.lemma].append(verb)
        self.modals = rules.words("modal_aux")
        self.intents = rules.words("intent_verbs")
        self.denials = rules.words("denial_verbs")
        self.victims = rules.words("generic_victims")
        self.nouns = rules.words("outcome_nouns")

    def __call__(self, doc: Doc, entities: list[Candidate]) -> list[Candidate]:
        """OUTCOME candidates for `doc`, given the ACTOR/LOCATION/SOURCE spans already chosen."""
        out: list[Candidate] = []
        for tok in doc:
            if tok.pos_ == "NOUN" and tok.lower_ in self.nouns and not self._hypothetical(tok):
                out.append(Candidate(tok.i, tok.i + 1, "OUTCOME", NOUN_SCORE, "rule:outcome_noun"))
                continue
            verbs = self.by_lemma.get(tok.lemma_.lower()) if tok.pos_ == "VERB" else None
            if not verbs or self._hypothetical(tok):
                continue
            rule = next((v for v in verbs if _satisfies(tok, v)), None)
            if rule is not None:
                out += self._spans(doc, tok, rule)
        return out

    def _hypothetical(self, tok: Token) -> bool:
        """Negated, modal, denied or intended ("fighting to take the town"): not a result that happened."""
        for child in tok.children:
            if child.dep_ == "neg" or (child.dep_ == "aux" and child.lower_ in self.modals):
                return True
        head = tok.head
        if tok.dep_ == "ccomp" and head.lemma_.lower() in self.denials:
            return True
        if tok.dep_ in ("xcomp", "advcl", "pcomp", "acl") and any(c.dep_ == "neg" for c in head.children):
            return True  # "does not hesitate to kill"
        is_infinitive = any(c.dep_ == "aux" and c.tag_ == "TO" for c in tok.children)
        if is_infinitive and head.lemma_.lower() in self.intents:
            return True
        # "on the verge of entering": a gerund under a preposition under an intention noun
        return tok.dep_ == "pcomp" and head.head.lemma_.lower() in self.intents

    def _spans(self, doc: Doc, verb: Token, rule: VerbRule) -> list[Candidate]:
        core = [verb.i] + [c.i for c in verb.children if c.dep_ == "prt" and 0 < c.i - verb.i <= 2]
        start, end = min(core), max(core) + 1
        source = f"rule:outcome_verb:{rule.lemma}"
        spans = [Candidate(start, end, "OUTCOME", rule.score, source)]
        subject = next((c for c in verb.children if c.dep_ in ("nsubjpass", "nsubj") and c.i < verb.i), None)
        if subject is not None and self._count_only(subject):
            # "at least 10 were killed": no party named, the count belongs to the outcome
            spans.append(Candidate(subject.left_edge.i, end, "OUTCOME", CASUALTY_SCORE, source))
        obj = next((c for c in verb.children if c.dep_ in _OBJECT_DEPS and c.i > verb.i), None)
        if obj is None or obj.pos_ == "PRON":
            return spans
        obj_start = min([obj.i] + [c.left_edge.i for c in obj.lefts])
        if obj.lemma_.lower() in rule.objects or obj.lower_ in self.victims and obj_start < obj.i and self._count_only(obj):  # "took total control", "broke the siege"
            spans.append(Candidate(start, obj.i + 1, "OUTCOME", CASUALTY_SCORE, source))
        return spans

    def _count_only(self, noun: Token) -> bool:
        """A bare count ("10") or a count of generic victims ("at least 11 people"), naming no party."""
        words = list(noun.subtree)
        if any(t.i > noun.i for t in words):
            return False
        has_count = any(t.like_num for t in words)
        if noun.like_num:
            return True
        return has_count and noun.lower_ in self.victims and all(
            t.like_num or t.dep_ in ("nummod", "quantmod", "advmod", "det") or t.i == noun.i for t in words)


def _satisfies(verb: Token, rule: VerbRule) -> bool:
    """True when the verb's parse has one of the rule's required objects, particles and prepositions."""
    children = list(verb.children)
    if rule.objects and not any(
        c.dep_ in _OBJECT_DEPS and c.lemma_.lower() in rule.objects for c in children
    ):
        return False
    if rule.particles and not any(c.dep_ == "prt" and c.lower_ in rule.particles for c in children):
        return False
    return not rule.preps or any(c.dep_ in ("prep", "agent") and c.lower_ in rule.preps for c in children)
