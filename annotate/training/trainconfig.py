"""The spaCy training config for `annotate train`, generated from the label schema and the training options.

NER (doc.ents) rather than spancat: the gold spans of one label do not overlap in practice (the export
reports the few that do), NER learns from a few hundred spans where spancat's span classifier needs many
more, and the beam gives each entity a probability for uncertainty ordering.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from spacy.util import load_config_from_str


@dataclass(frozen=True)
class TrainOptions:
    """Knobs that change a trained model; every one is recorded in meta.json and the version hash."""

    seed: int = 0
    max_steps: int = 500
    patience: int = 250
    eval_frequency: int = 50
    dropout: float = 0.2
    width: int = 96
    base: str | None = None  # a spaCy model whose tok2vec weights are the starting point (None: blank English)
    fraction: float = 1.0  # share of the training documents used (learning curve)

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


_TEMPLATE = """
[paths]
train = null
dev = null
labels = null

[system]
gpu_allocator = null
seed = {seed}

[nlp]
lang = "en"
pipeline = ["tok2vec", "ner"]
batch_size = 256

[components]

[components.tok2vec]
{tok2vec}

[components.ner]
factory = "ner"
moves = null
update_with_oracle_cut_size = 100
incorrect_spans_key = null

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 64
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = {width}
upstream = "tok2vec"

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}
max_length = 0

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}
max_length = 0

[training]
dev_corpus = "corpora.dev"
train_corpus = "corpora.train"
seed = ${{system.seed}}
gpu_allocator = null
dropout = {dropout}
accumulate_gradient = 1
patience = {patience}
max_epochs = 0
max_steps = {max_steps}
eval_frequency = {eval_frequency}
frozen_components = []
annotating_components = []

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
discard_oversize = false
tolerance = 0.2
size = 300

[training.logger]
@loggers = "spacy.ConsoleLogger.v1"
progress_bar = false

[training.optimizer]
@optimizers = "Adam.v1"
learn_rate = 0.001
L2 = 0.01
grad_clip = 1.0

[training.score_weights]
ents_f = 1.0
ents_p = 0.0
ents_r = 0.0
ents_per_type = null

[initialize]

[initialize.components]

[initialize.components.ner]

[initialize.components.ner.labels]
@readers = "spacy.read_labels.v1"
path = ${{paths.labels}}
"""

_BLANK_TOK2VEC = """factory = "tok2vec"

[components.tok2vec.model]
@architectures = "spacy.Tok2Vec.v2"

[components.tok2vec.model.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = {width}
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [5000, 1000, 2500, 2500]
include_static_vectors = false

[components.tok2vec.model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = {width}
depth = 4
window_size = 1
maxout_pieces = 3"""


def ner_label_data(labels: Sequence[str]) -> dict[str, dict[str, int]]:
    """The NER moves for `labels` as spaCy's `init labels` writes them (B/I/L/U per label)."""
    # Move codes of spaCy's BiluoPushDown: 0 MISSING, 1 BEGIN, 2 IN, 3 LAST, 4 UNIT, 5 OUT; the empty label
    # of UNIT and OUT is "outside any entity", as BiluoPushDown.get_actions adds it.
    moves: dict[str, dict[str, int]] = {str(move): {label: 1 for label in labels} for move in (1, 2, 3, 4)}
    moves["0"] = {}
    moves["4"][""] = 1
    moves["5"] = {"": 1}
    return moves


def write_labels(labels: Sequence[str], path: Path) -> Path:
    """Write the label file the config's [initialize] reads, so every schema label exists from step 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ner_label_data(labels), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def config_text(options: TrainOptions, base_path: str | None = None) -> str:
    """The full training config; `base_path` (a resolved model) sources its tok2vec instead of a blank one."""
    tok2vec = f'source = "{base_path}"' if base_path else _BLANK_TOK2VEC.format(width=options.width)
    text = _TEMPLATE.format(seed=options.seed, tok2vec=tok2vec, width=options.width, dropout=options.dropout,
                            patience=options.patience, max_steps=options.max_steps,
                            eval_frequency=options.eval_frequency)
    load_config_from_str(text)  # fail here, with spaCy's message, rather than half-way through training
    return text.lstrip()
