"""Span probabilities from a trained NER's own per-step softmax, over the greedy parse it proposes.

spaCy's NER is a transition system: one action per token (B-, I-, L-, U-<label> or O), each chosen by a
softmax over the moves valid in that state, which is what its greedy training optimises (`cpu_log_loss`).
The entity probability of `ner.beam_parse` + `scored_ents` does not serve a greedy-trained model: the beam ranks
parses by the sum of raw action scores (not log-probabilities; the valid-move normaliser is left out) and keeps
`beam_width` parses of a whole document, so its softmax puts nearly all the mass on the greedy parse and the
16 parses differ only at the document's few least certain tokens. Every entity then scored about 1.0
(measured on re3d dev, width 16, density 1e-4: 130 of 130 entities >= 0.99).

Here a span's probability is the product, along the greedy parse, of the softmax probabilities of the actions
that make it: its own (B..L or U, so label, extent and end) and the action on the token before it (that it
starts there, not earlier). The actions' scores are divided by a temperature first: a fine-tuned NER's margins
are large (median about 13 between the chosen and the next valid move on re3d dev), so `annotate train` fits
the temperature on dev (training/calibration.fit_temperature) and stores it with the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from spacy.pipeline import EntityRecognizer
from spacy.pipeline._parser_internals._beam_utils import BeamBatch
from spacy.tokens import Doc

Entity = tuple[int, int, str]  # token start, token end, label


@dataclass
class Parse:
    """The greedy parse of one Doc: its entities, and per token the valid moves' scores and the chosen one."""

    entities: list[Entity]
    steps: dict[int, tuple[np.ndarray, int]] = field(default_factory=dict)

    def probability(self, start: int, end: int, temperature: float = 1.0) -> float:
        """The product of the chosen actions' softmax probabilities over tokens start-1 .. end-1."""
        log_p = 0.0
        for token in range(max(0, start - 1), end):
            scores, chosen = self.steps[token]
            z = scores / temperature
            top = float(z.max())
            log_p += float(z[chosen]) - top - math.log(float(np.exp(z - top).sum()))
        return math.exp(log_p)

    def scored(self, temperature: float = 1.0) -> list[tuple[int, int, str, float]]:
        """(start, end, label, probability) of every entity."""
        return [(s, e, label, self.probability(s, e, temperature)) for s, e, label in self.entities]


def parse_greedy(ner: EntityRecognizer, docs: Sequence[Doc]) -> list[Parse]:
    """The greedy parses of `docs` (upstream components already run), keeping each step's valid move scores.

    A width-1 beam is spaCy's greedy parse (the best valid move at every step); its states give the valid
    moves through `moves.is_valid`, asked once per kind of state: what ner.pyx's is_valid reads (the open
    entity's label; this token's whitespace and preset entity; whether there is a next token, and its preset
    entity and sentence start).
    """
    moves = ner.moves
    names = [moves.get_class_name(i) for i in range(moves.n_moves)]
    batch = BeamBatch(moves, moves.init_batch(docs), None, 1, density=0.0)
    parses = [Parse([]) for _ in docs]
    opened: list[str | None] = [None] * len(docs)  # the label of the entity open in each doc's state
    masks: dict[tuple[object, ...], np.ndarray] = {}
    model = ner.model.predict(list(docs))
    while not batch.is_done:
        live = [i for i, beam in enumerate(batch) if not beam.is_done]
        states = batch.get_unfinished_states()
        scores = model.predict(states)
        for row, i, state in zip(scores, live, states, strict=True):
            doc, b0, b1 = docs[i], state.B(0), state.B(1)
            key = (opened[i], doc[b0].is_space, doc[b0].ent_iob, doc[b0].ent_type,
                   None if b1 == -1 else (doc[b1].ent_iob, doc[b1].is_sent_start is True))
            if key not in masks:
                masks[key] = np.flatnonzero([moves.is_valid(state, name) for name in names])
            valid = masks[key]
            chosen = int(np.argmax(row[valid]))
            parses[i].steps[b0] = (row[valid].astype("f8"), chosen)
            name = names[valid[chosen]]
            opened[i] = name[2:] if name[0] in "BI" else None
        batch.advance(scores)
    model.clear_memory()
    for parse, beam in zip(parses, batch, strict=True):
        parse.entities = sorted(moves.get_beam_parses(beam)[0][1])
    return parses
