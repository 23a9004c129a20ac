"""The pre-annotator as one spaCy pipeline: saved and loaded, in two processes, combined per label by sources."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from preannotate_fixtures import PROJECT_ROOT
from spacy.training import Example
from spacy.util import fix_random_seed

from annotate.config import load_settings
from annotate.errors import ConfigError
from annotate.ingest.load import load_articles
from annotate.preannotate import build_pipeline, build_preannotator, load_preannotator, save_pipeline
from annotate.preannotate.annotator import Preannotator
from annotate.preannotate.combine import combine_by_source, combine_documents
from annotate.preannotate.resolve import Candidate
from annotate.preannotate.spangroups import MODEL, RULE_RELATIONS, RULES, get_candidates
from annotate.preannotate.trained import KIND, TrainedModel
from annotate.records import Article, Document, read_documents
from annotate.training.calibration import apply_mapping

pytestmark = pytest.mark.slow
LABELS = ("ACTOR", "LOCATION", "OUTCOME")
COMPONENTS = ("annotate_entities", "annotate_outcomes", "annotate_relations", "annotate_model", "annotate_combine")


@pytest.fixture(scope="module")
def settings():
    return load_settings(env={}, root=PROJECT_ROOT)


@pytest.fixture(scope="module")
def articles():
    return list(load_articles([PROJECT_ROOT / "seeds"]))


def _write_trained(folder: Path, sources: dict[str, str] | None = None, extra: str | None = None,
                   meta: dict | None = None) -> Path:
    """A small NER fitted in a few steps on the seed gold, in the folder shape `annotate train` writes
    (with `extra`, e.g. "NORP", the gold ACTORs ending in "s" get that label: a model that predicts a label
    outside the schema, as a fine-tuned pretrained NER may)."""
    fix_random_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in (*LABELS, *([extra] if extra else [])):
        ner.add_label(label)
    examples = []
    for gold in list(read_documents(PROJECT_ROOT / "guidelines" / "seed-gold.jsonl"))[:3]:
        doc = nlp.make_doc(gold.text)
        aligned = [(s.start, s.end, extra if extra and s.label == "ACTOR" and s.text.endswith("s") else s.label)
                   for s in sorted(gold.spans, key=lambda s: s.start) if doc.char_span(s.start, s.end) is not None]
        examples.append(Example.from_dict(doc, {"entities": _non_overlapping(aligned)}))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        nlp.update(examples, sgd=optimizer, drop=0.1)
    nlp.to_disk(folder / "model")
    meta = {"kind": KIND, "version": "ner-test"} | ({"sources": sources} if sources is not None else {}) | (meta or {})
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def _non_overlapping(ents: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for ent in ents:
        if not out or ent[0] >= out[-1][1]:
            out.append(ent)
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return _write_trained(tmp_path_factory.mktemp("trained"))


def _dicts(docs) -> list[dict]:
    return [d.to_dict() for d in docs]


# --- one pipeline, saved and loaded ---------------------------------------------------------------------------

def test_the_factories_are_registered_for_spacy_load() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="spacy_factories")}
    assert set(COMPONENTS) <= set(found)
    for name in COMPONENTS:
        assert spacy.registry.factories.get(name) is not None
        ep = next(ep for ep in entry_points(group="spacy_factories") if ep.name == name)
        assert callable(ep.load())


@pytest.mark.parametrize("with_model", [False, True])
def test_spacy_load_of_a_saved_preannotator_gives_identical_documents(settings, articles, trained, tmp_path,
                                                                      with_model: bool) -> None:
    pre = build_preannotator(settings, str(trained) if with_model else None)
    expected = _dicts(pre.annotate(articles))
    save_pipeline(pre.nlp, tmp_path / "pre")
    loaded = spacy.load(tmp_path / "pre")
    assert loaded.pipe_names == pre.nlp.pipe_names
    assert "annotate_model" in loaded.pipe_names if with_model else "annotate_model" not in loaded.pipe_names
    assert _dicts(Preannotator(loaded).annotate(articles)) == expected
    assert _dicts(load_preannotator(tmp_path / "pre").annotate(articles)) == expected
    # a saved pre-annotator is also a --model: used as it is, not wrapped in a second set of rules
    assert _dicts(build_preannotator(settings, str(tmp_path / "pre")).annotate(articles)) == expected


def test_the_saved_pipeline_needs_no_guidelines(settings, articles, tmp_path) -> None:
    pre = build_preannotator(settings)
    save_pipeline(pre.nlp, tmp_path / "pre")
    rules = tmp_path / "pre" / "annotate_entities" / "rules"
    assert sorted(p.name for p in rules.iterdir()) == sorted(
        p.name for p in (PROJECT_ROOT / "guidelines" / "rules").iterdir() if p.name not in ("README.md", "events.toml"))
    assert load_preannotator(tmp_path / "pre").model_version == pre.model_version


def test_a_folder_that_is_no_preannotator_is_refused(tmp_path) -> None:
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(ConfigError, match="not a saved pre-annotator"):
        load_preannotator(tmp_path / "blank")


def test_two_processes_with_a_trained_model_give_the_same_output(settings, articles, trained) -> None:
    pre = build_preannotator(settings, str(trained), sources={"ACTOR": "model"})
    many = [Article(f"{a.id}-{i}", a.text, a.meta) for i in range(2) for a in articles]
    one = _dicts(pre.annotate(many, processes=1, batch_size=3))
    two = _dicts(pre.annotate(many, processes=2, batch_size=3))
    assert one == two and [d["id"] for d in two] == [a.id for a in many]
    assert {s["source"] for d in one for s in d["spans"]} >= {"model"}


# --- the model stage: schema labels only, calibrated scores ------------------------------------------------------

@pytest.fixture(scope="module")
def norp_model(tmp_path_factory):
    """A model that predicts NORP besides the schema's labels, as a fine-tuned pretrained NER still may."""
    return _write_trained(tmp_path_factory.mktemp("norp"), extra="NORP")


