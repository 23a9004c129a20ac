"""User ids -> emails for exports that carry ids only, through the Label Studio API when a server is reachable.

Label Studio 1.23.2's UI JSON export (the Export button; `GET /api/projects/{id}/export?exportType=JSON`) gives
`completed_by` and `updated_by` as integer user ids. Emails come only from the API (`/api/users`) or from an
export snapshot made with `annotations__completed_by: {"only_id": false}`; a pull inlines them itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import LabelStudioError
from . import server as ls_server

if TYPE_CHECKING:
    from .client import Connection

log = logging.getLogger(__name__)


def user_emails(conn: Connection) -> dict[int, str]:
    """Every user's email by id (the organisation's members)."""
    return {int(u.id): str(u.email) for u in conn.call("list users", conn.sdk.users.list)}


def user_ids(rows: Iterable[dict[str, Any]]) -> set[int]:
    """The integer user ids the annotations of an export name (authors and last editors)."""
    found = set()
    for row in rows:
        for ann in row.get("annotations") or []:
            for key in ("completed_by", "updated_by"):
                value = ann.get(key) if isinstance(ann, dict) else None
                if isinstance(value, int) and not isinstance(value, bool):
                    found.add(value)
    return found


def resolve_users(settings: Settings, rows: list[dict[str, Any]]) -> dict[int, str] | None:
    """Emails by user id for an export holding ids, from the configured external server or the running embedded
    one (never started for this); None when nothing needs naming or no server answers (convert then warns)."""
    if not user_ids(rows):
        return None
    if not settings.external and ls_server.server_status(settings) is None:
        return None
    from .client import connect  # the SDK loads only when there is something to look up

    try:
        return user_emails(connect(settings, start=False))
    except LabelStudioError as exc:
        log.warning("cannot name the export's user ids: %s", exc)
        return None
