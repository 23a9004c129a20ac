"""`annotate annotators invite|list`: Label Studio accounts for annotators, and what each has done."""

from __future__ import annotations

from typing import Any

import click

from ..pipeline.annotators import Annotators, Invited, invite_annotators, list_annotators
from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json


@main.group()
def annotators() -> None:
    """Annotators' Label Studio accounts: invite them, see what each has done."""


@annotators.command()
@click.argument("emails", nargs=-1, required=True, metavar="EMAIL...")
@JSON_OPTION
@click.pass_context
def invite(ctx: click.Context, emails: tuple[str, ...], as_json: bool) -> None:
    """Make a Label Studio account for each EMAIL through the invite link, and print its password (shown once).

    An invalid email or an existing account is reported and the others go on; the exit code is 1 if any was
    refused. The organisation's invite link is renewed afterwards.

    \b
    --json keys: login_url, invited [{email, user_id, password}], refused [{email,
    error}], warning (null, or why the invite link was not renewed).
    """
    result = invite_annotators(get_settings(ctx), emails)
    if as_json:
        echo_json("annotators invite", invite_json(result))
    else:
        for account in result.accounts:
            click.echo(f"{account.email}: account made, password {account.password} (shown once; log in at "
                       f"{result.login_url})")
    for _email, error in result.refused:
        click.secho(f"Error: {error}", fg="red", err=True)
    if result.warning:
        click.secho(f"warning: {result.warning}", fg="yellow", err=True)
    if result.refused:
        ctx.exit(1)


@annotators.command("list")
@JSON_OPTION
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Show each annotator's submitted, skipped and in-progress tasks in the project and median seconds per task.

    Reads the server (which must be running): every member of the organisation, counted in the project named
    by the settings; seconds are Label Studio's lead_time of the submitted annotations.

    \b
    --json keys: project_id (null when the project does not exist yet), project_title,
    annotators [{email, user_id, submitted, skipped, in_progress, median_seconds}].
    """
    result = list_annotators(get_settings(ctx))
    if as_json:
        echo_json("annotators list", list_json(result))
        return
    for line in table_lines(result):
        click.echo(line)


def table_lines(result: Annotators) -> list[str]:
    """The text report: a heading naming the project, then one row per annotator."""
    if result.project_id is None:
        head = f"no project titled {result.project_title!r} yet: every count is 0"
    else:
        head = f"project {result.project_id} {result.project_title!r}: {len(result.activity)} member(s)"
    width = max([len("annotator"), *(len(a.email) for a in result.activity)])
    lines = [head, f"{'annotator':<{width}}  submitted  skipped  in progress  median s/task"]
    for a in result.activity:
        median = "-" if a.median_seconds is None else f"{a.median_seconds:.1f}"
        lines.append(f"{a.email:<{width}}  {a.submitted:>9}  {a.skipped:>7}  {a.in_progress:>11}  {median:>13}")
    return lines


def invite_json(result: Invited) -> dict[str, Any]:
    return {"login_url": result.login_url, "warning": result.warning,
            "invited": [{"email": a.email, "user_id": a.user_id, "password": a.password} for a in result.accounts],
            "refused": [{"email": email, "error": str(error)} for email, error in result.refused]}


def list_json(result: Annotators) -> dict[str, Any]:
    return {"project_id": result.project_id, "project_title": result.project_title,
            "annotators": [{"email": a.email, "user_id": a.user_id, "submitted": a.submitted, "skipped": a.skipped,
                            "in_progress": a.in_progress, "median_seconds": a.median_seconds}
                           for a in result.activity]}
