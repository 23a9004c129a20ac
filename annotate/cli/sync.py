"""`annotate project|push|pull|demo`: the conversation with Label Studio."""

from __future__ import annotations

from pathlib import Path

import click

from .. import pipeline
from ..records import read_documents
from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json, pull_json, push_json
from .progress import progress as _progress
from .web import echo_logins


@main.command()
@click.option("--annotators-per-task", type=int, help="Annotators each task goes to (maximum_annotations).")
@click.option("--overlap-percent", type=int, help="Share of tasks (0-100) that get that many annotators.")
@click.pass_context
def project(ctx: click.Context, annotators_per_task: int | None, overlap_percent: int | None) -> None:
    """Create the Label Studio project, or update it from the schema and guidelines; set overlap when given.

    This is the only command that changes an existing project's overlap; it prints each setting it changes.
    """
    settings = get_settings(ctx, annotators_per_task=annotators_per_task, overlap_percent=overlap_percent)
    ref, changes = pipeline.configure_project(settings, annotators_per_task, overlap_percent)
    if ref.created:
        click.echo(f"created project {ref.id} {ref.title!r}: {ref.url}")
        return
    click.echo(f"project {ref.id} {ref.title!r}: {ref.url}")
    for change in changes:
        click.echo(f"  {change.describe()}")
    if not changes:
        click.echo("  no setting changed")


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(readable=False, path_type=Path))
@click.option("--preannotated", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Push a file written by `annotate preannotate` instead of pre-annotating INPUTS.")
@click.option("--processes", type=int, default=1, show_default=True, help="Processes for pre-annotation.")
@click.option("--model", help="spaCy model name or path for pre-annotation, or a models/<version> folder from "
                               "`annotate train`.")
@click.option("--with-rules/--model-only", default=True, show_default=True,
              help="With a trained model: add the rule-based spans, or push the model's spans only.")
@click.option("--order", type=click.Choice(["input", "uncertain"]), default="input", show_default=True,
              help="Import order (Label Studio's queue follows it): uncertain = lowest span scores first.")
@click.option("--dedupe", is_flag=True, help="Delete the extra tasks of an article that is in the project more than "
              "once, keeping the one with annotations; a task with annotations is never deleted.")
@JSON_OPTION
@click.pass_context
def push(ctx: click.Context, inputs: tuple[Path, ...], preannotated: Path | None, processes: int,
         model: str | None, with_rules: bool, order: str, dedupe: bool, as_json: bool) -> None:
    """Pre-annotate INPUTS (default: seeds/) and upsert them as tasks with predictions (never duplicated).

    \b
    --json keys: project {id, title, url, created, changes [the settings lines]},
    created, skipped, predictions_added, recovered, model_version ({old, new} when
    this push set it, else null), kept_backend (the ML backend title kept, or
    null), duplicates {article: [task ids]}, removed [task ids], kept_annotated
    {article: [task ids]}, rejected [messages].
    """
    from ..labelstudio.ordering import order_documents

    settings = get_settings(ctx)
    rejected: list[str] = []
    if preannotated:
        docs = list(read_documents(preannotated))
    else:
        docs, report = pipeline.preannotate_inputs(settings, inputs or [settings.seeds_dir], processes, model,
                                                   with_rules, _progress)
        rejected = [str(err) for err in report.rejected]
        for err in rejected:
            click.secho(f"rejected: {err}", fg="yellow", err=True)
    docs = order_documents(docs, order)
    ref, pushed = pipeline.push(settings, docs, _progress, dedupe=dedupe)
    if as_json:
        echo_json("push", push_json(ref, pushed, rejected))
    else:
        click.echo(f"project {ref.id}: {pushed.summary()}\n{ref.url}")
        for change in ref.changes:
            click.echo(f"project {ref.id}: {change.describe()}")
        for line in pushed.setting_lines():
            click.echo(f"project {ref.id}: {line}")
    for line in pushed.duplicate_lines():
        click.secho(f"duplicate: {line}", fg="yellow", err=True)
    if pushed.duplicates and not dedupe:
        click.secho("run `annotate push --dedupe` to delete the copies that have no annotations", fg="yellow", err=True)
    if rejected:
        ctx.exit(1)


@main.command()
@click.option("--archive-only", is_flag=True, help="Archive the raw pull (and its quarantine file) in exports/raw/; "
              "build no gold.")
@click.option("--full", is_flag=True, help="Fetch every task again instead of only those changed since the last "
              "pull (and refill the local store).")
@JSON_OPTION
@click.pass_context
def pull(ctx: click.Context, archive_only: bool, full: bool, as_json: bool) -> None:
    """Pull every annotation into exports/raw/ (the archive gold is built from) and write the gold dataset.

    After the first pull only the tasks changed since the last one are fetched and merged into the local store
    (.annotate/store/); the archive is written from it. A full pull is made when that cannot be trusted, and the
    output says why.

    \b
    --json keys: project_id, archive, unchanged_since, tasks, annotations, drafts,
    missed, changed, deleted [task ids changed during the pull], incremental,
    fetched, removed [task ids], full_reason, quarantined [{task_id, article_id, annotator,
    annotation_id, reason, scope}], quarantine_file, gold (null with --archive-only or
    without submitted annotations, else as `annotate export --json`: folder, counts,
    agreement, agreement_reason, problems).
    """
    settings = get_settings(ctx)
    outcome = pipeline.pull_and_export(settings, archive_only, _progress, full=full)
    for line in outcome.lines(settings):  # the warnings on stderr also with --json
        if line.warning:
            click.secho(line.text, fg="yellow", err=True)
        elif not as_json:
            click.echo(line.text)
    if as_json:
        echo_json("pull", pull_json(outcome.pulled, outcome.gold))


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """The main job on seeds/: start Label Studio, pre-annotate, push, and print where to go."""
    from ..web.users import allowed_users, ensure_users  # werkzeug: loaded only by the commands that need it

    settings = get_settings(ctx)
    result = pipeline.run_demo(settings, _progress, dashboard_logins=ensure_users)
    click.echo(f"\nPre-annotated {result.documents} seed article(s); {result.push.summary()}.")
    click.echo(f"\nLabel Studio:  {result.server_url}")
    if result.login:
        click.echo(f"Login:         {result.login}  (password: see {result.credentials_file})")
    click.echo(f"Project:       {result.project.url}")
    echo_logins(settings, result.logins)
    if result.dashboard_error is not None:
        raise result.dashboard_error
    assert result.dashboard is not None
    leads = ", ".join(allowed_users(settings))
    click.echo(f"Dashboard:     {result.dashboard.url}/  (login {leads}; `annotate serve --reset-password EMAIL` "
               "sets a new password)")
    click.echo("\nCorrect the spans and relations in the browser, then pull them into exports/ with:\n    .venv/bin/annotate pull\n"
               "(or press \"Pull from Label Studio\" on the dashboard).")
    stops = ".venv/bin/annotate dashboard stop" + ("" if settings.external else " && .venv/bin/annotate server stop")
    click.echo(f"Stop the servers with:\n    {stops}")