@pytest.mark.parametrize("with_rules", [False, True])
def test_the_model_stage_never_proposes_a_label_outside_the_schema(settings, articles, norp_model,
                                                                   with_rules: bool) -> None:
    raw = [s for d in TrainedModel(norp_model).documents(articles) for s in d.spans]
    assert "NORP" in {s.label for s in raw} and {s.label for s in raw} & set(LABELS)  # it predicts both kinds
    pre = build_preannotator(settings, str(norp_model), with_rules=with_rules, sources={"ACTOR": "model"})
    layers = list(pre.layers(articles))
    proposed = {s.label for d in layers for layer in ("model", "combined") for s in d[layer].spans}
    assert "NORP" not in proposed and proposed <= set(LABELS)
    # its spans of schema labels still come
    assert {s.key for d in layers for s in d["model"].spans} == {s.key for s in raw if s.label in LABELS}


def test_the_dev_evaluation_drops_labels_outside_the_schema_and_counts_them(settings, norp_model) -> None:
    from annotate.training.compare import evaluate_on_dev
    from annotate.training.golddata import GoldData

    dev = list(read_documents(PROJECT_ROOT / "guidelines" / "seed-gold.jsonl"))[3:]
    gold = GoldData(train=Path("unused"), dev=Path("unused"), train_docs=(), dev_docs=tuple(dev), source={})
    result = evaluate_on_dev(settings)(norp_model, gold)
    assert result["foreign_labels"].get("NORP", 0) > 0
    assert set(result["scores"]["trained"]["exact"]["labels"]) <= set(LABELS)


MAPPING = {"method": "isotonic", "x": [0.1, 0.9], "y": [0.25, 0.35]}


@pytest.mark.parametrize("applied", [True, False])
def test_model_scores_take_the_temperature_and_calibration_mapping_of_meta_json(settings, articles, tmp_path,
                                                                        applied: bool) -> None:
    calibration = {"model": {"mapping": MAPPING if applied else None, "applied": applied, "temperature": 2.0}}
    folder = _write_trained(tmp_path / "m", meta={"calibration": calibration})
    raw = {s.key: s.score for d in TrainedModel(folder).documents(articles) for s in d.spans}  # at meta's temperature
    at_one = {s.key: s.score for d in TrainedModel(folder).documents(articles, temperature=1.0) for s in d.spans}
    assert at_one.keys() == raw.keys() and all(raw[k] <= at_one[k] for k in raw) and raw != at_one
    pre = build_preannotator(settings, str(folder), with_rules=False)
    served = {s.key: s.score for d in pre.annotate(articles) for s in d.spans}
    assert served and served.keys() == raw.keys()
    expected = {k: round(apply_mapping(MAPPING, v), 3) if applied else v for k, v in raw.items()}
    assert served == expected
    save_pipeline(pre.nlp, tmp_path / "pre")  # the temperature and mapping travel in the saved pipeline's config
    assert {s.key: s.score for d in load_preannotator(tmp_path / "pre").annotate(articles) for s in d.spans} == expected


# --- per-label sources -------------------------------------------------------------------------------------------

def _layers(nlp, articles):
    """Per article: (rule candidates, model candidates, rule relations, the Document) from one pass."""
    pre = Preannotator(nlp)
    out = []
    for doc, article in zip(nlp.pipe([a.text for a in articles]), articles, strict=True):
        out.append((get_candidates(doc, RULES), get_candidates(doc, MODEL), getattr(doc._, RULE_RELATIONS),
                    pre.document(doc, article)))
    return out


def _keys(cands, doc, label: str) -> set[tuple[int, int]]:
    return {(doc[c.start:c.end].start_char, doc[c.start:c.end].end_char) for c in cands if c.label == label}


