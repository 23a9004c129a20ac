"""Gold commands: export (the training data), disagreements (what the lead still has to decide), decide."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import pipeline
from ..config import Settings
from ..errors import InputError, QualityGateError
from ..export import export_gold
from ..gold.adjudicate import Disagreement, Open
from ..gold.decide import parse_span_id
from ..gold.decisions import DECISIONS_FILE
from ..gold.relations import relation_words
from ..records import Task
from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json, export_json

FROM_EXPORT = click.option("--from-export", type=click.Path(dir_okay=False, path_type=Path),
                           help="Read tasks from this Label Studio JSON export instead of pulling from the server.")
DECISIONS = click.option("--decisions", "decisions_path", type=click.Path(dir_okay=False, path_type=Path),
                         help=f"Decision log (default: exports/{DECISIONS_FILE}).")


PULL = click.option("--pull", "refresh", is_flag=True,
                    help="Pull from Label Studio first (default: read the newest pull in exports/raw/).")


def load_input(settings: Settings, from_export: Path | None, refresh: bool = False) -> pipeline.TaskSource:
    """The tasks a gold command reads, saying on stderr which file they come from."""
    source = pipeline.read_tasks(settings, from_export, refresh)
    click.echo(f"reading {source.describe(settings)}", err=True)
    return source


@main.command()
@FROM_EXPORT
@PULL
@DECISIONS
@click.option("--min-agreement", type=float, help="Exit with code 3 if pooled exact span F1 is below this.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write the gold folder here instead of exports/gold/<hash>/ (exports/gold/latest is not touched); "
                   "DIR must be new, empty, or an earlier export.")
@click.option("--format", "fmt", type=click.Choice(["folder", "labelstudio"]), default="folder", show_default=True,
              help="labelstudio: also print the gold as Label Studio import JSON (the export's labelstudio.json) on "
                   "stdout, the summary going to stderr: `annotate export --format labelstudio > tasks.json`.")
@JSON_OPTION
@click.pass_context
def export(ctx: click.Context, from_export: Path | None, refresh: bool, decisions_path: Path | None,
           min_agreement: float | None, out_dir: Path | None, fmt: str, as_json: bool) -> None:
    """Adjudicate and write the gold dataset (JSONL, DocBin, CoNLL, tables, card) to exports/gold/.

    \b
    --json keys: folder, counts {documents {train, dev}, spans, events,
    open_disagreements, statuses, problems}, agreement (null when it cannot be
    measured), agreement_reason, problems [{kind, where, message}], quality_gate (null, or the failure: then also an error on stderr,
    exit 3).
    """
    settings = get_settings(ctx)
    from ..export.folder import check_target

    if as_json and fmt == "labelstudio":
        raise InputError("--json and --format labelstudio both want stdout; give one of them")
    if out_dir is not None:  # refused before anything is read or pulled
        check_target(out_dir, settings.exports_dir / "gold")
    source = load_input(settings, from_export, refresh)
    try:
        result = export_gold(source.tasks, settings, decisions_path=pipeline.decisions_file(settings, decisions_path),
                             min_agreement=min_agreement, source=pipeline.describe_source(source.path),
                             quarantined=[q.note() for q in source.quarantine], out=out_dir)
    except QualityGateError as exc:  # written, but a gate failed: the report still says what and where
        if as_json:
            echo_json("export", {**(export_json(exc.result) or {}), "quality_gate": str(exc)})  # type: ignore[attr-defined]
        raise
    if as_json:
        echo_json("export", {**(export_json(result) or {}), "quality_gate": None})
        return
    to_stderr = fmt == "labelstudio"  # stdout carries the Label Studio JSON then
    click.echo(f"Gold written to {result.folder} ({pipeline.gold_counts(result)})", err=to_stderr)
    for problem in result.problems:
        click.echo(f"  {problem.kind}: {problem.where}: {problem.message}", err=to_stderr)
    if to_stderr:
        click.echo((result.folder / "labelstudio.json").read_text(encoding="utf-8"), nl=False)


@main.command()
@FROM_EXPORT
@PULL
@DECISIONS
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a readable list.")
@click.pass_context
def disagreements(ctx: click.Context, from_export: Path | None, refresh: bool, decisions_path: Path | None,
                  as_json: bool) -> None:
    """List the spans and relations annotators disagree on that no lead decision has settled yet."""
    settings = get_settings(ctx)
    found = pipeline.open_disagreements(settings, load_input(settings, from_export, refresh).tasks, decisions_path)
    for item in found:
        click.echo(json.dumps(item.to_dict(), ensure_ascii=False, sort_keys=True) if as_json else _describe(item))
    if not as_json:
        n_relations = sum(d.kind == "relation" for d in found)
        split = f" ({len(found) - n_relations} span, {n_relations} relation)" if n_relations else ""
        click.echo(f"{len(found)} open disagreement(s){split}")


def _describe(item: Open) -> str:
    """One open disagreement as a line of `annotate disagreements`."""
    if isinstance(item, Disagreement):
        rivals = "; competes with " + ", ".join(f"{s}-{e} {lab}" for s, e, lab in item.competing) \
            if item.competing else ""
        return (f"task {item.task_id} {item.start}-{item.end} {item.label} {item.text!r}: "
                f"marked by {', '.join(item.support)}; not by {', '.join(item.against)}{rivals}")
    rivals = "; competes with " + ", ".join(label for _, _, label in item.competing) if item.competing else ""
    ends = f"{'-'.join(map(str, item.source))} -> {'-'.join(map(str, item.target))}"
    return (f"task {item.task_id} relation {item.words} ({ends}): drawn by {', '.join(item.support)}; "
            f"not by {', '.join(item.against)}{rivals}")


@main.command()
@FROM_EXPORT
@PULL
@DECISIONS
@click.option("--task", "task_id", type=int, required=True, help="Label Studio task id.")
@click.option("--start", type=int, help="Span start (character offset).")
@click.option("--end", type=int, help="Span end (character offset, exclusive).")
@click.option("--label", help="Span label (from guidelines/schema.toml).")
@click.option("--relation", nargs=3, type=(str, str, str), metavar="FROM_SPAN TO_SPAN TYPE",
              help="Decide on a relation instead of a span; spans as START-END-LABEL ids, e.g. 0-6-ACTOR 7-13-OUTCOME "
                   "agent_of.")
@click.option("--accept", is_flag=True, help="The span (or relation) is gold.")
@click.option("--reject", is_flag=True, help="The span (or relation) is not gold.")
@click.option("--change-to", nargs=3, type=(int, int, str), metavar="START END LABEL",
              help="Replace the span with this one.")
@click.option("--change-type", metavar="TYPE", help="Give the relation this type instead.")
@click.option("--by", help="Lead's email (default: the only configured lead).")
@click.option("--note", help="Why (kept in the decision log).")
@click.pass_context
def decide(ctx: click.Context, from_export: Path | None, refresh: bool, decisions_path: Path | None, task_id: int,
           start: int | None, end: int | None, label: str | None, relation: tuple[str, str, str] | None, accept: bool,
           reject: bool, change_to: tuple[int, int, str] | None, change_type: str | None, by: str | None,
           note: str | None) -> None:
    """Record a lead's decision on one span or one relation in the append-only decision log."""
    settings = get_settings(ctx)
    change_flag = "--change-type" if relation else "--change-to"
    span_only = {"--start": start, "--end": end, "--label": label, "--change-to": change_to}
    wrong = [flag for flag, value in (span_only if relation else {"--change-type": change_type}).items()
             if value is not None]
    if wrong:
        what = "a relation decision (--relation)" if relation else "a span decision"
        raise InputError(f"{', '.join(wrong)}: not for {what}")
    changed = change_type if relation else change_to
    # Separate flags, not one flag_value option: with those Click lets the last flag win, so "--accept --reject"
    # would silently record a rejection.
    given = [flag for flag, on in (("--accept", accept), ("--reject", reject), (change_flag, changed is not None)) if on]
    if len(given) != 1:
        shape = "TYPE" if relation else "START END LABEL"
        raise InputError(f"give exactly one of --accept, --reject or {change_flag} {shape} "
                         f"(got {' and '.join(given) or 'none'})")
    action = "accept" if accept else "reject" if reject else "change"
    if by is None:
        if len(settings.leads) != 1:
            raise InputError(f"pass --by EMAIL (configured leads: {', '.join(settings.leads) or 'none'})")
        by = settings.leads[0]
    if not relation and (start is None or end is None or label is None):
        raise InputError("a span decision needs --start, --end and --label (or --relation FROM_SPAN TO_SPAN TYPE)")
    source = load_input(settings, from_export, refresh)
    task = source.task(task_id, settings)
    path = pipeline.decisions_file(settings, decisions_path)
    if relation:
        _decide_relation(settings, task, relation, action, by, change_type, note, source.path.name, path)
        return
    assert start is not None and end is not None and label is not None
    [decision, *_] = pipeline.record_decision(settings, task, (start, end, label), action, by, new=change_to,
                                              note=note, archive=source.path.name, decisions_path=path)
    click.echo(f"Recorded: {decision.action} task {task_id} {start}-{end} {label} {decision.span.text!r} "
               f"by {by} -> {path}")


def _decide_relation(settings: Settings, task: Task, relation: tuple[str, str, str], action: str, by: str,
                     new_label: str | None, note: str | None, archive: str, path: Path) -> None:
    where = f"task {task.task_id} --relation"
    source, target = parse_span_id(relation[0], where), parse_span_id(relation[1], where)
    decision = pipeline.record_relation_decision(settings, task, source, target, relation[2], action, by,
                                                 new_label=new_label, note=note, archive=archive, decisions_path=path)
    changed = f" to {new_label}" if new_label else ""
    words = relation_words(decision.source.text, decision.label, decision.target.text)
    click.echo(f"Recorded: {decision.action}{changed} task {task.task_id} relation {words} ({relation[0]} -> "
               f"{relation[1]}) by {by} -> {path}")
