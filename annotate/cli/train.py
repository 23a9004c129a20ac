"""`annotate train`: train a spaCy NER model on the gold data and compare it with the rules on the dev split."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..training.trainconfig import DEFAULT_STRATEGY, SERVED
from .app import get_settings, main


@main.command()
@click.option("--gold", "gold_path", type=click.Path(path_type=Path),
              help="Gold export folder (default: exports/gold/latest) or a gold JSONL such as guidelines/seed-gold.jsonl.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same data + seed = same model).")
@click.option("--max-steps", type=click.IntRange(min=10), default=500, show_default=True,
              help="Training steps at most (training stops earlier when dev F1 stops improving).")
@click.option("--strategy", type=click.Choice(SERVED), default=DEFAULT_STRATEGY, show_default=True,
              help="finetune: the base model's NER with the project labels added; ner: a fresh NER and tok2vec; "
                   "ner-base: a fresh NER on the base model's tok2vec.")
@click.option("--base", help="The pretrained pipeline of finetune/ner-base (default: the spacy_model setting).")
@click.option("--curve", is_flag=True, help="Train on 25/50/75/100% of the training data and report the curve.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the models (default: models/).")
@click.option("--json", "as_json", is_flag=True, help="Print meta.json (or the curve) as JSON instead of tables.")
@click.pass_context
def train(ctx: click.Context, gold_path: Path | None, seed: int, max_steps: int, strategy: str, base: str | None,
          curve: bool, out_dir: Path | None, as_json: bool) -> None:
    """Train a model on the gold train split; report per-label F1 of it, the rules and both on the dev split.

    Picks per label the source (rules, model or both) that scores best on dev, and measures how reliable the
    span scores are there. Saves models/<version>/ (model/ and meta.json with scores, sources, calibration,
    gold source, seed); pass that folder to
    `annotate preannotate --model`, `annotate push --model` or `annotate ml-backend --model`.
    """
    from ..training.calibration import format_calibration
    from ..training.compare import evaluate_on_dev, format_comparison
    from ..training.sources import format_sources
    from ..training.train import TrainOptions, learning_curve, train_model

    settings = get_settings(ctx)
    gold_path = gold_path or settings.exports_dir / "gold" / "latest"
    options = TrainOptions(seed=seed, max_steps=max_steps, patience=max(50, max_steps // 2), strategy=strategy,
                           base=base)
    evaluate = evaluate_on_dev(settings)
    if curve:
        results = learning_curve(settings, gold_path, options, out_dir=out_dir, evaluate=evaluate)
        rows = [_curve_row(r.meta) for r in results]
        click.echo(json.dumps(rows, indent=2) if as_json else _format_curve(rows))
        return
    result = train_model(settings, gold_path, options, out_dir=out_dir, evaluate=evaluate)
    if as_json:
        click.echo(json.dumps(result.meta, indent=2, sort_keys=True))
        return
    click.echo(f"model {result.version} -> {result.folder} ({result.meta['documents']['train']} train document(s), "
               f"{result.meta['train_seconds']} s)")
    click.echo(format_comparison(result.meta["scores"], "exact"))
    click.echo(format_comparison(result.meta["scores"], "overlap"))
    click.echo(format_sources({**result.meta["source_choice"], "sources": result.meta["sources"]}))
    for name, figures in result.meta["calibration"].items():
        click.echo(format_calibration(name, figures))
    if result.meta.get("foreign_labels"):
        found = ", ".join(f"{label} {n}" for label, n in result.meta["foreign_labels"].items())
        click.echo(f"warning: the model still predicts labels outside the schema on dev ({found}); the "
                   "pre-annotator drops them, but they may hide project spans: train longer (--max-steps) or on more gold")


def _curve_row(meta: dict) -> dict:
    scores = meta["scores"]
    return {"fraction": meta["options"]["fraction"], "train_documents": meta["documents"]["train"],
            "version": meta["version"],
            "trained_f1": {lab: m["f1"] for lab, m in scores["trained"]["exact"]["labels"].items()}
            | {"overall": scores["trained"]["exact"]["overall"]["f1"]},
            "rules_f1": scores["rules"]["exact"]["overall"]["f1"]}


def _format_curve(rows: list[dict]) -> str:
    labels = sorted({lab for r in rows for lab in r["trained_f1"]} - {"overall"})
    lines = ["learning curve (dev, exact span F1 of the trained model; rules overall for reference)",
             f"{'share':>6} {'docs':>5} " + " ".join(f"{lab:>9}" for lab in [*labels, "overall"]) + f" {'rules':>7}"]
    for r in rows:
        cells = " ".join(f"{r['trained_f1'].get(lab, 0.0):>9.3f}" for lab in [*labels, "overall"])
        lines.append(f"{r['fraction']:>6.0%} {r['train_documents']:>5} {cells} {r['rules_f1']:>7.3f}")
    return "\n".join(lines)
