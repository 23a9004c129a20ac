"""Annotator accounts: invite (accounts that log in, through Label Studio's sign-up flow) and what each has done."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from ..config import Settings
from ..errors import AnnotateError, InputError
from ..labelstudio.accounts import Account, check_email, invite_token, rotate_invite, sign_up
from ..labelstudio.activity import Activity, annotator_activity
from ..labelstudio.client import connect
from ..labelstudio.project import find_project
from ..labelstudio.users import user_emails


@dataclass(frozen=True)
class Invited:
    """What `annotators invite` did: the accounts made, the emails refused (each with its error), where to log in."""

    accounts: tuple[Account, ...]
    refused: tuple[tuple[str, AnnotateError], ...]
    login_url: str
    warning: str | None = None  # the invite token could not be renewed (the accounts are made all the same)


@dataclass(frozen=True)
class Annotators:
    project_id: int | None  # None: no project with the settings' title on this server yet
    project_title: str
    activity: tuple[Activity, ...]


def invite_annotators(settings: Settings, emails: Iterable[str],
                      transport: httpx.BaseTransport | None = None) -> Invited:
    """Make an account for each email; a refused one (bad address, existing account) does not stop the others."""
    conn = connect(settings, transport=transport)
    known = {email.lower() for email in user_emails(conn).values()}
    accounts, refused = [], []
    token: str | None = None
    for given in emails:
        try:
            email = check_email(given)
            if email in known:
                raise _exists(given)
            token = token or invite_token(conn)
            accounts.append(sign_up(conn, token, email, transport))
            known.add(email)
        except AnnotateError as exc:
            refused.append((given, exc))
    warning = None
    if token is not None:
        try:
            rotate_invite(conn)
        except AnnotateError as exc:  # reported beside the new passwords, which cannot be shown again
            warning = f"the invite link was used but not renewed: {exc}"
    return Invited(tuple(accounts), tuple(refused), f"{conn.url}/user/login/", warning)


def _exists(email: str) -> InputError:
    return InputError(f"{email}: already has a Label Studio account (members are listed by `annotate annotators list`)")


def list_annotators(settings: Settings, transport: httpx.BaseTransport | None = None) -> Annotators:
    """Each member's submitted, skipped and in-progress tasks in the project, and median seconds per task."""
    conn = connect(settings, start=False, transport=transport)
    project_id = find_project(conn, settings)
    return Annotators(project_id, settings.project_title, tuple(annotator_activity(conn, project_id)))
