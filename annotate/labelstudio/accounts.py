"""Annotator accounts made the way Label Studio 1.23's own invite and sign-up flow makes them.

Established on Label Studio 1.23.2 (its source, `users/` and `organizations/`, and the real server):
- `GET /api/invite` answers `{"token", "invite_url": "/user/signup/?token=..."}`: one token per organisation,
  not per person. The sign-up view (`users.views.user_signup`) reads the token from the query string, also on
  POST, and refuses a wrong one with 403; with `LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true` (the embedded
  server's setting) it refuses a missing one too.
- The sign-up form (`UserSignupForm`: `email`, `password`, Django's CSRF token) creates the user with that
  password, adds them to the organisation and logs them in: HTTP 302 on success. A refusal is HTTP 200, the
  form again with `<ul class="field_errors"><li>...</li></ul>`: "Enter a valid email address.", "User with this
  email already exists", "Please enter a password 8–128 characters in length.".
- `POST /api/users/` needs `username` as well as `email` and makes an organisation member, but ignores `password`
  (the serializer has no such field), as `PATCH /api/users/{id}/` does: that user cannot log in ("The email and
  password you entered don't match."). No API sets a password, and the community edition has no page where a
  user changes their own; only `label-studio reset_password --username EMAIL` on the server's machine does.
- So an account that can log in is made through the sign-up form, as a person following the invite link would,
  with a password generated here and shown once. The form's POST carries the password in its body, which Label
  Studio does not log; its access log does show the URL, invite token included, so `rotate_invite` gives the
  organisation a new token afterwards (`POST /api/invite/reset-token`): the logged one no longer signs anyone up.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from ..errors import InputError, LabelStudioError
from .client import TIMEOUT, Connection, describe_error, never_sent
from .users import user_emails

log = logging.getLogger(__name__)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")  # a first check; Label Studio's form (Django's) has the last word
_FIELD_ERRORS = re.compile(r'<ul class="field_errors">(.*?)</ul>', re.DOTALL)
_ITEM = re.compile(r"<li>(.*?)</li>", re.DOTALL)
_TOKEN_IN_URL = re.compile(r"token=[^&\s\"']+")
PASSWORD_BYTES = 12  # 16 URL-safe characters: inside Label Studio's 8-128


@dataclass(frozen=True)
class Account:
    """A member who can log in; `password` is shown once and kept nowhere."""

    email: str
    user_id: int
    password: str = field(repr=False)  # so a logged or printed Account never shows it


def check_email(email: str) -> str:
    """The email as Label Studio stores it (lower case); InputError naming it when it cannot be an address."""
    if len(email) >= 256 or not EMAIL.fullmatch(email):
        raise InputError(f"{email}: not a valid email address (name@domain.tld)")
    return email.lower()


def invite_token(conn: Connection) -> str:
    """The organisation's invite token (the one in the Organization page's invite link)."""
    answer = conn.call("get the invite link (GET /api/invite)", conn.get_json, "api/invite")
    return str(answer["token"])


def rotate_invite(conn: Connection) -> None:
    """Give the organisation a new invite token, so the one the server's access log shows signs nobody up."""
    conn.call("reset the invite link (POST /api/invite/reset-token)", conn.request_json, "POST",
              "api/invite/reset-token", retry=False)


def sign_up(conn: Connection, token: str, email: str, transport: httpx.BaseTransport | None = None) -> Account:
    """Sign `email` up through the invite link with a new password; InputError when Label Studio refuses it."""
    password = secrets.token_urlsafe(PASSWORD_BYTES)
    page = f"{conn.base_url}/user/signup/"
    what = f"sign {email} up (POST /user/signup/)"
    # A client of its own, like a person's browser: no API token, and the new member's session goes with it.
    with _quiet_token(), httpx.Client(timeout=TIMEOUT, transport=transport) as http:
        try:
            http.get(page, params={"token": token})
        except httpx.TransportError as exc:
            raise describe_error(conn.url, what, exc) from exc
        form = {"email": email, "password": password, "csrfmiddlewaretoken": http.cookies.get("csrftoken") or ""}
        try:
            answer = http.post(page, params={"token": token}, headers={"Referer": page}, data=form)
        except httpx.TransportError as exc:
            # Sent once, never again: the form may have made the account before its answer was lost, and then
            # it was made with this password, which must not be lost with the answer.
            uid = None if never_sent(exc) else _member_id(conn, email)
            if uid is None:
                raise describe_error(conn.url, what, exc) from exc
            return Account(email, uid, password)
        if answer.status_code == 302:
            _log_out(http, conn.base_url)
    if answer.status_code == 200:
        raise InputError(f"{email}: Label Studio refused the account: {form_errors(answer.text)}")
    if answer.status_code != 302:
        raise LabelStudioError(f"Label Studio at {conn.url} answered HTTP {answer.status_code} while trying to {what}"
                               + ("; the invite token was refused" if answer.status_code == 403 else ""))
    uid = _member_id(conn, email)
    if uid is None:
        raise LabelStudioError(f"Label Studio at {conn.url} signed {email} up but does not list them as a member")
    return Account(email, uid, password)


def _log_out(http: httpx.Client, base_url: str) -> None:
    """End the session the sign-up opened (best effort: the account is made either way)."""
    try:
        http.get(f"{base_url}/logout")
    except httpx.TransportError as exc:
        log.debug("logging the new member out failed: %s", type(exc).__name__)


def form_errors(page: str) -> str:
    """The sign-up form's error messages, on one line ('no reason given' when the page shows none)."""
    found = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split())
             for block in _FIELD_ERRORS.findall(page) for item in _ITEM.findall(block)]
    return "; ".join(m for m in found if m) or "no reason given"


def _member_id(conn: Connection, email: str) -> int | None:
    return next((uid for uid, known in user_emails(conn).items() if known.lower() == email), None)


class _RedactToken(logging.Filter):
    """httpx logs each request's URL at INFO (shown with -v); the invite token in it is a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_URL.sub("token=***", str(a)) if isinstance(a, httpx.URL) else a
                                for a in record.args)
        return True


@contextmanager
def _quiet_token() -> Iterator[None]:
    logger, redact = logging.getLogger("httpx"), _RedactToken()
    logger.addFilter(redact)
    try:
        yield
    finally:
        logger.removeFilter(redact)
