"""Which database the embedded Label Studio runs on, as the environment variables its settings read.

Established in Label Studio 1.23.2's source (label_studio/core/settings/base.py and label_studio.py): `label-studio
start` uses SQLite unless `DJANGO_DB` names another entry of DATABASES_ALL; `DJANGO_DB=default` is PostgreSQL, read
from `POSTGRE_NAME`, `POSTGRE_USER`, `POSTGRE_PASSWORD`, `POSTGRE_HOST` and `POSTGRE_PORT` (an int). Every name is
also read with a `LABEL_STUDIO_` or `HEARTEX_` prefix first, so the server's environment is built whole. Django 5.2
drives PostgreSQL through psycopg 3, which label-studio 1.23.2 itself requires as `psycopg[binary]`: psycopg2 is not
needed. A `POSTGRE_HOST` that starts with / is a Unix socket folder (libpq's rule).
"""

from __future__ import annotations

import os
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings, redact_url
from ..errors import ConfigError

PASSWORD_ENV = "ANNOTATE_DATABASE_PASSWORD"
PASSWORD_FILE = "database-password"  # under .annotate/, mode 0600
# What Label Studio reads for its database; never taken from our own environment (see server.PASSTHROUGH).
LABEL_STUDIO_DB_VARIABLES = ("DJANGO_DB", "POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST",
                             "POSTGRE_PORT", "DATABASE_NAME")


@dataclass(frozen=True)
class PostgresTarget:
    """One PostgreSQL database Label Studio connects to; the password stays out of repr and str."""

    host: str
    port: int
    user: str
    name: str
    password: str = field(default="", repr=False)

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.host.startswith("/") else self.host
        return f"postgresql://{self.user}@{host}:{self.port}/{self.name}"

    def label_studio_env(self) -> dict[str, str]:
        """Label Studio's variables for this database (DJANGO_DB=default selects PostgreSQL)."""
        return {"DJANGO_DB": "default", "POSTGRE_NAME": self.name, "POSTGRE_USER": self.user,
                "POSTGRE_PASSWORD": self.password, "POSTGRE_HOST": self.host, "POSTGRE_PORT": str(self.port)}

    def client_env(self) -> dict[str, str]:
        """libpq's variables for pg_dump/pg_restore/psql against this database (the password never on a command line)."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user, "PGDATABASE": self.name,
                "PGPASSWORD": self.password}


def parse_database_url(url: str, password: str = "") -> PostgresTarget:
    """A postgresql://user[:password]@host[:port]/db URL as a target; `password` is used when the URL has none."""
    shown = redact_url(url)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 5432
    except ValueError as exc:
        raise ConfigError(f"database URL {shown!r} is not valid ({exc}); expected postgresql://user@host:port/db") \
            from exc
    query = urllib.parse.parse_qs(parts.query)
    host = query.get("host", [parts.hostname or ""])[0]  # ?host=/run/postgresql: a socket folder, as libpq allows
    name = urllib.parse.unquote(parts.path.lstrip("/"))
    if not (host and parts.username and name):
        raise ConfigError(f"database URL {shown!r} needs a user, a host and a database name: "
                          "postgresql://user@host:port/db")
    secret = urllib.parse.unquote(parts.password) if parts.password else password
    return PostgresTarget(host, port, urllib.parse.unquote(parts.username), name, secret)


def read_password(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """The external database's password: ANNOTATE_DATABASE_PASSWORD, else .annotate/database-password (0600), else ''."""
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    path = settings.state_dir / PASSWORD_FILE
    if not path.exists():
        return ""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"{path} is mode {mode:04o}: others could read the database password; chmod 600 it")
    return path.read_text(encoding="utf-8").strip()


def database_kind(settings: Settings) -> str:
    """'sqlite', 'cluster' (the private PostgreSQL under .annotate/postgres/) or 'url' (a PostgreSQL we do not run)."""
    return {"sqlite": "sqlite", "postgresql": "cluster"}.get(settings.database, "url")


def describe_database(settings: Settings, sqlite_file: Path) -> str:
    """The database for messages: the SQLite file, or the PostgreSQL URL without its password."""
    kind = database_kind(settings)
    if kind == "sqlite":
        return f"sqlite {sqlite_file}"
    if kind == "cluster":
        return f"postgresql (private cluster in {settings.state_dir / 'postgres'})"
    return redact_url(settings.database)
