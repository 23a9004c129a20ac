"""`annotate agreement`: agreement and model-vs-human measures on the live project or an export."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .app import get_settings, main
from .progress import PROGRESS_MIN, progress


@main.command()
@click.option("--from-export", "from_export", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read tasks from a Label Studio JSON export instead of the live project.")
@click.option("--pull", "refresh", is_flag=True,
              help="Pull from Label Studio first (default: read the newest pull in exports/raw/).")
@click.option("--gold", "gold_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Gold JSONL (id, text, spans) to score each model version against.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (stable keys) instead of tables.")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write one CSV per table into this folder.")
@click.option("--bootstrap", default=1000, show_default=True, type=click.IntRange(min=0),
              help="Bootstrap replicates for confidence intervals (0: none).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for the bootstrap resampling.")
@click.pass_context
def agreement(ctx: click.Context, from_export: Path | None, refresh: bool, gold_path: Path | None, as_json: bool,
              csv_dir: Path | None, bootstrap: int, seed: int) -> None:
    """Inter-annotator agreement (alpha, kappa, span F1, u-alpha) and how annotators treated predictions."""
    from .. import pipeline
    from ..agreement import agreement_report
    from ..agreement.model_vs_gold import gold_origins
    from ..agreement.render import render_report
    from ..agreement.report import REPORT_STEPS, write_csv
    from ..records import read_documents
    from ..schema import load_schema

    settings = get_settings(ctx)
    source = pipeline.read_tasks(settings, from_export, refresh, progress)
    click.echo(f"reading {source.describe(settings)}", err=True)
    tasks = source.tasks
    gold = list(read_documents(gold_path)) if gold_path else None
    origins = gold_origins(gold_path) if gold_path else None  # how much gold is accepted pre-fill: the caveat
    # A bar over the report's stages, for enough tasks to take a while (about 7 s at 1,000 tasks).
    advance = progress("agreement", REPORT_STEPS if len(tasks) >= PROGRESS_MIN else 0, unit="step", min_total=1)
    report = agreement_report(tasks, load_schema(settings.guidelines_dir), gold, bootstrap=bootstrap, seed=seed,
                              gold_origins=origins, progress=advance)
    if csv_dir is not None:
        written = write_csv(report, csv_dir)
        click.echo(f"wrote {len(written)} tables to {csv_dir}", err=True)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else render_report(report))
