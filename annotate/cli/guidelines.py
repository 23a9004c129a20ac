"""`annotate guidelines` and `annotate seed-gold`: check and render the guidelines, rebuild the seed gold."""

from __future__ import annotations

from pathlib import Path

import click

from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json, guidelines_json


@main.command()
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the guidelines as one whole HTML page (what annotators see in Label Studio).")
@JSON_OPTION
@click.pass_context
def guidelines(ctx: click.Context, html_path: Path | None, as_json: bool) -> None:
    """Check the guidelines against schema.toml and CHANGELOG.md; print their version.

    \b
    --json keys: path, guidelines_version, labels, consistent (true; problems
    are an error on stderr), html (the page written, or null).
    """
    from ..errors import SchemaError
    from ..files import atomic_write
    from ..guidelines import check_guidelines, guidelines_document, load_guidelines
    from ..schema import load_schema

    settings = get_settings(ctx)
    schema = load_schema(settings.guidelines_dir)
    loaded = load_guidelines(settings.guidelines_dir)
    problems = check_guidelines(loaded, schema)
    if problems:
        raise SchemaError("; ".join(problems))
    if html_path is not None:
        with atomic_write(html_path) as handle:
            handle.write(guidelines_document(loaded, schema))
    if as_json:
        echo_json("guidelines", guidelines_json(loaded, schema, html_path))
        return
    click.echo(f"{loaded.path}: version {loaded.version}, labels {', '.join(schema.label_names)}: consistent"
               + (f"; wrote {html_path}" if html_path else ""))


@main.command("seed-gold")
@click.pass_context
def seed_gold(ctx: click.Context) -> None:
    """Rebuild guidelines/seed-gold.jsonl from the hand annotation in guidelines/seed-gold.src.toml."""
    from ..gold.seed import write_seed_gold

    settings = get_settings(ctx)
    path, gold = write_seed_gold(settings.guidelines_dir, settings.seeds_dir)
    spans = [s for g in gold for s in g.document.spans]
    counts = ", ".join(f"{name} {sum(s.label == name for s in spans)}" for name in sorted({s.label for s in spans}))
    click.echo(f"{path}: {len(gold)} seeds, {len(spans)} spans ({counts}), "
               f"{sum(len(g.relations) for g in gold)} relations")
