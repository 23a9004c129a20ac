"""Trained model vs rule-based pre-annotator vs the two combined, per label, on the same dev documents."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..evaluate import score_documents
from ..preannotate.trained import TrainedModel, combine_spans
from ..records import Article, Document
from ..scoring import show
from .golddata import GoldData

if TYPE_CHECKING:
    from ..config import Settings

SYSTEMS = ("trained", "rules", "combined")


def _articles(docs: Sequence[Document]) -> list[Article]:
    return [Article(d.id, d.text, dict(d.meta)) for d in docs]


def predict_systems(settings: Settings, model_folder: Path, docs: Sequence[Document]) -> dict[str, list[Document]]:
    """Predictions of the trained model, the rules, and both combined, for the texts of `docs`."""
    from ..preannotate.annotator import build_rule_preannotator

    articles = _articles(docs)
    trained = TrainedModel(model_folder)
    rules = build_rule_preannotator(settings)
    learned = list(trained.documents(articles))
    ruled = list(rules.annotate(articles))
    combined = [Document(a.id, a.text, combine_spans(r.spans, m.spans), a.meta,
                         f"{trained.model_version}+{rules.model_version}")
                for a, r, m in zip(articles, ruled, learned, strict=True)]
    return {"trained": learned, "rules": ruled, "combined": combined}


def compare_systems(gold: Sequence[Document], predictions: dict[str, list[Document]]) -> dict[str, Any]:
    """score_documents of every system against `gold`: {"documents", "versions", "<system>": scores}."""
    out: dict[str, Any] = {"documents": len(gold), "versions": {}}
    for name, docs in predictions.items():
        out["versions"][name] = docs[0].model_version if docs else None
        scores = score_documents(gold, docs)
        out[name] = {mode: scores[mode] for mode in ("exact", "overlap")}
    return out


def evaluate_on_dev(settings: Settings) -> Any:
    """An `evaluate` callback for train_model: compare the three systems on the gold's dev documents."""

    def evaluate(model_folder: Path, gold: GoldData) -> dict[str, Any]:
        return compare_systems(gold.dev_docs, predict_systems(settings, model_folder, gold.dev_docs))

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
