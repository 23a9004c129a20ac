"""`annotate train`: gold data preparation, config, combination of spans, and (slow) real training runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate.cli import main
from annotate.config import load_settings
from annotate.errors import ConfigError, InputError
from annotate.preannotate import build_preannotator
from annotate.preannotate.combine import combine_by_source
from annotate.preannotate.trained import KIND, is_trained_model, read_meta
from annotate.records import Article, Document, Span
from annotate.training.golddata import GoldData, load_gold, split_paragraphs, subsample
from annotate.training.train import TrainOptions, learning_curve, model_version_for, train_model
from annotate.training.trainconfig import STRATEGIES, build_config, config_text, label_data

ROOT = Path(__file__).resolve().parent.parent
SEED_GOLD = ROOT / "guidelines" / "seed-gold.jsonl"
LABELS = ("ACTOR", "LOCATION", "OUTCOME")


def _span(text: str, word: str, label: str, score: float | None = None, source: str | None = None) -> Span:
    start = text.index(word)
    return Span(start, start + len(word), label, word, score, source)


# --- gold data -------------------------------------------------------------------------------------

def test_split_paragraphs_shifts_offsets_into_each_paragraph():
    text = "Rebels seized Kidal.\n\nThe army withdrew from Gao."
    doc = Document("a", text, (_span(text, "Kidal", "LOCATION"), _span(text, "Gao", "LOCATION")))
    parts = split_paragraphs(doc)
    assert [(p.id, p.text) for p in parts] == [("a-p0", "Rebels seized Kidal."), ("a-p1", "The army withdrew from Gao.")]
    assert [(s.start, s.end, s.text) for p in parts for s in p.spans] == [(14, 19, "Kidal"), (23, 26, "Gao")]
    for part in parts:
        part.check()


def test_split_paragraphs_never_cuts_through_a_span():
    text = "Forces of the\nNational Army seized it.\nEnd."
    doc = Document("a", text, (Span(0, 27, "ACTOR", text[:27]),))
    parts = split_paragraphs(doc)
    assert [p.text for p in parts] == ["Forces of the\nNational Army seized it.", "End."]
    assert parts[0].spans[0].text == "Forces of the\nNational Army"


def test_seed_gold_splits_by_article(tmp_path):
    gold = load_gold(SEED_GOLD, tmp_path, 0.2)
    train_articles = {d.meta["article_id"] for d in gold.train_docs}
    dev_articles = {d.id for d in gold.dev_docs}
    assert len(dev_articles) == 1 and len(train_articles) == 4
    assert not train_articles & dev_articles
    assert gold.source["sha256"] and (tmp_path / "train.spacy").is_file() and (tmp_path / "dev.spacy").is_file()


def test_gold_jsonl_with_one_article_is_refused(tmp_path):
    one = tmp_path / "one.jsonl"
    one.write_text(SEED_GOLD.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="needs at least 2 gold articles"):
        load_gold(one, tmp_path / "work", 0.2)


def test_folder_without_docbins_is_not_a_gold_export(tmp_path):
    with pytest.raises(InputError, match="missing train.spacy, dev.spacy, gold.jsonl"):
        load_gold(tmp_path, tmp_path / "work", 0.2)


def test_missing_gold_path_says_what_is_expected(tmp_path):
    with pytest.raises(InputError, match="expected exports/gold/latest or a gold JSONL"):
        load_gold(tmp_path / "nope", tmp_path / "work", 0.2)


def test_subsample_is_stable_and_nested():
    docs = [Document(f"d{i}", "x", ()) for i in range(8)]
    quarter, half = subsample(docs, 0.25), subsample(docs, 0.5)
    assert len(quarter) == 2 and len(half) == 4
    assert quarter == half[:2] == subsample(list(reversed(docs)), 0.25)


# --- config and versions ------------------------------------------------------------------------

def test_label_file_has_every_schema_label_for_every_entity_move():
    data = label_data("ner", LABELS)
    assert all(set(data[m]) >= set(LABELS) for m in ("1", "2", "3", "4"))
    assert data["5"] == {"": 1} and data["0"] == {} and "" in data["4"]
    assert label_data("spancat", LABELS) == sorted(LABELS)


def test_config_carries_seed_steps_and_optional_base():
    blank = config_text(TrainOptions(seed=7, max_steps=123, strategy="ner"))
    assert "seed = 7" in blank and "max_steps = 123" in blank and "MultiHashEmbed" in blank
    based = config_text(TrainOptions(strategy="finetune"), base_path="/models/base")
    assert 'source = "/models/base"' in based and "MultiHashEmbed" not in based


@pytest.mark.parametrize("strategy", ["ner", "spancat"])
def test_config_is_spacys_own_init_config_with_overrides(strategy):
    from spacy.cli.init_config import init_config

    ours = build_config(TrainOptions(strategy=strategy, dropout=0.3, batch_words=123))
    theirs = init_config(lang="en", pipeline=[strategy], optimize="efficiency", gpu=False)
    assert ours["components"]["tok2vec"] == theirs["components"]["tok2vec"]
    assert ours["components"][strategy]["model"] == theirs["components"][strategy]["model"]
    assert (ours["training"]["dropout"], ours["training"]["batcher"]["size"]) == (0.3, 123)
    assert ours["training"]["optimizer"] == theirs["training"]["optimizer"]


def test_strategies_that_start_from_a_pretrained_pipeline_need_one():
    for strategy in ("finetune", "ner-base"):
        with pytest.raises(ConfigError, match="starts from a pretrained pipeline"):
            config_text(TrainOptions(strategy=strategy))
    with pytest.raises(ConfigError, match=f"valid: {', '.join(STRATEGIES)}"):
        config_text(TrainOptions(strategy="crf"))


def test_version_changes_with_seed_and_gold_only():
    gold = GoldData(Path("t"), Path("d"), (), (), {"sha256": "abc"})
    other = GoldData(Path("t"), Path("d"), (), (), {"sha256": "def"})
    config = config_text(TrainOptions(strategy="ner"))
    a = model_version_for(gold, config, TrainOptions(seed=0))
    assert a == model_version_for(gold, config, TrainOptions(seed=0))
    assert a != model_version_for(gold, config, TrainOptions(seed=1))
    assert a != model_version_for(other, config, TrainOptions(seed=0))
    assert a.startswith("ner-") and len(a) == 16


# --- combining rules and model ------------------------------------------------------------------

TEXT = "ISIL fighters withdrew from the town of Saraqeb."


def test_combined_keeps_rule_spans_and_adds_model_spans_where_rules_found_nothing():
    rules = [_span(TEXT, "ISIL fighters", "ACTOR", 0.5, "rule")]
    model = [_span(TEXT, "ISIL", "ACTOR", 0.99, "model"), _span(TEXT, "withdrew", "OUTCOME", 0.8, "model"),
             _span(TEXT, "Saraqeb", "LOCATION", 0.6, "model")]
    combined = combine_by_source(rules, model, {})  # every label from both
    assert [(s.text, s.source) for s in combined] == [("ISIL fighters", "rule"), ("withdrew", "model"),
                                                      ("Saraqeb", "model")]


def test_combined_model_spans_overlapping_each_other_keep_the_more_confident():
    model = [_span(TEXT, "town of Saraqeb", "LOCATION", 0.4), _span(TEXT, "Saraqeb", "LOCATION", 0.9)]
    assert [s.text for s in combine_by_source([], model, {})] == ["Saraqeb"]


# --- trained model folders ----------------------------------------------------------------------

def test_folder_without_meta_is_not_a_trained_model(tmp_path):
    assert not is_trained_model(tmp_path)
    assert not is_trained_model(None)
    with pytest.raises(ConfigError, match="not a trained model's meta.json"):
        read_meta(tmp_path)


def test_meta_of_another_kind_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "meta.json").write_text(json.dumps({"kind": "something-else"}), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"expected '{KIND}'"):
        read_meta(tmp_path)


# --- real training (slow) -----------------------------------------------------------------------

FAST = TrainOptions(seed=0, max_steps=120, patience=120, eval_frequency=40)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small model trained on the seed gold, with the trained/rules/combined comparison."""
    from annotate.training.compare import evaluate_on_dev

    root = tmp_path_factory.mktemp("train-root")
    for name in ("guidelines", "seeds"):
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    settings = load_settings({}, env={}, root=root)
    return settings, train_model(settings, SEED_GOLD, FAST, evaluate=evaluate_on_dev(settings))


