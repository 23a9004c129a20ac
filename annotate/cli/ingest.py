"""`annotate ingest`: read articles, strip page furniture, write one JSON line per article."""

from __future__ import annotations

import sys

import click

from ..errors import ConfigError
from ..files import atomic_write
from ..ingest.load import IngestReport, article_to_dict, load_articles
from ..records import write_jsonl
from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json, ingest_json


@main.command()
# readable=False: an unreadable input is rejected by ingest on its own line, not by click for the whole run.
@click.argument("inputs", nargs=-1, required=True, type=click.Path(readable=False, allow_dash=True))
@click.option("--out", "out", type=click.Path(dir_okay=False, allow_dash=True), default="-", show_default=True,
              help="Write the articles here as JSONL (atomically); '-' writes to stdout.")
@click.option("--text-column", help="CSV column holding the article text (setting csv_text_column).")
@click.option("--max-chars", type=click.IntRange(min=1), help="Reject longer articles (setting max_article_chars).")
@click.option("--near-threshold", type=click.FloatRange(0.0, 1.0, min_open=True),
              help="Report article pairs at least this similar (setting near_duplicate_threshold).")
@JSON_OPTION
@click.pass_context
def ingest(ctx: click.Context, inputs: tuple[str, ...], out: str, text_column: str | None, max_chars: int | None,
           near_threshold: float | None, as_json: bool) -> None:
    """Read .txt/.jsonl/.csv files or folders into articles with furniture removed; report rejects and duplicates.

    An input '-' reads standard input: JSON lines (one article each) or one article's text.
    Exits 1 if any input was rejected (after writing every accepted article).

    \b
    --json (needs --out FILE, since stdout otherwise carries the articles) keys:
    out, accepted, rejected [messages], duplicates [{id, first, duplicate}],
    near_duplicates [{a, b, similarity}]; the text summary stays on stderr.
    """
    if as_json and out == "-":
        raise ConfigError("--json needs --out FILE: with --out - the articles themselves go to stdout")
    settings = get_settings(ctx, csv_text_column=text_column, max_article_chars=max_chars,
                            near_duplicate_threshold=near_threshold)
    report = IngestReport()
    articles = (article_to_dict(a) for a in load_articles(
        inputs, text_column=settings.csv_text_column, max_chars=settings.max_article_chars, report=report,
        near_threshold=settings.near_duplicate_threshold, root=settings.root))
    if out == "-":
        write_jsonl(articles, sys.stdout)
    else:
        with atomic_write(out) as handle:
            write_jsonl(articles, handle)
    click.echo(report.summary(), err=True)
    if as_json:
        echo_json("ingest", ingest_json(report, out))
    if report.rejected:
        ctx.exit(1)
