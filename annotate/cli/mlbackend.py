"""`annotate ml-backend`: serve the current model to Label Studio as an ML backend, retraining on new annotations."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from ..config import Settings
from .app import get_settings, main


@main.command("ml-backend")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=9090, show_default=True, help="Port to listen on.")
@click.option("--model", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A models/<version> folder from `annotate train` (default: the newest one; none: the rules).")
@click.option("--with-rules/--model-only", default=True, show_default=True,
              help="Add the rule-based spans to the trained model's, or serve the model's spans only.")
@click.option("--retrain-every", type=click.IntRange(min=0), default=0, show_default=True,
              help="Retrain in the background after this many new or updated annotations (0: only on START_TRAINING).")
@click.option("--max-steps", type=click.IntRange(min=10), default=500, show_default=True,
              help="Training steps at most for each retraining.")
@click.option("--connect", is_flag=True, help="Also connect it to the project in Label Studio, with its login (and "
              "give the webhook Label Studio makes for it the login too).")
@click.option("--disconnect", is_flag=True, help="Remove the backend at http://HOST:PORT (and its webhook) from the "
              "project in Label Studio, say what was removed, and exit (serves nothing).")
@click.pass_context
def ml_backend(ctx: click.Context, host: str, port: int, model: Path | None, with_rules: bool, retrain_every: int,
               max_steps: int, connect: bool, disconnect: bool) -> None:
    """Serve predictions to Label Studio (connect it under Project settings > Model, URL http://HOST:PORT).

    Each Label Studio project connected to it is served and retrained on its own: retraining pulls that
    project's annotations, builds its own gold under .annotate/ml-backend/ (exports/gold/latest is left
    alone) and trains a new model, in the background; it is served to that project as soon as it is loaded.
    """
    if connect and disconnect:
        raise click.UsageError("--connect and --disconnect exclude each other")
    if disconnect:
        click.echo(disconnect_backend(get_settings(ctx), f"http://{host}:{port}"))
        return
    from werkzeug.serving import make_server

    from ..hosts import wildcard_hint
    from ..mlbackend import create_backend
    from ..mlbackend.credentials import credentials_path, ensure_credentials
    from ..mlbackend.training import default_train

    settings = get_settings(ctx)
    app = create_backend(settings, model, with_rules=with_rules, retrain_every=retrain_every,
                         train=default_train(settings, max_steps), host=host)
    if hint := wildcard_hint(settings, host):
        click.echo(f"Warning: {hint}", err=True)
    projects = app.extensions["annotate_backend"]["projects"]
    served = projects.load(projects.default_model)  # load now, not on Label Studio's first call
    server = make_server(host, port, app, threaded=True)
    click.echo(f"ML backend serving {served.model_version} on http://{host}:{server.port} (Ctrl+C stops)", err=True)
    url = f"http://{host}:{server.port}"
    thread = threading.Thread(target=server.serve_forever, name="ml-backend", daemon=True)
    thread.start()  # Label Studio calls /health and /setup while we connect it
    try:
        if connect:
            from .. import pipeline

            project, done = pipeline.connect_ml_backend(settings, url)
            click.echo(f"{'Connected' if done.created else 'Updated'} ML backend {done.backend_id} in project "
                       f"{project.id} with its login; webhook(s) {', '.join(map(str, done.webhooks))} carry it too",
                       err=True)
        else:
            click.echo(connect_help(url, ensure_credentials(settings).user, credentials_path(settings)), err=True)
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.shutdown()


def disconnect_backend(settings: Settings, url: str) -> str:
    """Disconnect the backend at `url` from the project; a line saying what was removed."""
    from ..labelstudio.mlconnect import disconnect_project_backend

    done = disconnect_project_backend(settings, url)
    if not done.backends and not done.webhooks:
        return f"No ML backend or webhook at {url} in project {done.project_id}: nothing removed"
    backends = ", ".join(map(str, done.backends)) or "none"
    hooks = ", ".join(map(str, done.webhooks)) or "none"
    return (f"Removed from project {done.project_id}: ML backend(s) {backends} at {url}, "
            f"webhook(s) {hooks} to {url}/webhook")


def connect_help(url: str, user: str, path: Path) -> str:
    """How to connect Label Studio; names the password's file, never the password (this output may be logged)."""
    return (f"Connect it in Label Studio: Project settings > Model > Connect Model, Backend URL {url}, "
            f"Basic Authentication, user {user}, password: the \"password\" in {path} (0600).\n"
            "Label Studio then adds a project webhook to /webhook without the login: give it the header "
            "Authorization: Basic base64(user:password) under Project settings > Webhooks, or annotations "
            "will not count towards --retrain-every (START_TRAINING carries the login anyway). "
            "`annotate ml-backend --connect` does both for you.")