@pytest.mark.slow
def test_training_saves_a_versioned_model_with_its_gold_and_seed(trained):
    settings, result = trained
    assert result.folder == settings.root / "models" / result.version
    meta = json.loads((result.folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == result.version and meta["seed"] == 0
    assert meta["gold"]["sha256"] == __import__("hashlib").sha256(SEED_GOLD.read_bytes()).hexdigest()
    assert meta["documents"] == {"train": len(load_gold(SEED_GOLD, settings.root / "g", 0.2).train_docs), "dev": 1}
    assert is_trained_model(result.folder)


@pytest.mark.slow
def test_scores_compare_trained_rules_and_combined_per_label(trained, tmp_path):
    _, result = trained
    scores = result.meta["scores"]
    assert scores["documents"] == 1
    for system in ("trained", "rules", "combined"):
        labels = scores[system]["exact"]["labels"]
        assert set(labels) == set(LABELS)
        assert all(0.0 <= m["f1"] <= 1.0 for m in labels.values())
    # Gold has the same spans for every system: tp + fn is the number of dev gold spans, per label.
    gold_counts = {lab: scores["rules"]["exact"]["labels"][lab]["tp"] + scores["rules"]["exact"]["labels"][lab]["fn"]
                   for lab in LABELS}
    dev = next(d for d in load_gold(SEED_GOLD, tmp_path, 0.2).dev_docs)
    assert gold_counts == {lab: sum(s.label == lab for s in dev.spans) for lab in LABELS}
    assert scores["versions"]["combined"] == f"{result.version}+{scores['versions']['rules']}"


@pytest.mark.slow
def test_meta_records_per_label_sources_that_never_lose_on_dev(trained):
    _, result = trained
    meta = read_meta(result.folder)
    assert set(meta["sources"]) == set(LABELS) and set(meta["sources"].values()) <= {"rules", "model", "both"}
    from annotate.training.sources import GUARANTEES

    modes = ("exact", "overlap") if meta["source_choice"]["guarantee"] == GUARANTEES[0] else ("exact",)
    scores = meta["scores"]  # scored apart from the choice, by compare_systems on the combined documents
    for label in meta["source_choice"]["measured"]:
        for mode in modes:
            best = max(scores[s][mode]["labels"][label]["f1"] for s in ("trained", "rules"))
            assert scores["combined"][mode]["labels"][label]["f1"] >= best, (label, mode, meta["sources"])


@pytest.mark.slow
def test_meta_records_the_reliability_of_the_scores_on_dev(trained):
    _, result = trained
    calibration = read_meta(result.folder)["calibration"]
    for source in ("model", "rules"):
        raw = calibration[source]["raw"]
        assert raw["spans"] == sum(b["spans"] for b in raw["bins"]) > 0
        assert 0.0 <= raw["ece"] <= 1.0
        assert calibration[source]["applied"] is (calibration[source]["mapping"] is not None)


@pytest.mark.slow
def test_trained_model_version_flows_into_predictions(trained):
    settings, result = trained
    article = Article("x", "Jihadists withdrew from Saraqeb on Friday, a monitor said.")
    alone = build_preannotator(settings, str(result.folder), with_rules=False)
    both = build_preannotator(settings, str(result.folder))
    doc = next(alone.annotate([article]))
    assert doc.model_version == result.version
    assert doc.spans and all(s.source == "model" and 0.0 <= s.score <= 1.0 for s in doc.spans)
    combined = next(both.annotate([article]))
    assert combined.model_version.startswith(result.version + "+rules-")
    for span in (*doc.spans, *combined.spans):
        span.check(article.text)


@pytest.mark.slow
def test_same_seed_same_weights(trained, tmp_path):
    settings, _ = trained
    tiny = TrainOptions(max_steps=20, patience=20, eval_frequency=10)
    first = train_model(settings, SEED_GOLD, tiny, out_dir=tmp_path / "a")
    second = train_model(settings, SEED_GOLD, tiny, out_dir=tmp_path / "b")
    other = train_model(settings, SEED_GOLD, TrainOptions(seed=1, max_steps=20, patience=20, eval_frequency=10),
                        out_dir=tmp_path / "c")
    weights = [(r.folder / "model" / "ner" / "model").read_bytes() for r in (first, second, other)]
    assert first.version == second.version != other.version
    assert weights[0] == weights[1] != weights[2]


@pytest.mark.slow
def test_learning_curve_trains_on_growing_shares(trained, tmp_path):
    settings, _ = trained
    tiny = TrainOptions(max_steps=10, patience=10, eval_frequency=10)
    results = learning_curve(settings, SEED_GOLD, tiny, fractions=(0.5, 1.0), out_dir=tmp_path)
    counts = [r.meta["documents"]["train"] for r in results]
    assert counts[0] == round(counts[1] * 0.5) and counts[1] > counts[0]
    assert len({r.version for r in results}) == 2


@pytest.mark.slow
def test_train_cli_prints_the_comparison_table(trained, tmp_path):
    settings, _ = trained
    out = tmp_path / "models"
    result = CliRunner().invoke(main, ["--root", str(settings.root), "train", "--gold", str(SEED_GOLD),
                                       "--max-steps", "10", "--strategy", "ner", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("model ner-") and str(out) in lines[0]
    assert lines[2].split() == ["label", "trained", "rules", "combined"]
    assert [line.split()[0] for line in lines[3:7]] == ["ACTOR", "LOCATION", "OUTCOME", "overall"]
    sources = lines.index(next(line for line in lines if line.startswith("sources per label")))
    assert [line.split()[0] for line in lines[sources + 2:sources + 5]] == ["ACTOR", "LOCATION", "OUTCOME"]
    assert any(line.startswith("calibration of model scores on dev:") for line in lines)


def test_train_cli_without_gold_export_says_what_to_do(project_root):
    result = CliRunner().invoke(main, ["--root", str(project_root), "train"])
    assert result.exit_code == 1
    assert "no such gold folder or file; expected exports/gold/latest or a gold JSONL" in result.output


def test_preannotate_cli_with_a_folder_that_is_not_a_model_fails_cleanly(project_root, tmp_path):
    shutil.copytree(ROOT / "tests" / "data" / "ingest", tmp_path / "in", dirs_exist_ok=True)
    result = CliRunner().invoke(main, ["--root", str(project_root), "preannotate", str(tmp_path / "in"),
                                       "--out", str(tmp_path / "o.jsonl"), "--model", str(tmp_path), "--model-only"])
    assert result.exit_code == 1
    assert "Error: cannot load spaCy model" in result.output


@pytest.mark.slow
@pytest.mark.parametrize(("flag", "suffix"), [("--model-only", ""), ("--with-rules", "+rules-")])
def test_preannotate_cli_with_a_trained_model(trained, tmp_path, flag, suffix):
    settings, result = trained
    out = tmp_path / "pre.jsonl"
    run = CliRunner().invoke(main, ["--root", str(settings.root), "preannotate", str(ROOT / "seeds"), "--out", str(out),
                                    "--model", str(result.folder), flag])
    assert run.exit_code == 0, run.output
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(docs) == 5
    versions = {d["model_version"] for d in docs}
    assert len(versions) == 1 and next(iter(versions)).startswith(result.version + suffix)
    if flag == "--model-only":
        assert {s["source"] for d in docs for s in d["spans"]} == {"model"}
