"""The ML backend's login: a user and password made on first start, kept in .annotate/ml-backend.json (0600).

Label Studio 1.23.2 stores `basic_auth_user` / `basic_auth_pass` on its ML backend object and its ML client
(label_studio/ml/api_connector.py) sends them as HTTP basic auth on /health, /setup, /predict and the
START_TRAINING /webhook call. It sends them whenever both are set: its `auth_method` field is not read there.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import ConfigError
from ..files import PRIVATE_FILE, make_private_dir

CREDENTIALS_FILE = "ml-backend.json"
USER = "annotate"


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)

    def matches(self, user: str, password: str) -> bool:
        """Constant-time comparison of both fields (both are always compared, so timing tells nothing)."""
        user_ok = hmac.compare_digest(user.encode("utf-8"), self.user.encode("utf-8"))
        password_ok = hmac.compare_digest(password.encode("utf-8"), self.password.encode("utf-8"))
        return user_ok and password_ok

    def header(self) -> str:
        """The Authorization header value Label Studio sends (for a webhook's extra headers, and tests)."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


def credentials_path(settings: Settings) -> Path:
    return settings.state_dir / CREDENTIALS_FILE


def _load(path: Path) -> Credentials:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        user, password = data["user"], data["password"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not an ML backend credentials file ({exc}); delete it and start "
                          "`annotate ml-backend` again to make new ones (then update them in Label Studio)") from exc
    if not isinstance(user, str) or not isinstance(password, str) or not user or not password:
        raise ConfigError(f"{path}: user and password must be non-empty strings; delete the file to make new ones")
    return Credentials(user, password)


def ensure_credentials(settings: Settings) -> Credentials:
    """The backend's credentials, made on first use; two first starts at once agree on one password."""
    path = credentials_path(settings)
    if path.exists():
        return _load(path)
    if not path.parent.exists():
        make_private_dir(path.parent)
    made = Credentials(USER, secrets.token_urlsafe(24))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"user": made.user, "password": made.password}, handle)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)  # unlike a rename, fails when the file exists: the first writer wins, nobody overwrites
    except FileExistsError:
        return _load(path)
    finally:
        tmp.unlink(missing_ok=True)
    return made
