"""Span probabilities from the NER's per-step softmax (preannotate/nerscores.py): by hand, and on a small NER."""

from __future__ import annotations

import math

import numpy as np
import pytest
import spacy
from spacy.training import Example
from spacy.util import fix_random_seed

from annotate.preannotate.nerscores import Parse, parse_greedy

TEXTS = ("Rebels shelled Aleppo on Monday.", "The army left Mosul.", "", "Nothing here")


def test_a_span_multiplies_its_own_actions_and_the_one_before_it():
    # token 0: O chosen among 2 moves; tokens 1-2: the span's B and L, each chosen among 2; token 3 not in it
    steps = {t: (np.array([2.0, 0.0]), 0) for t in range(4)}
    parse = Parse([(1, 3, "LOCATION")], steps)
    one = 1 / (1 + math.exp(-2.0))
    assert parse.probability(1, 3) == pytest.approx(one ** 3)
    assert parse.probability(1, 3, temperature=2.0) == pytest.approx((1 / (1 + math.exp(-1.0))) ** 3)
    assert parse.probability(0, 1) == pytest.approx(one)  # at the start of the text: no action before it
    assert parse.scored() == [(1, 3, "LOCATION", pytest.approx(one ** 3))]


@pytest.fixture(scope="module")
def nlp():
    fix_random_seed(0)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    gold = [("Rebels shelled Aleppo on Monday.", [(0, 6, "ACTOR"), (15, 21, "LOCATION")]),
            ("The army left Mosul.", [(0, 8, "ACTOR"), (14, 19, "LOCATION")])]
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in gold]
    for label in ("ACTOR", "LOCATION"):
        ner.add_label(label)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):  # undertrained on purpose: its entities should not all be certain
        nlp.update(examples, sgd=optimizer, drop=0.1)
    return nlp


def test_the_greedy_parse_gives_spacys_own_entities(nlp):
    docs = [nlp.make_doc(t) for t in TEXTS]
    parses = parse_greedy(nlp.get_pipe("ner"), docs)
    expected = [sorted((e.start, e.end, e.label_) for e in doc.ents) for doc in nlp.pipe(TEXTS)]
    assert [p.entities for p in parses] == expected and any(expected)
    assert all(set(p.steps) == set(range(len(d))) for p, d in zip(parses, docs, strict=True))  # one step per token


def test_probabilities_fall_as_the_temperature_rises(nlp):
    parses = parse_greedy(nlp.get_pipe("ner"), [nlp.make_doc(t) for t in TEXTS])
    for parse in parses:
        for (_, _, _, p1), (_, _, _, p4) in zip(parse.scored(1.0), parse.scored(4.0), strict=True):
            assert 0.0 < p4 <= p1 <= 1.0


def test_no_entity_crosses_a_sentence_start_so_its_moves_leave_the_softmax(nlp):
    # spaCy's Begin and In are invalid when the next token starts a sentence (ner.pyx): the step before a
    # sentence start normalises over fewer moves than the same token without that boundary
    words = ["Rebels", "shelled", "Aleppo", "Troops", "left"]
    plain = nlp.make_doc(" ".join(words))
    split = nlp.make_doc(" ".join(words))
    for token in split:
        token.is_sent_start = token.i in (0, 3)
    parses = parse_greedy(nlp.get_pipe("ner"), [plain, split])
    assert len(parses[1].steps[2][0]) < len(parses[0].steps[2][0])
    assert all(not (s < 3 < e) for s, e, _ in parses[1].entities)
