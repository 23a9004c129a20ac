"""Gold commands: export (the training data), disagreements (what the lead still has to decide), decide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..config import Settings
from ..decisions import DECISIONS_FILE, append_decision, load_decisions, make_decision, validate_decision
from ..errors import InputError
from ..export import export_gold
from ..gold import build_gold
from ..schema import load_schema
from .app import get_settings, main

if TYPE_CHECKING:
    from ..pipeline import TaskSource

FROM_EXPORT = click.option("--from-export", type=click.Path(dir_okay=False, path_type=Path),
                           help="Read tasks from this Label Studio JSON export instead of pulling from the server.")
DECISIONS = click.option("--decisions", "decisions_path", type=click.Path(dir_okay=False, path_type=Path),
                         help=f"Decision log (default: exports/{DECISIONS_FILE}).")


PULL = click.option("--pull", "refresh", is_flag=True,
                    help="Pull from Label Studio first (default: read the newest pull in exports/raw/).")


def load_input(settings: Settings, from_export: Path | None, refresh: bool = False) -> TaskSource:
    """The tasks a gold command reads, saying on stderr which file they come from."""
    from .. import pipeline

    source = pipeline.read_tasks(settings, from_export, refresh)
    click.echo(f"reading {source.describe(settings)}", err=True)
    return source


def _decisions_path(settings: Settings, path: Path | None) -> Path:
    return path or settings.exports_dir / DECISIONS_FILE


@main.command()
@FROM_EXPORT
@PULL
@DECISIONS
@click.option("--min-agreement", type=float, help="Exit with code 3 if pooled exact span F1 is below this.")
@click.pass_context
def export(ctx: click.Context, from_export: Path | None, refresh: bool, decisions_path: Path | None,
           min_agreement: float | None) -> None:
    """Adjudicate and write the gold dataset (JSONL, DocBin, CoNLL, tables, card) to exports/gold/."""
    settings = get_settings(ctx)
    from ..pipeline import describe_source

    source = load_input(settings, from_export, refresh)
    result = export_gold(source.tasks, settings, decisions_path=_decisions_path(settings, decisions_path),
                         min_agreement=min_agreement, source=describe_source(source.path),
                         quarantined=[q.note() for q in source.quarantine])
    docs = result.counts["documents"]
    click.echo(f"Gold written to {result.folder} ({docs['train']} train, {docs['dev']} dev documents, "
               f"{result.counts['spans']} spans, {result.counts['events']} events, "
               f"{result.counts['open_disagreements']} open disagreements)")
    for problem in result.problems:
        click.echo(f"  {problem.kind}: {problem.where}: {problem.message}")


@main.command()
@FROM_EXPORT
@PULL
@DECISIONS
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a readable list.")
@click.pass_context
def disagreements(ctx: click.Context, from_export: Path | None, refresh: bool, decisions_path: Path | None,
                  as_json: bool) -> None:
    """List the spans annotators disagree on that no lead decision has settled yet."""
    settings = get_settings(ctx)
    gold = build_gold(load_input(settings, from_export, refresh).tasks, load_decisions(_decisions_path(settings, decisions_path)),
                      load_schema(settings.guidelines_dir), settings.leads)
    for item in gold.disagreements:
        if as_json:
            click.echo(json.dumps(item.to_dict(), ensure_ascii=False, sort_keys=True))
        else:
            rivals = "; competes with " + ", ".join(f"{s}-{e} {lab}" for s, e, lab in item.competing) \
                if item.competing else ""
            click.echo(f"task {item.task_id} {item.start}-{item.end} {item.label} {item.text!r}: "
                       f"marked by {', '.join(item.support)}; not by {', '.join(item.against)}{rivals}")
    if not as_json:
        click.echo(f"{len(gold.disagreements)} open disagreement(s)")


@main.command()
@FROM_EXPORT
@PULL
@DECISIONS
@click.option("--task", "task_id", type=int, required=True, help="Label Studio task id.")
@click.option("--start", type=int, required=True, help="Span start (character offset).")
@click.option("--end", type=int, required=True, help="Span end (character offset, exclusive).")
@click.option("--label", required=True, help="Span label (from guidelines/schema.toml).")
@click.option("--accept", is_flag=True, help="The span is gold.")
@click.option("--reject", is_flag=True, help="The span is not gold.")
@click.option("--change-to", nargs=3, type=(int, int, str), metavar="START END LABEL",
              help="Replace the span with this one.")
@click.option("--by", help="Lead's email (default: the only configured lead).")
@click.option("--note", help="Why (kept in the decision log).")
@click.pass_context
def decide(ctx: click.Context, from_export: Path | None, refresh: bool, decisions_path: Path | None, task_id: int,
           start: int, end: int, label: str, accept: bool, reject: bool, change_to: tuple[int, int, str] | None,
           by: str | None, note: str | None) -> None:
    """Record a lead's decision on one span in the append-only decision log."""
    settings = get_settings(ctx)
    # Separate flags, not one flag_value option: with those Click lets the last flag win, so "--accept --reject"
    # would silently record a rejection.
    given = [flag for flag, on in (("--accept", accept), ("--reject", reject), ("--change-to", change_to is not None))
             if on]
    if len(given) != 1:
        raise InputError(f"give exactly one of --accept, --reject or --change-to START END LABEL "
                         f"(got {' and '.join(given) or 'none'})")
    action = "accept" if accept else "reject" if reject else "change"
    if by is None:
        if len(settings.leads) != 1:
            raise InputError(f"pass --by EMAIL (configured leads: {', '.join(settings.leads) or 'none'})")
        by = settings.leads[0]
    source = load_input(settings, from_export, refresh)
    task = next((t for t in source.tasks if t.task_id == task_id), None)
    if task is None:
        known = ", ".join(str(t.task_id) for t in source.tasks[:20])
        raise InputError(f"no task {task_id} in {source.describe(settings)}; known task ids: {known}")
    schema = load_schema(settings.guidelines_dir)
    decision = make_decision(task, start, end, label, action, by, schema.version, new=change_to, note=note,
                             archive=source.path.name)
    validate_decision(decision, task, schema, settings.leads)
    path = _decisions_path(settings, decisions_path)
    append_decision(path, decision)
    click.echo(f"Recorded: {decision.action} task {task_id} {start}-{end} {label} {decision.span.text!r} "
               f"by {by} -> {path}")
