"""Login for leads only, the login gate on every page, CSRF tokens on every POST, security headers."""

from __future__ import annotations

import math
import time
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from ..hosts import host_allowed, refusal
from . import context, sessions
from .users import allowed_users, check_login

bp = Blueprint("auth", __name__)
MAX_ATTEMPTS = 5  # login attempts (right or wrong) from one address within WINDOW seconds; then 429
WINDOW = 300
OPEN_ENDPOINTS = {"auth.login", "static"}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def _check_host() -> None:
    # First of all hooks: a DNS-rebinding page must not reach the login form, its limit or anything else.
    names = current_app.extensions["annotate.hosts"]
    if not host_allowed(request.headers.get("Host"), names):
        abort(400, refusal(request.headers.get("Host"), names))


def _live_user() -> str | None:
    """The session's user while its server-side record lives and the user is still a lead, else None."""
    sid, user = session.get("sid"), session.get("user")
    if not isinstance(sid, str) or not isinstance(user, str):
        return None
    settings = context.settings()
    if sessions.session_user(settings, sid) != user or user not in allowed_users(settings):
        return None
    return user


def _require_login() -> BaseResponse | None:
    # A signed cookie alone is not enough: logout, a password reset or removal from `leads` ends its record.
    if "user" in session and _live_user() is None:
        session.clear()
    if request.endpoint in OPEN_ENDPOINTS or "user" in session:
        return None
    if request.method != "GET":
        abort(403, "Log in first.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Install, in this order, the Host check, Flask-WTF's CSRF check, the login gate, the login limit, the headers.

    Call it after the blueprints are registered: the limit wraps the login view. Each app has its own limiter
    and storage (in memory), so the count is per dashboard process, never shared between apps.
    """
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as its session (12 h at most)
    app.before_request(_check_host)  # first: a DNS-rebinding page must not reach the form, its token or its limit
    CSRFProtect(app)
    app.before_request(_require_login)
    app.after_request(_headers)
    # Every POST counts, and is counted before its password is checked (the hash is slow on purpose): parallel
    # attempts cannot all pass the limit first. Counting only failures would need the count after the check,
    # which is what Flask-Limiter's deduct_when does, and then 40 parallel guesses are all checked.
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", strategy="moving-window",
                      headers_enabled=False)
    app.extensions["annotate.login_limiter"] = limiter
    limit = limiter.limit(f"{MAX_ATTEMPTS} per {WINDOW} seconds", methods=["POST"])
    app.view_functions["auth.login"] = limit(app.view_functions["auth.login"])  # type: ignore[assignment]  # the limiter's stubs add async views
    app.register_error_handler(RateLimitExceeded, _too_many_logins)


def _too_many_logins(exc: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    limit = current_app.extensions["annotate.login_limiter"].current_limit  # the breached one, with its window
    wait = max(1, math.ceil(limit.window.reset_time - time.time())) if limit is not None else WINDOW
    flash(f"Too many logins from this address: wait {wait} s, then try again.", "error")
    return render_template("auth/login.html"), 429, {"Retry-After": str(wait)}


def _same_site_path(target: str) -> bool:
    # Browsers drop tabs and newlines inside URLs and read "\\" as "/": "/\t/evil" and "/\\evil" are "//evil".
    if "\\" in target or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in target):
        return False
    parts = urlsplit(target)
    return target.startswith("/") and not target.startswith("//") and not parts.scheme and not parts.netloc


def _safe_next(target: str | None) -> str:
    """`target` when it is a path on this site at every round of percent-decoding, else the overview."""
    layer = target or ""
    for _ in range(4):  # "/%252f%252fevil" is "//evil" two decodings down; deeper nesting is refused outright
        if not _same_site_path(layer):
            break
        deeper = unquote(layer)
        if deeper == layer:
            return str(target)
        layer = deeper
    return url_for("overview.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse:
    """The login form; a lead's email and the password printed by `annotate serve` (rate-limited by init_app)."""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        if check_login(context.settings(), email, request.form.get("password", "")):
            target = _safe_next(request.args.get("next"))
            session.clear()  # a new session on login: no fixation (and a new CSRF token on the next page)
            session.permanent = True
            lifetime = current_app.permanent_session_lifetime.total_seconds()
            session["sid"] = sessions.create_session(context.settings(), email, lifetime)
            session["user"] = email
            return redirect(target)
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html"), 401  # type: ignore[return-value]
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """End the session here and in the server-side record, so that a copy of the cookie stops working too."""
    if isinstance(session.get("sid"), str):
        sessions.end_session(context.settings(), session["sid"])
    session.clear()
    return redirect(url_for("auth.login"))
