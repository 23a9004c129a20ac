"""`annotate serve`: the lead's dashboard on 127.0.0.1 (logins made on first run, printed once)."""

from __future__ import annotations

import ipaddress
import threading

import click

from ..config import Settings
from ..errors import ConfigError, ServerError
from ..hosts import wildcard_hint
from ..procs import port_is_free
from ..procs.dashboard import dashboard_status, logfile, start_dashboard, stop_dashboard
from .app import get_settings, main
from .jsonreport import JSON_OPTION, echo_json, status_json


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback only, "
              "unless --allow-remote).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to listen on (default 5000, env "
              "ANNOTATE_DASHBOARD_PORT).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (put TLS in front of it).")
@click.option("--reset-password", metavar="EMAIL", help="Give this lead a new password, print it and exit.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int | None, allow_remote: bool, reset_password: str | None) -> None:
    """Start the lead's dashboard: progress, agreement, disagreements, adjudication, exports."""
    from ..web import create_app
    from ..web.users import reset_password as reset

    settings = get_settings(ctx, dashboard_port=port)
    port = settings.dashboard_port
    if reset_password:
        click.echo(f"New password for {reset_password}: {reset(settings, reset_password)}")
        return
    if not _loopback(host) and not allow_remote:
        raise ConfigError(f"--host {host} is not a loopback address; the dashboard serves plain HTTP, so pass "
                          "--allow-remote only behind TLS")
    if not port_is_free(port, host):
        running = dashboard_status(settings)
        who = f" by the background dashboard (PID {running.pid}; `annotate dashboard stop`)" if running else ""
        raise ServerError(f"port {port} on {host} is already in use{who}; choose another with --port or "
                          "ANNOTATE_DASHBOARD_PORT")
    echo_new_logins(settings)
    app = create_app(settings, host=host)
    if hint := wildcard_hint(settings, host):
        click.echo(f"Warning: {hint}", err=True)
    store = app.extensions["annotate.data"]
    # Parse the archive and compute the report before the first page asks for them.
    threading.Thread(target=_warm, args=(store,), daemon=True).start()
    click.echo(f"Dashboard on http://{host}:{port}/ (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, use_reloader=False, threaded=True)


def _warm(store: object) -> None:
    from ..errors import AnnotateError

    try:
        store.warm()  # type: ignore[attr-defined]
    except AnnotateError as exc:  # the pages show the same error with its status
        click.echo(f"Dashboard data not loaded: {exc}", err=True)


def echo_new_logins(settings: Settings) -> None:
    """Create the dashboard logins that do not exist yet and print their passwords (the only time they show)."""
    from ..web.users import ensure_users

    echo_logins(settings, ensure_users(settings))


def echo_logins(settings: Settings, created: dict[str, str]) -> None:
    """Print the dashboard logins just created, with their passwords (the only time they show)."""
    from ..web.users import users_path

    for email, password in created.items():
        click.echo(f"Created dashboard login {email} with password {password} (shown once; hash in "
                   f"{users_path(settings)})")


@main.group()
def dashboard() -> None:
    """Run the dashboard in the background (as `make demo` leaves it): start, stop, status."""


@dashboard.command("start")
@click.option("--port", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 (default 5000, env "
              "ANNOTATE_DASHBOARD_PORT).")
@click.pass_context
def dashboard_start(ctx: click.Context, port: int | None) -> None:
    """Start the dashboard on 127.0.0.1 in the background and wait until it answers."""
    settings = get_settings(ctx, dashboard_port=port)
    echo_new_logins(settings)  # here, not in the background process's log
    info = start_dashboard(settings)
    click.echo(f"Dashboard is up at {info.url}/ (PID {info.pid}; log {info.log})")


@dashboard.command("stop")
@click.pass_context
def dashboard_stop(ctx: click.Context) -> None:
    """Stop the background dashboard (exactly the PID that `start` recorded)."""
    pid = stop_dashboard(get_settings(ctx))
    click.echo(f"stopped the dashboard (PID {pid})" if pid else "the dashboard was not running")


@dashboard.command("status")
@JSON_OPTION
@click.pass_context
def dashboard_status_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show the background dashboard's URL, PID and health; exit 1 when it is not running.

    \b
    --json keys: running, url, pid, port, healthy, log (url, pid and port null
    when not running).
    """
    settings = get_settings(ctx)
    info = dashboard_status(settings)
    if as_json:
        echo_json("dashboard status", status_json(info, log=str(info.log if info else logfile(settings))))
    elif info is None:
        click.echo("not running")
    else:
        click.echo(f"url:     {info.url}/\npid:     {info.pid}\nhealth:  {'UP' if info.healthy else 'NOT ANSWERING'}\n"
                   f"log:     {info.log}")
    if info is None:
        ctx.exit(1)
