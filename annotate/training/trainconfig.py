"""The spaCy training config for `annotate train`: spaCy's own `init config` output plus a few overrides.

Nothing here is a hand-written config (and spaCy is imported only when one is built: the CLI imports the names). `spacy.cli.init_config` writes the CPU "efficiency" config for the
strategy's component; the overrides are the training options (seed, steps, dropout, batch size), the label
file, and for the strategies that start from a pretrained pipeline the `source` of its components.

Strategies (compared on re3d and CNC by `python -m bench.loop --strategies`, see the README). `finetune` is
the default. Measured 2026-12-02 with the model stage dropping labels outside the schema: in 3-fold
cross-validation inside bench loop's training documents (the test documents unread) it led on re3d, exact/overlap
F1 ACTOR 0.523/0.672 and LOCATION 0.485/0.619, against 0.521/0.671 and 0.405/0.514 for `ner-base` and
0.476/0.619 and 0.386/0.514 for `ner`; on CNC's OUTCOME (folds of 14 sentences, noisy) the combination's
overlap F1 was 0.511, against 0.529 (`ner-base`) and 0.587 (`ner`). Its leftover pretrained labels (NORP,
CARDINAL...) are dropped by the pre-annotator's model stage (preannotate/trained.py).
- `ner`: a fresh NER on a fresh, vectors-free tok2vec (init config's own);
- `ner-base`: a fresh NER listening to the base model's tok2vec (sourced from e.g. en_core_web_sm, trained on);
- `finetune`: the base model's pretrained NER (it has its own tok2vec), the project labels added to it;
- `spancat`: a span categorizer on a fresh tok2vec (n-gram suggester up to SPANCAT_MAX_TOKENS tokens); trainable
  and measured by the bench, but not served: the pre-annotator's model stage reads NER entities (`SERVED`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

STRATEGIES = ("ner", "ner-base", "finetune", "spancat")
SERVED = ("finetune", "ner", "ner-base")  # what the pre-annotator's model stage (NER entities) can serve
DEFAULT_STRATEGY = "finetune"
NEEDS_BASE = frozenset({"ner-base", "finetune"})
SPANCAT_MAX_TOKENS = 10  # covers 99% of re3d's ACTOR/LOCATION spans; CNC's OUTCOMEs are longer (NER has no limit)


@dataclass(frozen=True)
class TrainOptions:
    """Knobs that change a trained model; every one is recorded in meta.json and the version hash."""

    seed: int = 0
    max_steps: int = 500
    patience: int = 250
    eval_frequency: int = 50
    dropout: float = 0.2
    batch_words: int = 300  # words per batch (spaCy's batch_by_words): small data wants small batches
    strategy: str = DEFAULT_STRATEGY
    base: str | None = None  # the pretrained pipeline of ner-base/finetune (None: settings.spacy_model)
    fraction: float = 1.0  # share of the training documents used (learning curve)

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def check(self) -> None:
        """ConfigError for a strategy spaCy cannot build (unknown name)."""
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"unknown training strategy {self.strategy!r}; valid: {', '.join(STRATEGIES)}")


def component(strategy: str) -> str:
    """The trained component's name: "spancat" or "ner"."""
    return "spancat" if strategy == "spancat" else "ner"


def build_config(options: TrainOptions, base_path: str | None = None) -> dict[str, Any]:
    """spaCy's init config for the strategy's component, with the option overrides applied (a plain dict)."""
    from spacy.cli.init_config import init_config

    options.check()
    name = component(options.strategy)
    if options.strategy in NEEDS_BASE and not base_path:
        raise ConfigError(f"strategy {options.strategy!r} starts from a pretrained pipeline: pass its path")
    cfg = init_config(lang="en", pipeline=[name], optimize="efficiency", gpu=False).copy()
    cfg["paths"]["labels"] = None
    cfg["system"]["seed"] = options.seed
    training = cfg["training"]
    training.update({"dropout": options.dropout, "patience": options.patience, "max_steps": options.max_steps,
                     "eval_frequency": options.eval_frequency})
    training["batcher"]["size"] = options.batch_words  # init config compounds 100 -> 1000: too big for a few docs
    training["logger"]["progress_bar"] = False
    cfg["initialize"]["components"] = {name: {"labels": {"@readers": "spacy.read_labels.v1",
                                                          "path": "${paths.labels}"}}}
    if options.strategy == "spancat":
        cfg["components"]["spancat"]["suggester"]["sizes"] = list(range(1, SPANCAT_MAX_TOKENS + 1))
    elif options.strategy == "ner-base":
        cfg["components"]["tok2vec"] = {"source": base_path}
        cfg["components"]["ner"]["model"]["tok2vec"].update(upstream="tok2vec", width=_tok2vec_width(str(base_path)))
    elif options.strategy == "finetune":
        # The pretrained NER embeds its own tok2vec. A sourced component is resumed, not initialised, so no label
        # file: the NER adds each project label the first time a training batch has it. Its own labels (PERSON,
        # GPE...) are unlearnt, since the gold marks every token outside a project span as outside (O).
        cfg["nlp"]["pipeline"] = ["ner"]
        cfg["components"] = {"ner": {"source": base_path}}
        cfg["initialize"]["components"] = {}
    return cfg


def _tok2vec_width(base_path: str) -> int:
    """The width of the base pipeline's shared tok2vec, which a listener must match."""
    import spacy

    model = spacy.load(base_path).config["components"]["tok2vec"]["model"]
    return int(model["encode"]["width"] if "encode" in model else model["width"])


def config_text(options: TrainOptions, base_path: str | None = None) -> str:
    """The full training config as text (what config.cfg holds); parsed once here so errors come early."""
    from spacy.util import load_config_from_str
    from thinc.api import Config

    text = Config(build_config(options, base_path)).to_str()
    load_config_from_str(text)
    return text


def label_data(strategy: str, labels: Sequence[str]) -> Any:
    """The label data spaCy's own component initialises from `labels` (what `spacy init labels` writes)."""
    if component(strategy) == "spancat":
        return sorted(labels)
    from spacy.pipeline._parser_internals.ner import BiluoPushDown

    # The NER's moves (B/I/L/U per label, U and O for the empty label) as its initialize() builds them.
    return {str(move): dict(counts) for move, counts in BiluoPushDown.get_actions(entity_types=list(labels)).items()}


def write_labels(labels: Sequence[str], path: Path, strategy: str = DEFAULT_STRATEGY) -> Path:
    """Write the label file the config's [initialize] reads, so every schema label exists from step 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(label_data(strategy, labels), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
