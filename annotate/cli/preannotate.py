"""`annotate preannotate` and `annotate evaluate`: spans from the model + rules, and scores against gold."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import click

from ..errors import InputError
from ..evaluate import format_scores, score_documents
from ..files import atomic_write
from ..ingest.load import STDIN, STDIN_NAME, IngestReport, load_articles
from ..records import Document, read_documents
from .app import get_settings, main
from .progress import progress


@main.command()
# readable=False: an unreadable input is rejected by ingest on its own line, not by click for the whole run.
@click.argument("inputs", nargs=-1, required=True, type=click.Path(readable=False, allow_dash=True))
@click.option("--out", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="JSONL file to write (atomically), or '-' for stdout: one object per article with id, text, "
                   "meta, model_version, spans.")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (spaCy's nlp.pipe n_process); the output is identical to one process.")
@click.option("--model", help="spaCy model name or folder, a models/<version> folder from `annotate train`, or a "
                               "saved pre-annotator pipeline (default: setting spacy_model).")
@click.option("--with-rules/--model-only", default=True, show_default=True,
              help="With a trained model: combine it with the rules per label as its meta.json \"sources\" say "
                   "(rules, model or both; both keeps the rule spans and adds model spans where they overlap none), "
                   "or the model's spans only.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Articles per spaCy batch (and per worker task).")
@click.pass_context
def preannotate(ctx: click.Context, inputs: tuple[str, ...], out: str, processes: int, model: str | None,
                with_rules: bool, batch_size: int) -> None:
    """Pre-annotate articles (.txt/.jsonl/.csv files or folders) with ACTOR, LOCATION and OUTCOME spans.

    An input '-' reads standard input (`annotate ingest` output, raw JSON lines or one article's text).
    Needs no Label Studio. Exits 1 if any input was rejected (after writing every accepted article).
    """
    from ..preannotate import build_preannotator
    from ..preannotate.annotator import write_documents

    settings = get_settings(ctx)
    pre = build_preannotator(settings, model, with_rules)
    report = IngestReport()
    articles = load_articles(inputs, text_column=settings.csv_text_column, max_chars=settings.max_article_chars,
                             report=report, root=settings.root)
    docs = _counted(pre.annotate(articles, processes=processes, batch_size=batch_size))
    if out == STDIN:
        count = write_documents(docs, sys.stdout)
    else:
        with atomic_write(out) as handle:
            count = write_documents(docs, handle)
    where = "stdout" if out == STDIN else out
    click.echo(f"{count} article(s) pre-annotated with {pre.model_version} -> {where}", err=True)
    click.echo(report.summary(), err=True)
    if report.rejected:
        ctx.exit(1)


def _counted(docs: Iterator[Document]) -> Iterator[Document]:
    """The documents, advancing a progress bar (the total is unknown: inputs are read as they come)."""
    advance = progress("preannotate", -1, unit="article")
    for doc in docs:
        yield doc
        advance(1)


@main.command()
@click.option("--gold", required=True, type=click.Path(dir_okay=False, exists=True, allow_dash=True),
              help="Gold JSONL (id, text, spans), e.g. guidelines/seed-gold.jsonl; '-' reads stdin.")
@click.option("--pred", required=True, type=click.Path(dir_okay=False, exists=True, allow_dash=True),
              help="Predicted JSONL of the same shape, e.g. the output of `annotate preannotate`; '-' reads stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON (stable keys) instead of a table.")
def evaluate(gold: str, pred: str, as_json: bool) -> None:
    """Precision, recall and F1 per label and per relation type, for exact and overlapping span matches.

    Exact: same start, end and label. Overlap: same label and at least one shared character, each
    gold and each predicted span used at most once (largest one-to-one matching). A relation is right
    when its type matches and both ends match gold spans that a gold relation of that type joins.
    """
    if gold == STDIN and pred == STDIN:
        raise InputError("--gold - and --pred -: standard input can be only one of them")
    result = score_documents(_documents(gold), _documents(pred))
    click.echo(json.dumps(result, indent=2, sort_keys=True) if as_json else format_scores(result))


def _documents(path: str) -> Iterator[Document]:
    """Documents from a JSONL file, or from standard input for '-'."""
    return read_documents(STDIN_NAME, sys.stdin) if path == STDIN else read_documents(path)
