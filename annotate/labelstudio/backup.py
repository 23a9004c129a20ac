"""`annotate server backup|restore`: a consistent copy of the embedded Label Studio's database.

SQLite goes through its online backup API (sqlite3.Connection.backup: a consistent copy even while the server
writes); PostgreSQL through pg_dump's custom format (one snapshot transaction) and pg_restore --clean. The copy
holds the database only (projects, tasks, annotations, users and their tokens), not the data folder's media or export
snapshots, nor .annotate/credentials.json. Backups hold tokens: they are written 0600.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from ..config import Settings
from ..errors import InputError, ServerError
from ..files import PRIVATE_FILE, make_private_dirs
from . import database, postgres, server

SQLITE_MAGIC = b"SQLite format 3\0"
PG_DUMP_MAGIC = b"PGDMP"


def _me() -> pwd.struct_passwd:
    return pwd.getpwuid(os.geteuid())


@contextlib.contextmanager
def _postgres(settings: Settings) -> Iterator[database.PostgresTarget]:
    """The PostgreSQL target; the private cluster is started for the copy and stopped again if it was not running."""
    if database.database_kind(settings) == "url":
        yield database.parse_database_url(settings.database, database.read_password(settings))
        return
    was_running = postgres.cluster_pid(postgres.cluster_paths(settings)) is not None
    target = postgres.start_cluster(settings)
    try:
        yield target
    finally:
        if not was_running:
            postgres.stop_cluster(settings)


def _private_temp(dest: Path) -> Path:
    """A 0600 file beside `dest` to write into, renamed over it when complete."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
    os.chmod(tmp, PRIVATE_FILE)
    return tmp


def backup_database(settings: Settings, dest: Path) -> str:
    """Write a consistent copy of the server's database to `dest` (0600); return what was copied, for the CLI."""
    tmp = _private_temp(dest)
    try:
        if database.database_kind(settings) == "sqlite":
            source = server.sqlite_file(settings)
            if not source.exists():
                raise ServerError(f"no SQLite database at {source} yet: start the server once (annotate server start)")
            with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                    contextlib.closing(sqlite3.connect(tmp)) as out:
                src.backup(out)
        else:
            with _postgres(settings) as target:
                postgres.run_program([str(postgres.pg_bin("pg_dump")), "--format=custom", f"--file={tmp}"], _me(),
                                     env=target.client_env())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return database.describe_database(settings, server.sqlite_file(settings))


def _kind_of(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise InputError(f"cannot read the backup ({exc.strerror})", str(path)) from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise InputError("not a backup made by annotate server backup (neither SQLite nor pg_dump's custom format)",
                     str(path))


def restore_database(settings: Settings, source: Path) -> str:
    """Replace the server's database with the backup at `source`; refused while the server runs."""
    running = server.server_status(settings)
    if running:
        raise ServerError(f"Label Studio runs (PID {running.pid}): stop it first (annotate server stop), then restore")
    kind = "sqlite" if database.database_kind(settings) == "sqlite" else "postgresql"
    found = _kind_of(source)
    if found != kind:
        raise InputError(f"is a {found} backup but the database setting is {kind}; restore it where database = "
                         f"{'sqlite' if found == 'sqlite' else 'postgresql (or a URL)'}", str(source))
    if kind == "sqlite":
        dest = server.sqlite_file(settings)
        make_private_dirs(dest.parent)  # a restore may be the first command in a new project folder
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(dest)) as out:
            src.backup(out)
        os.chmod(dest, PRIVATE_FILE)
    else:
        with _postgres(settings) as target:
            postgres.run_program([str(postgres.pg_bin("pg_restore")), "--clean", "--if-exists", "--no-owner",
                                  "--no-privileges", "--single-transaction", f"--dbname={target.name}", str(source)],
                                 _me(), env=target.client_env())
    return database.describe_database(settings, server.sqlite_file(settings))
