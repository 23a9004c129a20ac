"""`annotate serve`: the lead's dashboard on 127.0.0.1 (logins made on first run, printed once)."""

from __future__ import annotations

import ipaddress
import threading

import click

from ..errors import ConfigError
from .app import get_settings, main


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
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (put TLS in front of it).")
@click.option("--reset-password", metavar="EMAIL", help="Give this lead a new password, print it and exit.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, allow_remote: bool, reset_password: str | None) -> None:
    """Start the lead's dashboard: progress, agreement, disagreements, adjudication, exports."""
    from ..web import create_app
    from ..web.users import ensure_users, users_path
    from ..web.users import reset_password as reset

    settings = get_settings(ctx)
    if reset_password:
        click.echo(f"New password for {reset_password}: {reset(settings, reset_password)}")
        return
    if not _loopback(host) and not allow_remote:
        raise ConfigError(f"--host {host} is not a loopback address; the dashboard serves plain HTTP, so pass "
                          "--allow-remote only behind TLS")
    for email, password in ensure_users(settings).items():
        click.echo(f"Created dashboard login {email} with password {password} (shown once; hash in "
                   f"{users_path(settings)})")
    app = create_app(settings)
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
