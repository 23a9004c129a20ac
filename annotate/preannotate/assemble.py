"""The pre-annotator as one spaCy pipeline: base model + rule components (+ trained model) + combination.

    base (tok2vec tagger parser ... ner) -> annotate_entities -> annotate_outcomes -> annotate_relations
        [-> annotate_model] -> annotate_combine

`nlp.to_disk` saves all of it (the rule files and the trained sub-pipeline included), `spacy.load` opens it
(the factories are registered through the `spacy_factories` entry point of the annotate package), and
nlp.meta["preannotator"] holds the model_version every prediction carries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language

from ..config import Settings
from ..errors import ConfigError
from ..schema import load_schema
from .combine import DEFAULT_SOURCE, check_sources
from .model import load_model, model_version, resolve_model
from .ruledata import RuleData, rule_data
from .stages import RuleStage
from .trained import ModelStage, calibration_mapping, is_trained_model, load_trained, read_meta, score_temperature

META_KEY = "preannotator"  # nlp.meta[META_KEY]: model_version, trained model version, sources
RULE_COMPONENTS = ("annotate_entities", "annotate_outcomes", "annotate_relations")
MODEL_COMPONENT = "annotate_model"
COMBINE_COMPONENT = "annotate_combine"
PACKAGE_NAME = "annotate_preannotator"  # nlp.meta["name"]: `spacy package` makes en_annotate_preannotator-<version>


def build_pipeline(settings: Settings, model: str | None = None, sources: Mapping[str, str] | None = None,
                   with_rules: bool = True) -> Language:
    """The pre-annotator pipeline for `model`: a base model name or folder (default settings.spacy_model),
    a folder from `annotate train` (its model combined with the rules on settings.spacy_model, per-label
    sources from its meta.json unless `sources` is given; `with_rules=False`: the model alone), or a saved
    pre-annotator (used as it is)."""
    if is_trained_model(model):
        assert model is not None
        return _trained_pipeline(settings, model, sources, with_rules)
    nlp = load_model(model or settings.spacy_model)
    if COMBINE_COMPONENT in nlp.pipe_names:
        return nlp  # a saved pre-annotator
    data = rule_data(settings.guidelines_dir, load_schema(settings.guidelines_dir))
    version = model_version(nlp, data.rules.digest, json.dumps(data.mapping, sort_keys=True))
    _add_rules(nlp, data)
    _finish(nlp, {"model_version": version, "rules_version": version, "trained": None, "sources": {}})
    return nlp


def _trained_pipeline(settings: Settings, folder: str, sources: Mapping[str, str] | None, with_rules: bool) -> Language:
    meta = read_meta(Path(folder).expanduser())
    chosen = check_sources(meta.get("sources") if sources is None else sources)
    trained = load_trained(Path(folder).expanduser())
    rules_version = None
    if with_rules:
        nlp = build_pipeline(settings)
        rules_version = nlp.meta[META_KEY]["rules_version"]
        nlp.remove_pipe(COMBINE_COMPONENT)
    else:
        # the model alone: its own tokenizer and vocab, no component but its own
        nlp = spacy.load(Path(folder).expanduser() / "model", exclude=list(trained.pipe_names))
        chosen = {}
    # the model proposes the schema's labels only, scored at the temperature and through the mapping fitted on dev
    config = {"labels": list(load_schema(settings.guidelines_dir).label_names), "calibration": calibration_mapping(meta),
              "temperature": score_temperature(meta)}
    stage = nlp.add_pipe(MODEL_COMPONENT, config=config)
    assert isinstance(stage, ModelStage)
    stage.model = trained
    version = meta["version"] + (f"+{rules_version}" if rules_version else "") + _sources_suffix(chosen)
    info = {"model_version": version, "rules_version": rules_version, "trained": meta["version"], "sources": chosen}
    _finish(nlp, info)
    return nlp


def _sources_suffix(sources: Mapping[str, str]) -> str:
    """"+sources-ACTOR=model,..." for the labels whose source is not the default (so the version says it)."""
    chosen = sorted(f"{label}={s}" for label, s in sources.items() if s != DEFAULT_SOURCE)
    return "+sources-" + ",".join(chosen) if chosen else ""


def _add_rules(nlp: Language, data: RuleData) -> None:
    for name in RULE_COMPONENTS:
        stage = nlp.add_pipe(name)
        assert isinstance(stage, RuleStage)
        stage.set_rules(data)


def _finish(nlp: Language, info: dict[str, Any]) -> None:
    nlp.add_pipe(COMBINE_COMPONENT, config={"sources": info["sources"]})
    nlp.meta[META_KEY] = info
    nlp.meta["name"] = PACKAGE_NAME


def save_pipeline(nlp: Language, path: str | Path) -> Path:
    """Save a pre-annotator pipeline (build_pipeline's) to `path`; `spacy.load(path)` opens it again."""
    if META_KEY not in nlp.meta:
        raise ConfigError("not a pre-annotator pipeline (no nlp.meta['preannotator']); build it with build_pipeline")
    nlp.to_disk(path)
    return Path(path)


def load_pipeline(path: str | Path) -> Language:
    """A saved pre-annotator pipeline (ConfigError if `path` is none)."""
    nlp = load_model(resolve_model(str(path)))
    if META_KEY not in nlp.meta or COMBINE_COMPONENT not in nlp.pipe_names:
        raise ConfigError(f"{path}: not a saved pre-annotator (no {COMBINE_COMPONENT} component); "
                          "save one with preannotate.save_pipeline")
    return nlp
