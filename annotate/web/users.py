"""Dashboard logins and the session secret: hashed passwords and a key in .annotate/, both mode 0600."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from ..config import Settings
from ..errors import ConfigError, InputError
from ..files import write_private
from .sessions import end_user_sessions

USERS_FILE = "dashboard-users.json"
SECRET_FILE = "dashboard-secret"
DEFAULT_USER = "lead"  # the login when no leads are configured in annotate.toml


def users_path(settings: Settings) -> Path:
    return settings.state_dir / USERS_FILE


def allowed_users(settings: Settings) -> tuple[str, ...]:
    """Who may log in: the configured leads, or the single default login when none are configured."""
    return settings.leads or (DEFAULT_USER,)


def load_users(settings: Settings) -> dict[str, str]:
    """email -> password hash (a missing file means nobody has been created yet)."""
    path = users_path(settings)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data["users"].items()}
    except (ValueError, KeyError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a dashboard user file ({exc}); delete it and run `annotate serve` "
                          "to create new logins") from exc


def _save(settings: Settings, users: dict[str, str]) -> None:
    write_private(users_path(settings), json.dumps({"users": users}, indent=2, sort_keys=True) + "\n")


def ensure_users(settings: Settings) -> dict[str, str]:
    """Create a login for every allowed user who has none; return their new plain passwords (shown once)."""
    users = load_users(settings)
    created = {email: secrets.token_urlsafe(12) for email in allowed_users(settings) if email not in users}
    if created:
        users.update({email: generate_password_hash(pw) for email, pw in created.items()})
        _save(settings, users)
    return created


def reset_password(settings: Settings, email: str) -> str:
    """Give `email` a new random password (it must be an allowed user) and end its sessions; return it."""
    if email not in allowed_users(settings):
        raise InputError(f"{email!r} is not a lead; dashboard users: {', '.join(allowed_users(settings))} "
                         "(set `leads` in annotate.toml)")
    users = load_users(settings)
    password = secrets.token_urlsafe(12)
    users[email] = generate_password_hash(password)
    _save(settings, users)
    end_user_sessions(settings, email)  # whoever knew the old password is logged out, even mid-session
    return password


def check_login(settings: Settings, email: str, password: str) -> bool:
    """True when the email is an allowed user and the password matches its stored hash."""
    stored = load_users(settings).get(email)
    return stored is not None and email in allowed_users(settings) and check_password_hash(stored, password)


def secret_key(settings: Settings) -> str:
    """The session signing key: made once, kept in .annotate/dashboard-secret (0600)."""
    path = settings.state_dir / SECRET_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key
    key = secrets.token_hex(32)
    write_private(path, key + "\n")
    return key
