"""Candidate spans from every source, cleaned and resolved into one non-overlapping set per document.

Resolution rule: candidates are taken in order of score, then length (longer first), then position;
a candidate is kept when it shares no token with one already kept. So a named-group rule (0.95) beats
the base model (0.5) on the same words, and a cited source (SOURCE) blocks an ACTOR there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spacy.tokens import Doc

from .rules import SOURCE_LABEL

# Words an ACTOR/LOCATION span never starts or ends with: "the Islamic Front" -> "Islamic Front".
_EDGE_POS = {"DET", "PRON", "CCONJ", "PUNCT", "ADP", "PART", "SCONJ"}
PROPAGATED_SCORE = 0.7
PROPAGATE_MIN_SCORE = 0.6


@dataclass(frozen=True)
class Candidate:
    """A proposed span in token indices [start, end) with its label, score and origin."""

    start: int
    end: int
    label: str
    score: float
    source: str


def clean(doc: Doc, cand: Candidate, attribute_suffixes: frozenset[str]) -> Candidate | None:
    """Trim edge function words of an ACTOR/LOCATION/SOURCE span; drop it if nothing is left or it is an attribute."""
    if cand.label != "OUTCOME":
        start, end = cand.start, cand.end
        while start < end and (doc[start].pos_ in _EDGE_POS or doc[start].pos_ == "VERB" or _no_word(doc[start].text)):
            start += 1
        while end > start and (doc[end - 1].pos_ in _EDGE_POS or _no_word(doc[end - 1].text)):
            end -= 1
        if start >= end:
            return None
        if _is_attribute(doc, end, attribute_suffixes) and cand.label != SOURCE_LABEL:
            return None
        if (start, end) != (cand.start, cand.end):
            cand = Candidate(start, end, cand.label, cand.score, cand.source)
    return cand


def _no_word(text: str) -> bool:
    """Punctuation, symbols, emoji: nothing a name can start or end with."""
    return not any(ch.isalnum() for ch in text)


def _is_attribute(doc: Doc, end: int, suffixes: frozenset[str]) -> bool:
    """True for "Britain-based", "US-led": the name is an attribute of something else."""
    return end + 1 < len(doc) and doc[end].text == "-" and doc[end + 1].lower_ in suffixes


def resolve(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep the best non-overlapping candidates (score, then length), returned in text order.

    A rule ACTOR phrase that contains a stronger rule ACTOR name is that name's noun phrase
    ("ISIL fighters", "Al-Qaeda-linked faction") and competes with the name's score.
    """
    candidates = _absorb(list(candidates))
    taken: set[int] = set()
    kept = []
    for cand in sorted(candidates, key=lambda c: (-c.score, c.start - c.end, c.start)):
        tokens = range(cand.start, cand.end)
        if not taken.intersection(tokens):
            taken.update(tokens)
            kept.append(cand)
    return sorted(kept, key=lambda c: c.start)


def _absorb(cands: list[Candidate]) -> list[Candidate]:
    actors = [c for c in cands if c.label == "ACTOR" and c.source.startswith("rule:")]
    if len(actors) < 2:
        return cands
    by_start = sorted(actors, key=lambda c: c.start)
    out = []
    for cand in cands:
        if cand.label == "ACTOR" and cand.source.startswith("rule:") and cand.end - cand.start > 1:
            best = max((c.score for c in by_start if cand.start <= c.start < cand.end and c.end <= cand.end),
                       default=cand.score)
            if best > cand.score:
                cand = Candidate(cand.start, cand.end, cand.label, best, cand.source)
        out.append(cand)
    return out


def propagate(doc: Doc, kept: list[Candidate]) -> list[Candidate]:
    """Repeat rule-found names elsewhere in the document, and a name's "(ACRONYM)" as the same label.

    A name a rule labelled once ("the town of Saraqeb") is the same thing at its other mentions,
    where the base model may call it ORG or PERSON. Names given two labels in one document are skipped.
    """
    labels: dict[str, set[str]] = {}
    for cand in kept:
        # Only proper names: "rebels" is a different group in each sentence, "Saraqeb" is not.
        # Only rule cues spread (the model alone is not evidence); "to X" is no cue at all (lexicon).
        strong = cand.source.startswith("rule:") and cand.score >= PROPAGATE_MIN_SCORE
        if strong and cand.label != "OUTCOME" and _is_name(doc, cand):
            labels.setdefault(doc[cand.start : cand.end].text, set()).add(cand.label)
            acronym = _acronym_after(doc, cand)
            if acronym:
                labels.setdefault(acronym, set()).add(cand.label)
    out = []
    text = doc.text  # built from the tokens on every access: take it once
    own = {(c.start, c.end, c.label) for c in kept}
    for name, found in labels.items():
        if len(found) != 1:
            continue
        label = next(iter(found))
        pos = text.find(name)
        while pos != -1:
            span = doc.char_span(pos, pos + len(name))
            # a mention the rule itself found keeps its own source (reviewers' corrections are counted per source)
            if span is not None and (span.start, span.end, label) not in own:
                out.append(Candidate(span.start, span.end, label, PROPAGATED_SCORE, "rule:propagate"))
            pos = text.find(name, pos + len(name))
    return out


def extend_names(doc: Doc, kept: list[Candidate], heads: frozenset[str]) -> list[Candidate]:
    """Grow an ACTOR name over capitalised group-type words after it: "Al Nusra" + "Front" -> "Al Nusra Front"."""
    taken = {i for c in kept for i in range(c.start, c.end)}
    out = []
    for cand in kept:
        end = cand.end
        if cand.label == "ACTOR":
            while end < len(doc) and end not in taken and doc[end].is_title and doc[end].lower_ in heads:
                end += 1
        out.append(cand if end == cand.end else Candidate(cand.start, end, cand.label, cand.score, cand.source))
    return out


def _is_name(doc: Doc, cand: Candidate) -> bool:
    return any(t.pos_ == "PROPN" or (t.is_upper and len(t) > 1) for t in doc[cand.start : cand.end])


def _acronym_after(doc: Doc, cand: Candidate) -> str | None:
    """The X in "Syria Democratic Forces (SDF)": one upper-case token in brackets right after the span."""
    i = cand.end
    if i + 2 < len(doc) and doc[i].text == "(" and doc[i + 2].text == ")":
        word = doc[i + 1].text
        if 2 <= len(word) <= 8 and word[0].isupper() and sum(ch.isupper() for ch in word) >= 2:
            return word
    return None
