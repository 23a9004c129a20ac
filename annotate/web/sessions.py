"""Live dashboard sessions, kept server-side so that logout, a password reset or removal from `leads` ends them.

The signed cookie carries a random session id; .annotate/dashboard-sessions.json (0600) maps the id's hash to
its user and expiry. Every change is a read-modify-write under an flock(2) lock, which serialises threads and
processes alike (`annotate serve --reset-password` runs beside the dashboard), and lands by atomic rename, so
the check on every request reads without a lock and never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import locks
from ..config import Settings
from ..files import write_private

log = logging.getLogger(__name__)
SESSIONS_FILE = "dashboard-sessions.json"
Sessions = dict[str, dict[str, Any]]  # sha256(session id) -> {"user", "expires"}


def sessions_path(settings: Settings) -> Path:
    return settings.state_dir / SESSIONS_FILE


def _digest(sid: str) -> str:
    # Only the hash is stored: the file alone does not give a usable session id.
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def _read(path: Path) -> Sessions:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sessions = data["sessions"]
        return {str(k): v for k, v in sessions.items() if isinstance(v, dict)}
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, AttributeError, TypeError):
        # Sessions are disposable: a damaged file logs everyone out and is rewritten on the next login.
        log.warning("%s is not a session file; treating it as empty", path)
        return {}


def _update(settings: Settings, change: Callable[[Sessions], None]) -> None:
    """Apply `change` to the live sessions (expired ones dropped) and write them back atomically."""
    path = sessions_path(settings)
    with locks.hold(path.with_name(f".{path.name}.lock"), "update dashboard sessions"):
        now = time.time()
        sessions = {k: v for k, v in _read(path).items() if float(v.get("expires", 0)) > now}
        change(sessions)
        write_private(path, json.dumps({"sessions": sessions}, indent=1, sort_keys=True) + "\n")


def create_session(settings: Settings, user: str, lifetime: float) -> str:
    """Record a new session for `user`, valid for `lifetime` seconds; return its id (for the signed cookie)."""
    sid = secrets.token_urlsafe(32)
    record = {"user": user, "expires": time.time() + lifetime}
    _update(settings, lambda sessions: sessions.__setitem__(_digest(sid), record))
    return sid


def session_user(settings: Settings, sid: str) -> str | None:
    """The user of a live session, or None when it was ended, has expired or never existed."""
    record = _read(sessions_path(settings)).get(_digest(sid))
    if not record or float(record.get("expires", 0)) <= time.time():
        return None
    return str(record.get("user"))


def end_session(settings: Settings, sid: str) -> None:
    """Forget one session (logout)."""
    def drop(sessions: Sessions) -> None:
        sessions.pop(_digest(sid), None)

    _update(settings, drop)


def end_user_sessions(settings: Settings, user: str) -> int:
    """Forget every session of `user` (password reset); return how many there were."""
    ended: list[str] = []

    def drop(sessions: Sessions) -> None:
        ended.extend(k for k, v in sessions.items() if v.get("user") == user)
        for key in ended:
            del sessions[key]

    _update(settings, drop)
    return len(ended)
