"""Errors as pages with their HTTP status, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..errors import AnnotateError

log = logging.getLogger(__name__)
TITLES = {400: "Bad request", 401: "Not logged in", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Not possible now", 413: "Too large", 429: "Too many requests", 500: "Internal error",
          502: "Label Studio unreachable", 503: "Loading data"}


def _page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=TITLES.get(status, "Error"), message=message,
                           refresh=status == 503), status


def _http(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    return _page(code, exc.description or TITLES.get(code, "Error"))


def _csrf(exc: CSRFError) -> tuple[str, int]:
    reason = (exc.description or "").rstrip(".")  # Flask-WTF's: missing, invalid, expired, do not match
    return _page(400, f"The form's security token is missing or out of date ({reason}): reload the page and "
                      "submit the form again.")


def _annotate(exc: AnnotateError) -> tuple[str, int]:
    return _page(exc.status, str(exc))


def _internal(exc: InternalServerError) -> tuple[str, int]:
    log.error("dashboard error: %r", exc.original_exception or exc, exc_info=exc.original_exception)
    return _page(500, "Something went wrong on our side; the details are in the server log.")


def init_app(app: Flask) -> None:
    """Register the handlers: HTTP errors, a bad CSRF token, AnnotateError (its .status), anything else as 500."""
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(AnnotateError, _annotate)
    app.register_error_handler(InternalServerError, _internal)
    app.register_error_handler(HTTPException, _http)
