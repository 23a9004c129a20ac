"""Turn a RuleSet and the base model's entities into Candidates for one parsed Doc."""

from __future__ import annotations

from typing import cast

from spacy.errors import MatchPatternError
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from ..errors import InputError
from .lexflags import compile_pattern
from .resolve import Candidate
from .rules import SOURCE_LABEL, PatternRule, RuleSet

MODEL_SCORE = 0.5
SOURCE_SCORE = 0.9
TAKEN_PLACE_SCORE = 0.65  # above the model, below any named-group rule
# Dependency labels of a NORP token used as a modifier ("Syrian province"), not as a party ("Islamists").
_MODIFIER_DEPS = {"amod", "compound", "npadvmod", "nmod", "poss"}


class RuleMatcher:
    """spaCy Matcher/PhraseMatchers built once from the rule files; calling it yields Candidates."""

    def __init__(self, nlp: Language, rules: RuleSet):
        self.rules: dict[str, PatternRule] = {}
        checker = Matcher(nlp.vocab, validate=True)  # the rules as written, for their error messages
        self.tokens = Matcher(nlp.vocab, validate=False)  # the same rules with word lists as lexeme flags (lexflags.py)
        self.phrases = {False: PhraseMatcher(nlp.vocab, attr="LOWER"), True: PhraseMatcher(nlp.vocab, attr="ORTH")}
        for number, rule in enumerate(rules.patterns):
            key = f"{number}:{rule.id}"
            self.rules[key] = rule
            try:
                if rule.pattern:
                    checker.add(key, [list(rule.pattern)], greedy="LONGEST")
                    self.tokens.add(key, [compile_pattern(nlp.vocab, list(rule.pattern))], greedy="LONGEST")
                else:
                    docs = [nlp.make_doc(p) for p in rule.phrases]
                    self.phrases[rule.case_sensitive].add(key, docs)
            except (MatchPatternError, ValueError) as exc:
                raise InputError(f"rule {rule.id!r} is not a valid spaCy pattern: {exc}", rule.where) from exc

    def __call__(self, doc: Doc) -> list[Candidate]:
        """Every rule match in `doc` as a Candidate (overlaps are resolved later)."""
        strings = doc.vocab.strings
        out = []
        # with_alignments: (match_id, start, end, alignments) 4-tuples, which spaCy's stubs do not spell out
        token_matches = cast(list[tuple[int, int, int, list[int]]],
                             self.tokens(doc, with_alignments=True) if len(self.tokens) else [])
        for match_id, start, end, align in token_matches:
            rule = self.rules[strings[match_id]]
            if rule.span is not None:
                picked = [start + i for i, p in enumerate(align) if rule.span[0] <= p <= rule.span[1]]
                if not picked:
                    continue
                start, end = picked[0], picked[-1] + 1
            if rule.connected:
                start = _connected_start(doc, start, end)
            out.append(Candidate(start, end, rule.label, rule.score, f"rule:{rule.id}"))
        for matcher in self.phrases.values():
            for match_id, start, end in matcher(doc):
                rule = self.rules[strings[match_id]]
                out.append(Candidate(start, end, rule.label, rule.score, f"rule:{rule.id}"))
        return out


def _connected_start(doc: Doc, start: int, end: int) -> int:
    """Leftmost start from which every token but the last hangs off a token inside [start, end).

    A verb inside the modifiers ends them unless it follows a hyphen ("Western-backed" stays,
    "battle pitting rebels" becomes "rebels"): the parser often hangs such clauses as modifiers.
    """
    for i in range(start, end - 1):
        if doc[i].pos_ in ("VERB", "AUX") and not (i > start and doc[i - 1].text == "-"):
            start = i + 1
    for first in range(start, end - 1):
        if all(first <= doc[i].head.i < end for i in range(first, end - 1)):
            return first
    return end - 1


def model_candidates(doc: Doc, mapping: dict[str, str], event_nouns: frozenset[str] = frozenset()) -> list[Candidate]:
    """The base model's entities whose label the schema maps onto a project label."""
    out = []
    for ent in doc.ents:
        label = mapping.get(ent.label_)
        if label is None:
            continue
        # A nationality/religion adjective ("Syrian province") is not a party; the noun use is.
        if any(t.like_url or t.like_email for t in ent):
            continue
        modifier = ent.root.pos_ == "ADJ" or ent.root.dep_ in _MODIFIER_DEPS
        if ent.label_ == "NORP" and modifier and ent.root.head.lower_ not in event_nouns:
            continue  # "Syrian province" is no party; "Russian air strikes" shows one acting
        out.append(Candidate(ent.start, ent.end, label, MODEL_SCORE, f"model:{ent.label_}"))
    return out


def reporting_sources(doc: Doc, reporting_verbs: frozenset[str]) -> list[Candidate]:
    """People quoted for information: a PERSON that is the subject of say/tell/report..., or "according to X"."""
    out = []
    for ent in doc.ents:
        if ent.label_ != "PERSON":
            continue
        root = ent.root
        while root.dep_ in ("appos", "conj") and root.head is not root:
            root = root.head
        head = root.head
        cited = root.dep_ in ("nsubj", "nsubjpass") and head.lemma_.lower() in reporting_verbs
        according = root.dep_ == "pobj" and head.lower_ == "to" and head.head.lower_ == "according"
        if cited or according:
            out.append(Candidate(ent.start, ent.end, SOURCE_LABEL, SOURCE_SCORE, "rule:source_reporting_subject"))
    return out


def quoted_parties(doc: Doc, cands: list[Candidate], reporting_verbs: frozenset[str]) -> list[Candidate]:
    """An ACTOR that is the subject of say/tell/report... is a source in that sentence ("said one fighter")."""
    out = []
    for cand in cands:
        root = doc[cand.start : cand.end].root
        if cand.label == "ACTOR" and root.dep_ == "nsubj" and root.head.lemma_.lower() in reporting_verbs:
            cand = Candidate(cand.start, cand.end, SOURCE_LABEL, cand.score, cand.source)
        out.append(cand)
    return out


def taken_places(doc: Doc, verbs: frozenset[str]) -> list[Candidate]:
    """A proper-noun object of a place-taking verb is a place ("recaptured Kherson"), whatever the model said."""
    out = []
    for tok in doc:
        if tok.dep_ != "dobj" or tok.pos_ != "PROPN" or tok.head.lemma_.lower() not in verbs:
            continue
        start = min([tok.i] + [c.left_edge.i for c in tok.lefts if c.dep_ == "compound" and c.pos_ == "PROPN"])
        out.append(Candidate(start, tok.i + 1, "LOCATION", TAKEN_PLACE_SCORE, "rule:location_taken_object"))
    return out
