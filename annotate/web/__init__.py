"""The lead's dashboard: a Flask app (factory `create_app`) over the pulled tasks, the report and the gold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from ..config import Settings, load_settings
from .store import DataStore


def create_app(settings: Settings | None = None, test_config: dict[str, Any] | None = None,
               host: str | None = None) -> Flask:
    """Build the dashboard for a project; `test_config` overrides Flask settings (e.g. SECRET_KEY, TESTING).

    It answers to the Host names of loopback, `allowed_hosts` and `host` (the address it listens on).
    """
    from ..hosts import served_names
    from . import auth, documents, errors, exports, overview, reports
    from .users import secret_key

    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="annotate_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=64 * 1024,  # only small forms are ever posted
        REPORT_BOOTSTRAP=200,
        # True: pages wait for newly pulled data / the agreement report instead of saying they are being computed
        DATA_WAIT=False,
        REPORT_WAIT=False,
        # True: reading a new archive whole (its summary, its agreement report) runs in a child process, so the
        # dashboard's memory stays that of one page (tests set it False to stay in one process)
        ISOLATE_WORK=True,
    )
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(settings)
    app.extensions["annotate.settings"] = settings
    app.extensions["annotate.hosts"] = served_names(settings, host)
    app.extensions["annotate.data"] = DataStore(settings, bootstrap=app.config["REPORT_BOOTSTRAP"],
                                                     wait=app.config["DATA_WAIT"],
                                                     report_wait=app.config["REPORT_WAIT"],
                                                     isolate=app.config["ISOLATE_WORK"])
    app.jinja_env.globals["loading_seconds"] = app.extensions["annotate.data"].loading
    errors.init_app(app)
    for module in (auth, overview, reports, documents, exports):
        app.register_blueprint(module.bp)
    auth.init_app(app)  # after the blueprints: the login limit wraps the login view
    return app
