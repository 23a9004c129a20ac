"""Benchmark: the learning curve on external gold (issue 14), rules vs trained model vs both, per label.

Reads re3d (ACTOR, LOCATION) and the Causal News Corpus (OUTCOME) from ../shared/data/ (never copied into
the repo), splits each into train and test documents with a fixed seed, trains with `train_model` on growing
numbers of training documents (each training holds out its own dev share, as `annotate train --gold` does, to
pick its checkpoint, each label's source and the score calibration), and scores the three systems on the test
documents with score_documents. "combined" is the combination with the per-label sources chosen on dev.
Only the labels a corpus annotates are scored there: re3d has no OUTCOME gold, CNC only OUTCOME.

`python -m bench loop [--quick]` prints the curve and the goals; `python -m bench.loop --strategies [--quick]`
compares the training strategies on all training documents (chosen on dev; test figures only reported).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotate.records import Article, Document

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SEED = 14
TRAIN_SHARE = 2 / 3
RE3D_SIZES = (10, 20, 30)  # and "all", which is 30 with a 2/3 split of 45
SYSTEMS = ("rules", "model", "combined")
MODES = ("exact", "overlap")


@dataclass(frozen=True)
class Corpus:
    """One external corpus: its file in DATA and the labels its gold annotates."""

    name: str
    file: str
    labels: tuple[str, ...]


CORPORA = (Corpus("re3d", "re3d-dev.jsonl", ("ACTOR", "LOCATION")), Corpus("cnc", "cnc-dev.jsonl", ("OUTCOME",)))
# (corpus, label, mode, measure, threshold), judged on the combination (what `preannotate --model` proposes).
GOALS = (("re3d", "ACTOR", "exact", "f1", 0.60), ("re3d", "ACTOR", "overlap", "f1", 0.80),
         ("re3d", "LOCATION", "exact", "f1", 0.60), ("re3d", "LOCATION", "overlap", "f1", 0.72),
         ("cnc", "OUTCOME", "overlap", "recall", 0.70))


def split_documents(docs: Sequence[Document], seed: int = SEED,
                    share: float = TRAIN_SHARE) -> tuple[list[Document], list[Document]]:
    """(train, test) at document level: ids sorted, then shuffled with `seed`, so file order does not matter."""
    ordered = sorted(docs, key=lambda d: d.id)
    random.Random(seed).shuffle(ordered)
    cut = round(len(ordered) * share)
    return ordered[:cut], ordered[cut:]


def curve_sizes(n_train: int, reference: int | None = None, quick: bool = False) -> list[int]:
    """Training sizes: 10, 20, 30 and all; with `reference` (re3d's training count), the same shares of n_train."""
    if reference is None:
        sizes = sorted({s for s in RE3D_SIZES if s < n_train} | {n_train})
    else:
        sizes = sorted({max(2, round(n_train * s / reference)) for s in curve_sizes(reference)})
    return [sizes[0], sizes[-1]] if quick and len(sizes) > 1 else sizes


def keep_labels(docs: Sequence[Document], labels: Sequence[str]) -> list[Document]:
    """Documents with only the spans of `labels` (relations dropped: they are not scored here)."""
    return [Document(d.id, d.text, tuple(s for s in d.spans if s.label in labels), d.meta, d.model_version)
            for d in docs]


def score_labels(gold: Sequence[Document], pred: Sequence[Document], labels: Sequence[str]) -> dict[str, Any]:
    """{label: {mode: prf}} over `labels` only: predictions of other labels are not false positives here."""
    from annotate.evaluate import score_documents
    from annotate.scoring import Counts, prf

    scores = score_documents(keep_labels(gold, labels), keep_labels(pred, labels))
    empty = prf(Counts())  # a label neither side has: n/a, as score_documents would say
    return {lab: {mode: scores[mode]["labels"].get(lab, empty) for mode in MODES} for lab in labels}


def read_corpus(corpus: Corpus, folder: Path = DATA) -> list[Document]:
    """The corpus' gold Documents (offsets checked by read_documents)."""
    from annotate.records import read_documents

    return list(read_documents(folder / corpus.file))


def _articles(docs: Sequence[Document]) -> list[Article]:
    return [Article(d.id, d.text, dict(d.meta)) for d in docs]


def _train(settings: Any, docs: Sequence[Document], work: Path, options: Any) -> tuple[Path, float, dict[str, Any]]:
    """Train on `docs` through a gold JSONL, as `annotate train --gold FILE` does; (folder, seconds, meta).

    With annotate train's own dev evaluation: it picks the per-label sources and fits the score calibration.
    """
    from annotate.training.compare import evaluate_on_dev
    from annotate.training.train import train_model

    path = work / f"gold-{len(docs)}.jsonl"
    path.write_text("".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    start = time.perf_counter()
    result = train_model(settings, path, options, out_dir=work / "models", evaluate=evaluate_on_dev(settings))
    return result.folder, time.perf_counter() - start, result.meta


def _predict(settings: Any, model: str | None, articles: list[Article], with_rules: bool = True) -> list[Document]:
    from annotate.preannotate import build_preannotator

    return list(build_preannotator(settings, model, with_rules=with_rules).annotate(articles))


def same_spans(a: Sequence[Document], b: Sequence[Document]) -> bool:
    """True when both document lists propose the same span keys, document by document."""
    return [{s.key for s in d.spans} for d in a] == [{s.key for s in d.spans} for d in b]


def calibration_on_test(test: Sequence[Document], model_docs: Sequence[Document], meta: dict[str, Any],
                        untempered: Sequence[Document] = ()) -> dict[str, Any]:
    """Reliability of the model's span scores on the test documents: at temperature 1 (`untempered`), at the
    temperature fitted on dev (`model_docs`, "raw"), and that through the mapping fitted on dev ("mapped", what
    the pre-annotator proposes when the mapping is applied); "auc": how well each orders right before wrong."""
    from annotate.training.calibration import apply_mapping, ranking_auc, reliability, scored_pairs

    pairs = scored_pairs(test, model_docs)
    model = meta["calibration"]["model"]
    mapped = [(apply_mapping(model["mapping"], s), c) for s, c in pairs]
    at_one = scored_pairs(test, untempered)
    return {"untempered": reliability(at_one), "raw": reliability(pairs), "mapped": reliability(mapped),
            "auc": {"untempered": ranking_auc(at_one), "raw": ranking_auc(pairs), "mapped": ranking_auc(mapped)},
            "temperature": model.get("temperature", 1.0), "mapping_applied": model["applied"]}


def run_corpus(settings: Any, corpus: Corpus, docs: list[Document], sizes: list[int], options: Any,
               work: Path, echo: bool = True) -> dict[str, Any]:
    """Train at each size on the first `size` training documents; score rules, model and both on the test ones.

    "combined" is the combination with the sources the training chose per label on its dev split
    (training/sources.py); `honoured` says whether `preannotate --model` proposes exactly those spans.
    """
    from annotate.preannotate.trained import TrainedModel, in_schema
    from annotate.training.sources import combine_documents

    train, test = split_documents(docs)
    articles = _articles(test)
    labels = _schema_labels(settings)
    rules_docs = _predict(settings, None, articles)
    rules = score_labels(test, rules_docs, corpus.labels)
    rows = []
    for size in sizes:
        folder, seconds, meta = _train(settings, train[:size], work, options)
        model_docs = _predict(settings, str(folder), articles, with_rules=False)
        combined_docs = combine_documents(rules_docs, model_docs, meta["sources"])
        product = _predict(settings, str(folder), articles)
        trained = TrainedModel(folder)
        parsed = list(trained.parses(articles))
        raw_docs, untempered = ([Document(d.id, d.text, tuple(in_schema(d.spans, labels)), d.meta)
                                 for d in trained.documents_of(parsed, t)] for t in (None, 1.0))  # before the mapping
        # fit_documents is train_model's meta "documents": train counts paragraphs, dev whole held-out documents.
        rows.append({"train_documents": size, "fit_documents": meta["documents"], "train_seconds": round(seconds, 1),
                     "fit_seconds": meta["train_seconds"],
                     "sources": {lab: meta["sources"][lab] for lab in corpus.labels},
                     "honoured": same_spans(product, combined_docs),
                     "scores": {"rules": rules, "model": score_labels(test, model_docs, corpus.labels),
                                "combined": score_labels(test, combined_docs, corpus.labels)},
                     "dev_scores": meta["scores"],
                     "calibration": {"dev": meta["calibration"]["model"],
                                     "test": calibration_on_test(test, raw_docs, meta, untempered)}})
        if echo:
            print(format_row(rows[-1], corpus.labels), flush=True)
    return {"labels": list(corpus.labels), "train": len(train), "test": len(test), "rows": rows}


def _schema_labels(settings: Any) -> tuple[str, ...]:
    from annotate.schema import load_schema

    return load_schema(settings.guidelines_dir).label_names


def _cell(scores: dict[str, Any], label: str) -> str:
    from annotate.scoring import show

    return "/".join(show(scores[label][mode]["f1"]) for mode in MODES)


def format_row(row: dict[str, Any], labels: Sequence[str]) -> str:
    """Lines of the table for one training size: per label, exact/overlap F1 of each system and its source."""
    lines = []
    for i, label in enumerate(labels):
        head = (f"{row['train_documents']:>5} {row['fit_documents']['dev']:>4} {row['train_seconds']:>8.1f}"
                if i == 0 else " " * 19)
        cells = "".join(f"{_cell(row['scores'][s], label):>16}" for s in SYSTEMS)
        lines.append(f"{head}  {label:<9}{cells}{row['sources'][label]:>8}")
    cal = row["calibration"]["test"]

    def rel(key: str) -> str:
        return f"{_show(cal[key]['ece'])}/{_show(cal[key]['brier'])}/{_show(cal['auc'][key])}"

    lines.append(f"{'':19}  model scores on test, ECE/Brier/AUC: temperature 1 {rel('untempered')}, dev temperature "
                 f"{cal['temperature']:g} {rel('raw')}, then the dev mapping {rel('mapped')} "
                 f"({'applied' if cal['mapping_applied'] else 'not applied'}); {cal['raw']['spans']} spans")
    lines.append(f"{'':19}  preannotate --model proposes the sourced combination: {'yes' if row['honoured'] else 'NO'}")
    return "\n".join(lines)


HEADER = (f"{'docs':>5} {'dev':>4} {'train_s':>8}  {'label':<9}" + "".join(f"{s + ' ex/ov':>16}" for s in SYSTEMS)
          + f"{'source':>8}")


def _show(value: float | None) -> str:
    from annotate.scoring import show

    return show(value)


def check_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals after training on all training documents, each with its value and whether it is met."""
    out = []
    for name, label, mode, measure, threshold in GOALS:
        value = results[name]["rows"][-1]["scores"]["combined"][label][mode][measure]
        out.append({"goal": f"{name} {label} {mode} {measure} (combined) >= {threshold}", "value": value,
                    "met": value is not None and value >= threshold})
    for name, block in results.items():
        scores = block["rows"][-1]["scores"]
        for label in block["labels"]:
            for mode in MODES:
                best = max((scores[s][label][mode]["f1"] or 0.0) for s in ("rules", "model"))
                value = scores["combined"][label][mode]["f1"] or 0.0
                out.append({"goal": f"{name} {label} {mode} F1: combined >= better of rules/model ({best:.3f})",
                            "value": value, "met": value >= best})
    return out


def _settings(work: Path) -> Any:
    from annotate.config import load_settings

    (work / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
    return load_settings({}, env={}, root=work)


def _missing() -> list[str]:
    return [c.file for c in CORPORA if not (DATA / c.file).is_file()]


def spancat_documents(folder: Path, articles: Sequence[Article]) -> list[Document]:
    """A spancat model's spans (doc.spans["sc"], scored), overlaps resolved by the higher score: the
    pre-annotator's model stage reads NER entities only, so the bench predicts spancat itself."""
    import spacy

    from annotate.records import Span

    nlp = spacy.load(folder / "model")
    out = []
    for article, doc in zip(articles, nlp.pipe([a.text for a in articles]), strict=True):
        group = doc.spans["sc"]
        kept: list[Span] = []
        for span, score in sorted(zip(group, group.attrs["scores"], strict=True), key=lambda p: -float(p[1])):
            if all(span.end_char <= k.start or k.end <= span.start_char for k in kept):
                kept.append(Span(span.start_char, span.end_char, span.label_, span.text, round(float(score), 3),
                                 "model"))
        out.append(Document(article.id, article.text, tuple(sorted(kept, key=lambda k: k.start))))
    return out


def _spancat_row(settings: Any, corpus: Corpus, docs: list[Document], options: Any, work: Path) -> dict[str, Any]:
    """compare_strategies' row for spancat: trained without the dev evaluation (it predicts NER), combined "both"."""
    from annotate.training.compare import compare_systems
    from annotate.training.golddata import load_gold
    from annotate.training.sources import combine_documents
    from annotate.training.train import train_model

    train, test = split_documents(docs)
    path = work / f"gold-{corpus.name}-spancat.jsonl"
    path.write_text("".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in train), encoding="utf-8")
    start = time.perf_counter()
    result = train_model(settings, path, options, out_dir=work / "models")
    seconds = time.perf_counter() - start
    dev = list(load_gold(path, work / "spancat-gold", settings.dev_ratio).dev_docs)  # the split train_model made
    articles = _articles(test)
    model = spancat_documents(result.folder, articles)
    rules = _predict(settings, None, articles)
    both = {lab: "both" for lab in corpus.labels}
    return {"train_seconds": round(seconds, 1), "sources": both,
            "dev_scores": compare_systems(dev, {"trained": spancat_documents(result.folder, _articles(dev))}),
            "scores": {"rules": score_labels(test, rules, corpus.labels),
                       "model": score_labels(test, model, corpus.labels),
                       "combined": score_labels(test, combine_documents(rules, model, both), corpus.labels)}}


def compare_strategies(quick: bool = False) -> dict[str, Any]:
    """Each training strategy on all training documents: dev (train_model's own held-out part) and test F1.

    The default strategy is chosen on the dev figures; the test figures are reported, never used to choose.
    """
    from annotate.training.trainconfig import SERVED, STRATEGIES, TrainOptions

    if _missing():
        print(f"  skipped: {', '.join(_missing())} not found in {DATA}")
        return {"skipped": f"missing {', '.join(_missing())} in {DATA}"}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = _settings(work)
        print(f"  {'strategy':<9} {'corpus':<6} {'train_s':>8}  {'label':<9}{'dev model':>14}{'test model':>14}"
              f"{'test comb.':>14}{'source':>8}")
        for strategy in STRATEGIES:
            options = TrainOptions(strategy=strategy, **({"max_steps": 100, "patience": 100} if quick else {}))
            for corpus in CORPORA:
                docs = read_corpus(corpus)
                train, _ = split_documents(docs)
                if strategy in SERVED:
                    row = run_corpus(settings, corpus, docs, [len(train)], options, work, echo=False)["rows"][0]
                else:
                    row = _spancat_row(settings, corpus, docs, options, work)
                for i, label in enumerate(corpus.labels):
                    dev = row["dev_scores"]["trained"]
                    cells = [f"{_show(dev[m]['labels'].get(label, {}).get('f1'))}" for m in MODES]
                    head = f"{strategy:<9} {corpus.name:<6} {row['train_seconds']:>8.1f}" if i == 0 else " " * 25
                    print(f"  {head}  {label:<9}{'/'.join(cells):>14}{_cell(row['scores']['model'], label):>14}"
                          f"{_cell(row['scores']['combined'], label):>14}{row['sources'][label]:>8}", flush=True)
                results.setdefault(strategy, {})[corpus.name] = row
    return results


def run(quick: bool = False) -> dict[str, Any]:
    """Print the learning curve and the issue-14 goals; figures for bench/results/latest.json."""
    missing = _missing()
    if missing:
        print(f"  skipped: {', '.join(missing)} not found in {DATA} (the external corpora of issue 14)")
        return {"skipped": f"missing {', '.join(missing)} in {DATA}"}
    from annotate.training.trainconfig import TrainOptions

    # Full: `annotate train`'s defaults, the system as it is; quick: a smoke run.
    options = TrainOptions(max_steps=100, patience=100) if quick else TrainOptions()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = _settings(work)
        print(f"  seed {SEED}, train share {TRAIN_SHARE:.2f}, {options}, rules on {settings.spacy_model}\n"
              "  docs: training documents given, of which train_model keeps `dev` apart (dev_ratio) to pick its "
              "checkpoint, the per-label sources and the calibration; train_s: train_model wall time (dev "
              "evaluation included); cells: exact/overlap F1 on the test documents; source: the label's source "
              "chosen on dev")
        reference = None
        for corpus in CORPORA:
            docs = read_corpus(corpus)
            n_train = len(split_documents(docs)[0])
            sizes = curve_sizes(n_train, reference, quick)
            reference = reference or n_train
            print(f"\n  {corpus.name}: {n_train} train / {len(docs) - n_train} test documents, "
                  f"labels {', '.join(corpus.labels)}\n{HEADER}", flush=True)
            results[corpus.name] = run_corpus(settings, corpus, docs, sizes, options, work)
    goals = check_goals(results)
    print("\n  goals (issue 14), after all training documents:")
    for goal in goals:
        print(f"  {'met   ' if goal['met'] else 'MISSED'} {goal['goal']}: {_show(goal['value'])}")
    return {"seed": SEED, "train_share": round(TRAIN_SHARE, 3), "options": options.to_dict(), **results,
            "goals": goals}


if __name__ == "__main__":
    import sys

    if "--strategies" in sys.argv:  # python -m bench.loop --strategies [--quick]
        compare_strategies(quick="--quick" in sys.argv)
    else:
        run(quick="--quick" in sys.argv)
