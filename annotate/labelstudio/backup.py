"""`annotate server backup|restore`: a consistent copy of the embedded Label Studio, enough to restore a working server.

SQLite goes through its online backup API (sqlite3.Connection.backup: a consistent copy even while the server
writes); PostgreSQL through pg_dump's custom format (one snapshot transaction) and pg_restore --clean.

A backup is one tar file (0600) holding the database copy, Label Studio's `.env` from its data folder and
.annotate/credentials.json. The `.env` holds the SECRET_KEY Label Studio generated on first start
(label_studio/core/utils/secret_key.py): it signs the personal access tokens (JWTs, simple-jwt's SIGNING_KEY) and
the login sessions. Restored without it, a new data folder gets a new key, and every personal access token and every
logged-in annotator's session stops working (measured on 1.23.2: both answer 401, "Token is invalid" for the
token); the legacy tokens, stored in the database, survive either way. credentials.json holds the admin login and token that the restored
database knows. Media uploads and export snapshots are not copied. A bare database file, as earlier versions wrote,
still restores (the database only).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import InputError, ServerError
from ..files import PRIVATE_FILE, make_private_dirs, write_private
from . import database, postgres, server

SQLITE_MAGIC = b"SQLite format 3\0"
PG_DUMP_MAGIC = b"PGDMP"
TAR_MAGIC_AT, TAR_MAGIC = 257, b"ustar"
FORMAT = 1
MANIFEST = "annotate-backup.json"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENV_MEMBER = "label-studio.env"  # the data folder's .env: Label Studio's SECRET_KEY
CREDENTIALS_MEMBER = "credentials.json"


@dataclass(frozen=True)
class Restored:
    """What a restore replaced: the database (as describe_database says it) and whether the keys came with it
    (`bare`: a database file from an earlier version, which holds neither)."""

    database: str
    secret_key: bool
    credentials: bool
    bare: bool = False


def _me() -> pwd.struct_passwd:
    return pwd.getpwuid(os.geteuid())


def _kind(settings: Settings) -> str:
    return "sqlite" if database.database_kind(settings) == "sqlite" else "postgresql"


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


@contextlib.contextmanager
def _private_scratch(parent: Path) -> Iterator[Path]:
    """An owner-only (0700) scratch folder in `parent`, removed afterwards."""
    make_private_dirs(parent)
    folder = Path(tempfile.mkdtemp(prefix=".annotate-backup-", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy_database(settings: Settings, dest: Path) -> None:
    """A consistent copy of the live database into the new 0600 file `dest`."""
    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
    if _kind(settings) == "sqlite":
        source = server.sqlite_file(settings)
        if not source.exists():
            raise ServerError(f"no SQLite database at {source} yet: start the server once (annotate server start)")
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(dest)) as out:
            src.backup(out)
        return
    with _postgres(settings) as target:
        postgres.run_program([str(postgres.pg_bin("pg_dump")), "--format=custom", f"--file={dest}"], _me(),
                             env=target.client_env())


def backup_database(settings: Settings, dest: Path) -> str:
    """Write the database copy, Label Studio's secret key and the admin credentials to the tar `dest` (0600)."""
    kind = _kind(settings)
    paths = server.server_paths(settings)
    with _private_scratch(dest.parent) as scratch:
        _copy_database(settings, scratch / DATABASE_MEMBER[kind])
        members = {DATABASE_MEMBER[kind]: scratch / DATABASE_MEMBER[kind]}
        for name, path in ((ENV_MEMBER, paths.data / ".env"), (CREDENTIALS_MEMBER, paths.credentials)):
            if path.exists():
                members[name] = path
        write_private(scratch / MANIFEST, json.dumps({"format": FORMAT, "database": kind,
                                                      "members": sorted(members)}, indent=2) + "\n")
        tmp = scratch / "backup.tar"
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
        with tarfile.open(tmp, "w") as tar:
            for name, path in {MANIFEST: scratch / MANIFEST, **members}.items():
                tar.add(path, arcname=name, recursive=False)
        os.replace(tmp, dest)
    return database.describe_database(settings, server.sqlite_file(settings))


