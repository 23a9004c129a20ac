"""Per-label sources: the combination they give (preannotate/combine.py) and the choice made on dev
(training/sources.py), no training."""

from __future__ import annotations

import random

import pytest

from annotate.preannotate.combine import SOURCES, combine_by_source
from annotate.records import Document, Span
from annotate.scoring import MODES
from annotate.training.sources import GUARANTEES, choose_sources, combine_documents

TEXT = "ISIL fighters withdrew from the town of Saraqeb after the army shelled Idlib."
LABELS = ("ACTOR", "LOCATION", "OUTCOME")


def _span(word: str, label: str, score: float = 0.5, source: str = "rule:x") -> Span:
    start = TEXT.index(word)
    return Span(start, start + len(word), label, word, score, source, f"{start}-{start + len(word)}-{label}")


def _doc(*spans: Span, doc_id: str = "d") -> Document:
    return Document(doc_id, TEXT, tuple(spans))


RULES = [_span("ISIL fighters", "ACTOR"), _span("town of Saraqeb", "LOCATION"), _span("withdrew", "OUTCOME")]
MODEL = [_span("ISIL", "ACTOR", 0.9, "model"), _span("Saraqeb", "LOCATION", 0.8, "model"),
         _span("army", "ACTOR", 0.7, "model"), _span("Idlib", "LOCATION", 0.6, "model")]


def test_documents_combine_by_the_pre_annotators_definition():
    sources = {"ACTOR": "model", "LOCATION": "rules"}
    combined = combine_documents([_doc(*RULES)], [_doc(*MODEL)], sources)[0]
    assert list(combined.spans) == combine_by_source(RULES, MODEL, sources)
    assert combine_documents([_doc(*RULES)], [_doc(*MODEL)], {})[0].spans == tuple(combine_by_source(list(RULES), list(MODEL), {}))


def test_relations_survive_only_with_both_ends():
    from annotate.records import Relation

    rel = Relation(RULES[0].id or "", RULES[2].id or "", "agent_of")
    rules = Document("d", TEXT, tuple(RULES), relations=(rel,))
    kept = combine_documents([rules], [_doc(*MODEL)], {})[0]
    dropped = combine_documents([rules], [_doc(*MODEL)], {"ACTOR": "model"})[0]
    assert kept.relations == (rel,) and dropped.relations == ()


def test_the_better_source_is_chosen_per_label():
    gold = [_doc(_span("ISIL", "ACTOR"), _span("army", "ACTOR"), _span("town of Saraqeb", "LOCATION"),
                 _span("withdrew", "OUTCOME"))]
    choice = choose_sources(gold, [_doc(*RULES)], [_doc(*MODEL)], LABELS)
    assert choice["sources"] == {"ACTOR": "model", "LOCATION": "rules", "OUTCOME": "rules"}
    assert choice["guarantee"] == GUARANTEES[0]
    assert choice["scores"]["ACTOR"]["combined"]["exact"]["f1"] == 1.0


def test_a_tie_goes_to_the_simpler_source_and_an_unmeasured_label_stays_both():
    # The model finds nothing the rules do not: rules, model-free, wins every tie; no OUTCOME gold on dev.
    gold = [_doc(_span("ISIL fighters", "ACTOR"), _span("town of Saraqeb", "LOCATION"))]
    choice = choose_sources(gold, [_doc(*RULES)], [_doc(*RULES[:2])], LABELS)
    assert choice["sources"] == {"ACTOR": "rules", "LOCATION": "rules", "OUTCOME": "both"}
    assert choice["measured"] == ["ACTOR", "LOCATION"]


def _random_doc(rng: random.Random, doc_id: str, source: str) -> Document:
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+", TEXT)]
    spans = {}
    for _ in range(rng.randint(1, 6)):
        i = rng.randrange(len(words))
        j = min(len(words) - 1, i + rng.randint(0, 2))
        start, end = words[i][0], words[j][1]
        label = rng.choice(LABELS)
        spans[(start, end, label)] = Span(start, end, label, TEXT[start:end], round(rng.random(), 2), source,
                                          f"{start}-{end}-{label}")
    # Gold and one system's own spans do not overlap each other: keep the first of overlapping ones.
    kept: list[Span] = []
    for span in spans.values():
        if all(span.end <= k.start or k.end <= span.start for k in kept):
            kept.append(span)
    return Document(doc_id, TEXT, tuple(sorted(kept, key=lambda s: s.start)))


@pytest.mark.parametrize("seed", range(12))
def test_no_label_loses_to_its_better_source(seed):
    rng = random.Random(seed)
    ids = [f"d{i}" for i in range(4)]
    gold = [_random_doc(rng, i, "gold") for i in ids]
    rules = [_random_doc(rng, i, "rule:x") for i in ids]
    model = [_random_doc(rng, i, "model") for i in ids]
    choice = choose_sources(gold, rules, model, LABELS)
    assert set(choice["sources"].values()) <= set(SOURCES)
    assert choice["guarantee"] in GUARANTEES
    modes = MODES if choice["guarantee"] == GUARANTEES[0] else ("exact",)
    for label in choice["measured"]:
        scores = choice["scores"][label]
        for mode in modes:
            best = max((scores[s][mode] or {}).get("f1") or 0.0 for s in ("rules", "model"))
            combined = (scores["combined"][mode] or {}).get("f1") or 0.0
            assert combined >= best - 1e-9, (label, mode, choice["sources"])
