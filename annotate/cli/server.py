"""`annotate server start|stop|status|install|backup|restore`: the embedded Label Studio and its database."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import Settings, redact_url
from ..errors import ConfigError
from ..labelstudio import backup as ls_backup
from ..labelstudio import database as ls_database
from ..labelstudio import postgres as ls_postgres
from ..labelstudio import server as ls_server
from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json, status_json


@main.group()
def server() -> None:
    """Manage the embedded Label Studio (used when no external server is configured)."""


def _embedded_settings(ctx: click.Context, port: int | None = None):  # noqa: ANN202
    settings = get_settings(ctx, port=port)
    if settings.external:
        raise ConfigError(f"an external Label Studio is configured ({redact_url(settings.label_studio_url or '')}); "
                          "the embedded server is not used. Unset LABEL_STUDIO_URL to use it.")
    return settings


@server.command()
@click.pass_context
def install(ctx: click.Context) -> None:
    """Install label-studio into its own virtualenv under .annotate/ (done by start when missing)."""
    path = ls_server.install_server(_embedded_settings(ctx))
    click.echo(f"label-studio {ls_server.LABEL_STUDIO_VERSION} ready: {path}")


@server.command()
@click.option("--port", type=int, help="Port on 127.0.0.1 (default 8089, env ANNOTATE_PORT).")
@click.pass_context
def start(ctx: click.Context, port: int | None) -> None:
    """Start the embedded Label Studio on 127.0.0.1 and wait until it is healthy."""
    settings = _embedded_settings(ctx, port)
    info = ls_server.start_server(settings)
    creds = ls_server.load_credentials(settings)
    click.echo(f"Label Studio is up at {info.url} (PID {info.pid})")
    click.echo(f"Login: {creds.email} (password in {ls_server.server_paths(settings).credentials})")
    click.echo(f"Database: {_database_line(settings)}")


@server.command()
@click.pass_context
def stop(ctx: click.Context) -> None:
    """Stop the embedded Label Studio (exactly the PID that `start` recorded), then its private PostgreSQL."""
    settings = _embedded_settings(ctx)
    postgres_pid = ls_postgres.cluster_pid(ls_postgres.cluster_paths(settings))
    pid = ls_server.stop_server(settings)
    click.echo(f"stopped Label Studio (PID {pid})" if pid else "Label Studio was not running")
    if postgres_pid:
        click.echo(f"stopped PostgreSQL (PID {postgres_pid})")


@server.command()
@JSON_OPTION
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show the embedded server's URL, PID, health and data folder; exit 1 when it is not running.

    \b
    --json keys: running, url, pid, port, healthy, data (url, pid and port null
    when not running), database {kind: sqlite|postgresql, where (the SQLite
    file, or the PostgreSQL URL without a password), private_cluster, pid
    (the private cluster's, else null)}.
    """
    settings = _embedded_settings(ctx)
    info = ls_server.server_status(settings)
    data = info.data_dir if info else ls_server.server_paths(settings).data
    if as_json:
        echo_json("server status", status_json(info, data=str(data), database=ls_server.database_status(settings)))
    elif info is None:
        click.echo(f"not running (data folder {data})")
    else:
        click.echo(f"url:     {info.url}\npid:     {info.pid}\nhealth:  {'UP' if info.healthy else 'NOT ANSWERING'}\n"
                   f"data:    {info.data_dir}")
    if not as_json:
        click.echo(f"database: {_database_line(settings)}")
    if info is None:
        ctx.exit(1)


def _database_line(settings: Settings) -> str:
    line = ls_database.describe_database(settings, ls_server.sqlite_file(settings))
    if ls_database.database_kind(settings) == "cluster":
        pid = ls_postgres.cluster_pid(ls_postgres.cluster_paths(settings))
        line += f", PID {pid}" if pid else ", not running"
    return line


@server.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, file: Path) -> None:
    """Write a consistent copy of the server's database (SQLite backup API or pg_dump), Label Studio's secret key and
    the admin credentials to the tar FILE (mode 0600)."""
    what = ls_backup.backup_database(_embedded_settings(ctx), file)
    click.echo(f"backed up {what}, Label Studio's secret key and the admin credentials to {file} (keep it private)")


@server.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def restore(ctx: click.Context, file: Path) -> None:
    """Replace the server's database, secret key and admin credentials with the backup in FILE; refused while the
    server runs."""
    done = ls_backup.restore_database(_embedded_settings(ctx), file)
    click.echo(f"restored {file} into {done.database}; start the server with annotate server start")
    came = [what for what, kept in (("Label Studio's secret key", done.secret_key),
                                    ("the admin login (.annotate/credentials.json)", done.credentials)) if kept]
    if came:
        click.echo(f"{' and '.join(came)} came with it: logins and tokens made before the backup keep working.")
    if done.bare:  # a database file from an earlier version
        click.echo("The backup holds the database only: bring the backed-up server's .annotate/credentials.json and "
                   "label-studio-data/.env (its secret key, which signs sessions and personal access tokens) along "
                   "when it comes from another project folder.")
