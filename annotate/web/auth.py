"""Login for leads only, the login gate on every page, CSRF tokens on every POST, security headers."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import unicodedata
from collections import deque
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

from ..hosts import host_allowed, refusal
from . import context, sessions
from .users import allowed_users, check_login

bp = Blueprint("auth", __name__)
MAX_FAILURES = 5  # wrong (or still checking) logins from one address within WINDOW seconds; then 429
WINDOW = 300.0
OPEN_ENDPOINTS = {"auth.login", "static"}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


def csrf_token() -> str:
    """This session's CSRF token (made on first use), for the hidden field of every form."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def _check_host() -> None:
    # First of all hooks: a DNS-rebinding page must not reach the login form, its limit or anything else.
    names = current_app.extensions["annotate.hosts"]
    if not host_allowed(request.headers.get("Host"), names):
        abort(400, refusal(request.headers.get("Host"), names))


def _check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent, expected = request.form.get("csrf_token", ""), session.get("csrf_token", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(400, "The form's security token is missing or out of date: reload the page and submit again.")


def _live_user() -> str | None:
    """The session's user while its server-side record lives and the user is still a lead, else None."""
    sid, user = session.get("sid"), session.get("user")
    if not isinstance(sid, str) or not isinstance(user, str):
        return None
    settings = context.settings()
    if sessions.session_user(settings, sid) != user or user not in allowed_users(settings):
        return None
    return user


def _require_login() -> Response | None:
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
    """Install the Host check, the CSRF check, the login gate and the headers; expose csrf_token() to templates."""
    app.before_request(_check_host)
    app.before_request(_check_csrf)
    app.before_request(_require_login)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token


class LoginAttempts:
    """Recent login attempts per remote address, to slow down password guessing (in memory, per process).

    An attempt is reserved before its password is checked, under the lock: checking takes a while (the hash
    is slow on purpose), and parallel attempts must not all pass the limit before any of them is counted.
    """

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW):
        self.limit, self.window = limit, window
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, who: str, now: float) -> deque[float]:
        times = self._attempts.setdefault(who, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def reserve(self, who: str) -> float:
        """Count an attempt by `who` and return 0, or return the seconds to wait when the limit is reached."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(who, now)
            if len(times) >= self.limit:
                return self.window - (now - times[0])
            times.append(now)
            return 0.0

    def succeeded(self, who: str) -> None:
        """A right password: forget `who`'s attempts (a wrong one keeps its reservation as a failure)."""
        with self._lock:
            self._attempts.pop(who, None)


def _login_attempts() -> LoginAttempts:
    return current_app.extensions.setdefault("annotate.login_attempts", LoginAttempts())


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
def login() -> str | Response:
    """The login form; a lead's email and the password printed by `annotate serve`."""
    if request.method == "POST":
        who, attempts = request.remote_addr or "unknown", _login_attempts()
        wait = attempts.reserve(who)
        if wait > 0:
            flash(f"Too many failed logins: wait {int(wait) + 1} s, then try again.", "error")
            return render_template("auth/login.html"), 429  # type: ignore[return-value]
        email = request.form.get("email", "").strip()
        if check_login(context.settings(), email, request.form.get("password", "")):
            attempts.succeeded(who)
            target = _safe_next(request.args.get("next"))
            session.clear()  # a new session on login: no fixation
            session.permanent = True
            lifetime = current_app.permanent_session_lifetime.total_seconds()
            session["sid"] = sessions.create_session(context.settings(), email, lifetime)
            session["user"] = email
            csrf_token()
            return redirect(target)
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html"), 401  # type: ignore[return-value]
    return render_template("auth/login.html")


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End the session here and in the server-side record, so that a copy of the cookie stops working too."""
    if isinstance(session.get("sid"), str):
        sessions.end_session(context.settings(), session["sid"])
    session.clear()
    return redirect(url_for("auth.login"))