def _kind_of(path: Path) -> str:
    """'archive' (this module's tar), or the bare database file earlier versions wrote: 'sqlite' or 'postgresql'."""
    try:
        with path.open("rb") as handle:
            head = handle.read(TAR_MAGIC_AT + len(TAR_MAGIC))
    except OSError as exc:
        raise InputError(f"cannot read the backup ({exc.strerror})", str(path)) from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    if head[TAR_MAGIC_AT:] == TAR_MAGIC:
        return "archive"
    raise InputError("not a backup made by annotate server backup (neither its tar, SQLite nor pg_dump's custom "
                     "format)", str(path))


def _unpack(source: Path, scratch: Path) -> tuple[str, dict[str, Path]]:
    """The archive's database kind and its known members, each written 0600 into `scratch` (no other name is read)."""
    try:
        with tarfile.open(source) as tar:
            handle = tar.extractfile(MANIFEST)  # KeyError when it is missing
            kind = json.load(handle)["database"] if handle else ""
            found = {}
            for name in (DATABASE_MEMBER.get(kind, ""), ENV_MEMBER, CREDENTIALS_MEMBER):
                member = tar.getmember(name) if name in tar.getnames() else None
                data = tar.extractfile(member) if member is not None and member.isfile() else None
                if data is None:
                    continue
                found[name] = scratch / name
                fd = os.open(found[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(data, out)
    except (tarfile.TarError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a complete backup made by annotate server backup ({exc})", str(source)) from exc
    if DATABASE_MEMBER.get(kind) not in found:
        raise InputError(f"the backup holds no {kind} database", str(source))
    return kind, found


def _restore_file(settings: Settings, kind: str, source: Path) -> None:
    if kind == "sqlite":
        dest = server.sqlite_file(settings)
        make_private_dirs(dest.parent)  # a restore may be the first command in a new project folder
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(dest)) as out:
            src.backup(out)
        os.chmod(dest, PRIVATE_FILE)
        return
    with _postgres(settings) as target:
        postgres.run_program([str(postgres.pg_bin("pg_restore")), "--clean", "--if-exists", "--no-owner",
                              "--no-privileges", "--single-transaction", f"--dbname={target.name}", str(source)],
                             _me(), env=target.client_env())


def _check_kind(settings: Settings, found: str, source: Path) -> None:
    kind = _kind(settings)
    if found != kind:
        raise InputError(f"is a {found} backup but the database setting is {kind}; restore it where database = "
                         f"{'sqlite' if found == 'sqlite' else 'postgresql (or a URL)'}", str(source))


def restore_database(settings: Settings, source: Path) -> Restored:
    """Replace the server's database (then its secret key and admin credentials) with the backup at `source`;
    refused while the server runs."""
    running = server.server_status(settings)
    if running:
        raise ServerError(f"Label Studio runs (PID {running.pid}): stop it first (annotate server stop), then restore")
    found = _kind_of(source)
    what = database.describe_database(settings, server.sqlite_file(settings))
    if found != "archive":
        _check_kind(settings, found, source)
        _restore_file(settings, found, source)
        return Restored(what, secret_key=False, credentials=False, bare=True)
    paths = server.server_paths(settings)
    with _private_scratch(settings.state_dir) as scratch:
        kind, members = _unpack(source, scratch)
        _check_kind(settings, kind, source)
        _restore_file(settings, kind, members[DATABASE_MEMBER[kind]])
        # Only after the database is in: the key and the login belong to it
        for name, dest in ((ENV_MEMBER, paths.data / ".env"), (CREDENTIALS_MEMBER, paths.credentials)):
            if name in members:
                write_private(dest, members[name].read_text(encoding="utf-8"))
    return Restored(what, secret_key=ENV_MEMBER in members, credentials=CREDENTIALS_MEMBER in members)