@pytest.mark.parametrize("sources", [{"ACTOR": "model", "LOCATION": "rules", "OUTCOME": "both"},
                                     {"ACTOR": "rules", "LOCATION": "model"},
                                     {"ACTOR": "model", "LOCATION": "model", "OUTCOME": "model"}])
def test_each_label_comes_from_its_source(settings, articles, trained, sources) -> None:
    nlp = build_pipeline(settings, str(trained), sources)
    both = {d.id: d for d in build_preannotator(settings, str(trained), sources={}).annotate(articles)}
    for rules, model, relations, document in _layers(nlp, articles):
        doc = nlp.make_doc(document.text)
        for label in LABELS:
            got = {(s.start, s.end) for s in document.spans if s.label == label}
            source = sources.get(label, "both")
            if source == "rules":
                assert got == _keys(rules, doc, label)
            elif source == "model":
                assert got == _keys(model, doc, label)
            else:  # "both" gives the label what the all-"both" combination gives it, whatever the others chose
                assert got == {(s.start, s.end) for s in both[document.id].spans if s.label == label}
        ids = {s.id for s in document.spans}
        assert all(r.from_id in ids and r.to_id in ids for r in document.relations)
        assert [r for r in relations if r[0] in ids and r[1] in ids] == [
            [r.from_id, r.to_id, r.label] for r in document.relations]


def test_sources_come_from_meta_json_and_the_argument_overrides_them(settings, articles, tmp_path) -> None:
    folder = _write_trained(tmp_path / "m", sources={"ACTOR": "model", "LOCATION": "rules", "OUTCOME": "rules"})
    from_meta = build_preannotator(settings, str(folder))
    assert from_meta.nlp.get_pipe("annotate_combine").sources == {"ACTOR": "model", "LOCATION": "rules",
                                                                  "OUTCOME": "rules"}
    assert from_meta.model_version.endswith("+sources-ACTOR=model,LOCATION=rules,OUTCOME=rules")
    docs = list(from_meta.annotate(articles))
    assert any(s.label == "ACTOR" for d in docs for s in d.spans) and any(s.label != "ACTOR" for d in docs for s in d.spans)
    assert all(s.source == "model" for d in docs for s in d.spans if s.label == "ACTOR")
    assert all(s.source != "model" for d in docs for s in d.spans if s.label != "ACTOR")
    overridden = build_preannotator(settings, str(folder), sources={})
    assert overridden.nlp.get_pipe("annotate_combine").sources == {}
    assert overridden.model_version == "ner-test+" + build_preannotator(settings).model_version


def test_an_unknown_source_is_a_config_error(settings, trained) -> None:
    with pytest.raises(ConfigError, match="'ACTOR' is not one of rules, model, both"):
        build_preannotator(settings, str(trained), sources={"ACTOR": "gold"})


def _c(start: int, end: int, label: str, score: float) -> Candidate:
    return Candidate(start, end, label, score, "x")


def test_combine_by_source_keeps_cross_label_overlaps_of_single_source_labels() -> None:
    rules = [_c(0, 2, "LOCATION", 0.9), _c(5, 6, "ACTOR", 0.9)]
    model = [_c(1, 3, "ACTOR", 0.8), _c(5, 7, "LOCATION", 0.4), _c(9, 10, "LOCATION", 0.3)]
    # ACTOR from the model, LOCATION from the rules: both kept though they overlap
    assert combine_by_source(rules, model, {"ACTOR": "model", "LOCATION": "rules"}) == [rules[0], model[0]]
    # LOCATION "both": its model spans are tested against every rule span, ACTOR's dropped ones included
    assert combine_by_source(rules, model, {"ACTOR": "model"}) == [rules[0], model[0], model[2]]
    assert combine_by_source(rules, model, {}) == [rules[0], rules[1], model[2]]


def test_documents_round_trip_through_the_pipeline_output(settings) -> None:
    pre = build_preannotator(settings)
    doc = next(pre.annotate([Article("x", "Rebels seized the town of Kafr Zed and killed 3 people.")]))
    assert isinstance(doc, Document) and Document.from_dict(doc.to_dict()) == doc
    doc.check()


def test_one_pass_gives_the_rules_the_model_and_the_combination(settings, articles, trained) -> None:
    pre = build_preannotator(settings, str(trained), sources={"LOCATION": "model"})
    layers = list(pre.layers(articles))
    assert _dicts(d["rules"] for d in layers) == _dicts(build_preannotator(settings).annotate(articles))
    assert _dicts(d["model"] for d in layers) == _dicts(
        build_preannotator(settings, str(trained), with_rules=False).annotate(articles))
    assert _dicts(d["combined"] for d in layers) == _dicts(pre.annotate(articles))
    assert _dicts(combine_documents([d["rules"] for d in layers], [d["model"] for d in layers],
                                    {"LOCATION": "model"}, pre.model_version)) == _dicts(d["combined"] for d in layers)
