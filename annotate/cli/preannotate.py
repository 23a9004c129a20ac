"""`annotate preannotate` and `annotate evaluate`: spans from the model + rules, and scores against gold."""

from __future__ import annotations

import json

import click

from ..evaluate import format_scores, score_documents
from ..files import atomic_write
from ..ingest import IngestReport, load_articles
from ..records import read_documents
from .app import get_settings, main


@main.command()
# readable=False: an unreadable input is rejected by ingest on its own line, not by click for the whole run.
@click.argument("inputs", nargs=-1, required=True, type=click.Path(readable=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="JSONL file to write (atomically): one object per article with id, text, meta, model_version, spans.")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes; the output is identical to one process.")
@click.option("--model", help="spaCy model name or folder, or a models/<version> folder from `annotate train` "
                               "(default: setting spacy_model).")
@click.option("--with-rules/--model-only", default=True, show_default=True,
              help="With a trained model: add the rule-based spans (rules win overlaps), or the model's spans only.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Articles per spaCy batch (and per worker task).")
@click.pass_context
def preannotate(ctx: click.Context, inputs: tuple[str, ...], out: str, processes: int, model: str | None,
                with_rules: bool, batch_size: int) -> None:
    """Pre-annotate articles (.txt/.jsonl/.csv files or folders) with ACTOR, LOCATION and OUTCOME spans.

    Needs no Label Studio. Exits 1 if any input was rejected (after writing every accepted article).
    """
    from ..preannotate.pipeline import build_preannotator, write_documents

    settings = get_settings(ctx)
    pre = build_preannotator(settings, model, with_rules)
    report = IngestReport()
    articles = load_articles(inputs, text_column=settings.csv_text_column, max_chars=settings.max_article_chars,
                             report=report, root=settings.root)
    with atomic_write(out) as handle:
        count = write_documents(pre.annotate(articles, processes=processes, batch_size=batch_size), handle)
    click.echo(f"{count} article(s) pre-annotated with {pre.model_version} -> {out}", err=True)
    click.echo(report.summary(), err=True)
    if report.rejected:
        ctx.exit(1)


@main.command()
@click.option("--gold", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Gold JSONL (id, text, spans), e.g. guidelines/seed-gold.jsonl.")
@click.option("--pred", required=True, type=click.Path(dir_okay=False, exists=True),
              help="Predicted JSONL of the same shape, e.g. the output of `annotate preannotate`.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON (stable keys) instead of a table.")
def evaluate(gold: str, pred: str, as_json: bool) -> None:
    """Precision, recall and F1 per label and per relation type, for exact and overlapping span matches.

    Exact: same start, end and label. Overlap: same label and at least one shared character, each
    gold and each predicted span used at most once (largest one-to-one matching). A relation is right
    when its type matches and both ends match gold spans that a gold relation of that type joins.
    """
    result = score_documents(read_documents(gold), read_documents(pred))
    click.echo(json.dumps(result, indent=2, sort_keys=True) if as_json else format_scores(result))
