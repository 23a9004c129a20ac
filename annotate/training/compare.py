"""Trained model vs rule-based pre-annotator vs their combination, per label, on the same dev documents.

`evaluate_on_dev` is what `annotate train` runs on its dev split: it predicts with the rules and the model,
chooses each label's source (sources.py), scores the three systems and measures how reliable the span scores
are (calibration.py), after fitting the model scores' temperature on the same dev documents. "combined" is the combination with the chosen per-label sources, which is what
`preannotate --model` proposes; "both" is the plain combination (every label "both"), for reference.
"foreign_labels" counts the model's dev spans of labels outside the schema: a fine-tuned pretrained NER keeps
its own labels (PERSON, GPE...) until training has unlearnt them, which few steps may not do. They are dropped
before anything is scored or chosen, as the pre-annotator's model stage drops them (trained.in_schema).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..evaluate import score_documents
from ..preannotate.trained import TrainedModel, in_schema
from ..records import Article, Document
from ..scoring import show
from .calibration import calibrate, fit_temperature, reliability, scored_pairs
from .golddata import GoldData
from .sources import choose_sources, combine_documents

if TYPE_CHECKING:
    from ..config import Settings

SYSTEMS = ("trained", "rules", "combined")


def _articles(docs: Sequence[Document]) -> list[Article]:
    return [Article(d.id, d.text, dict(d.meta)) for d in docs]


def predict_alone(settings: Settings, model_folder: Path, docs: Sequence[Document]) -> dict[str, list[Document]]:
    """Predictions of the trained model alone (raw: every label, no calibration mapping) and of the rules alone."""
    from ..preannotate.annotator import build_rule_preannotator

    articles = _articles(docs)
    return {"trained": list(TrainedModel(model_folder).documents(articles)),
            "rules": list(build_rule_preannotator(settings).annotate(articles))}


def tempered_model(model_folder: Path, dev: Sequence[Document], labels: Sequence[str]) -> dict[str, Any]:
    """The model's dev predictions at the temperature fitted on them: {"documents", "untempered", "fit"}."""
    model = TrainedModel(model_folder)
    parsed = list(model.parses(_articles(dev)))

    def pairs_at(temperature: float) -> list[tuple[float, bool]]:
        return scored_pairs(dev, model.documents_of(parsed, temperature), labels=labels)

    fit = fit_temperature(pairs_at)
    return {"documents": model.documents_of(parsed, fit["temperature"]), "untempered": reliability(pairs_at(1.0)),
            "fit": fit}


def predict_systems(settings: Settings, model_folder: Path, docs: Sequence[Document],
                    sources: dict[str, str] | None = None) -> dict[str, list[Document]]:
    """Predictions of the trained model, the rules, and both combined with `sources` (None: all "both")."""
    alone = predict_alone(settings, model_folder, docs)
    return {**alone, "combined": combine_documents(alone["rules"], alone["trained"], sources or {})}


def compare_systems(gold: Sequence[Document], predictions: dict[str, list[Document]]) -> dict[str, Any]:
    """score_documents of every system against `gold`: {"documents", "versions", "<system>": scores}."""
    out: dict[str, Any] = {"documents": len(gold), "versions": {}}
    for name, docs in predictions.items():
        out["versions"][name] = docs[0].model_version if docs else None
        scores = score_documents(gold, docs)
        out[name] = {mode: scores[mode] for mode in ("exact", "overlap")}
    return out


def measure_calibration(gold: Sequence[Document], predictions: dict[str, list[Document]]) -> dict[str, Any]:
    """Reliability of the span scores on dev, per source ("model": the trained model, "rules": the rules)."""
    by_id = {d.id: d for d in gold}

    def groups(docs: list[Document]) -> list[list[tuple[float, bool]]]:
        return [scored_pairs([by_id[d.id]], [d]) for d in docs if d.id in by_id]

    return {"model": calibrate(groups(predictions["trained"])), "rules": calibrate(groups(predictions["rules"]))}


def evaluate_on_dev(settings: Settings) -> Any:
    """An `evaluate` callback for train_model: sources, scores and calibration on the gold's dev documents."""

    def evaluate(model_folder: Path, gold: GoldData) -> dict[str, Any]:
        from ..preannotate.annotator import build_rule_preannotator
        from ..schema import load_schema

        labels = load_schema(settings.guidelines_dir).label_names
        dev = list(gold.dev_docs)
        tempered = tempered_model(model_folder, dev, labels)
        raw = {"trained": tempered["documents"],
               "rules": list(build_rule_preannotator(settings).annotate(_articles(dev)))}
        foreign = Counter(s.label for d in raw["trained"] for s in d.spans if s.label not in labels)
        alone = {**raw, "trained": [replace(d, spans=tuple(in_schema(d.spans, labels))) for d in raw["trained"]]}
        choice = choose_sources(dev, alone["rules"], alone["trained"], labels)
        predictions = {**alone, "combined": combine_documents(alone["rules"], alone["trained"], choice["sources"]),
                       "both": combine_documents(alone["rules"], alone["trained"], {})}
        calibration = measure_calibration(dev, predictions)
        calibration["model"].update(temperature=tempered["fit"]["temperature"], untempered=tempered["untempered"],
                                    temperature_log_loss=tempered["fit"]["log_loss"])
        if "note" in tempered["fit"]:
            calibration["model"]["temperature_note"] = tempered["fit"]["note"]
        return {"scores": compare_systems(dev, predictions), "sources": choice["sources"],
                "foreign_labels": dict(sorted(foreign.items())),
                "source_choice": {k: choice[k] for k in ("measured", "guarantee", "scores")},
                "calibration": calibration}

    return evaluate


def format_comparison(scores: dict[str, Any], mode: str = "exact") -> str:
    """A per-label F1 table (P/R in brackets) of trained vs rules vs combined; n/a cells say why below it."""
    systems = [s for s in SYSTEMS if s in scores]
    labels = sorted({lab for s in systems for lab in scores[s][mode]["labels"]})
    head = f"{'label':<10}" + "".join(f"{s:>22}" for s in systems)
    lines = [f"dev: {scores['documents']} document(s), {mode} span match, F1 (P/R)", head]
    notes = []

    def cell(m: dict[str, Any]) -> str:
        return f"{show(m['f1'])} ({show(m['precision'], 2)}/{show(m['recall'], 2)})"

    for label in [*labels, "overall"]:
        row = [scores[s][mode]["overall"] if label == "overall" else scores[s][mode]["labels"].get(label) for s in systems]
        lines.append(f"{label:<10}" + "".join(f"{cell(m) if m else '-':>22}" for m in row))
        notes += [f"  {label}, {s}: {m['reason']}" for s, m in zip(systems, row, strict=True) if m and m.get("reason")]
    return "\n".join(lines + notes)

