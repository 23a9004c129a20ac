"""The embedded Label Studio: its own virtualenv, data folder, credentials, and one process we own by PID."""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import procs
from ..config import Settings
from ..errors import ServerError
from ..files import make_private_dir, make_tree_private, write_private
from ..procs import HOST, port_is_free
from . import database, postgres

log = logging.getLogger(__name__)

LABEL_STUDIO_VERSION = "1.23.2"
REQUIREMENTS = Path(__file__).with_name("server-requirements.txt")
MARKERS = (b"label-studio", b"label_studio")  # how a PID is recognised as our server
ADMIN_EMAIL = "admin@annotate.local"
START_TIMEOUT = 240.0  # first start migrates an empty database: ~35 s measured, slower under load
# Label Studio's database holds the admin's token in plain text, and it creates it (and media/, export/) with the
# umask's modes: 0644 files in 0755 folders under the usual 022. Its own .env it writes 0600 itself.
# Django's FileSystemStorage chmods the files it saves (export snapshots, uploads) to FILE_UPLOAD_PERMISSIONS,
# 0o644, whatever the umask: those stay unreachable inside 0700 folders and are made 0600 at the next start.
SERVER_UMASK = 0o077

# Offline and local-only: no version check, no analytics, no Sentry, sign-up by invite link only.
# SSRF protection and the local-IP block are off so that webhooks and the ML backend can reach our
# own services on 127.0.0.1; the server itself only listens on 127.0.0.1.
SERVER_ENV = {
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
    "LABEL_STUDIO_SSRF_PROTECTION_ENABLED": "false",
    "LABEL_STUDIO_ML_BLOCK_LOCAL_IP": "false",
}
# Only these are passed through from our environment; a bare USERNAME, PORT or HOST would leak into
# Label Studio's settings otherwise.
PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "PIP_FIND_LINKS", "PIP_INDEX_URL")


@dataclass(frozen=True)
class ServerPaths:
    """Where the embedded server keeps its things, all under the git-ignored state folder."""

    state: Path

    @property
    def venv(self) -> Path:
        return self.state / "label-studio-venv"

    @property
    def executable(self) -> Path:
        return self.venv / "bin" / "label-studio"

    @property
    def data(self) -> Path:
        return self.state / "label-studio-data"

    @property
    def credentials(self) -> Path:
        return self.state / "credentials.json"

    @property
    def pidfile(self) -> Path:
        return self.state / "server.json"

    @property
    def log(self) -> Path:
        return self.state / "label-studio.log"


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    token: str


@dataclass(frozen=True)
class ServerInfo:
    url: str
    pid: int
    port: int
    data_dir: Path
    healthy: bool


def server_paths(settings: Settings) -> ServerPaths:
    return ServerPaths(settings.state_dir)


def sqlite_file(settings: Settings) -> Path:
    """Label Studio's SQLite database in its data folder (its DATABASE_NAME default)."""
    return server_paths(settings).data / "label_studio.sqlite3"


def database_task_ids(settings: Settings, project_id: int) -> frozenset[int] | None:
    """The ids of a project's tasks, read from the embedded server's own database: SQLite read-only in process, or
    PostgreSQL through `psql` (one indexed query: milliseconds at 20,000 tasks, plus psql's start). Listing them
    through the API costs 0.6-1.8 ms a task, because Label Studio's task list loads every listed task's
    annotations and predictions whatever fields are asked for (measured on 1.23.2). None when that database is
    not ours to read (an external server) or cannot be read as Label Studio makes it; the caller then asks the
    API."""
    if settings.external:
        return None
    query = f"SELECT id FROM task WHERE project_id = {int(project_id)}"
    kind = database.database_kind(settings)
    try:
        if kind == "sqlite":
            path = sqlite_file(settings)
            if not path.exists():
                return None
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                return frozenset(int(i) for (i,) in db.execute(query))
            finally:
                db.close()
        target = postgres.cluster_target(postgres.cluster_paths(settings)) if kind == "cluster" else \
            database.parse_database_url(settings.database, database.read_password(settings))
        out = postgres.run_program([str(postgres.pg_bin("psql")), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                    "-c", query], pwd.getpwuid(os.geteuid()), env=target.client_env())
        return frozenset(int(line) for line in out.split())
    except (sqlite3.Error, ServerError, OSError, ValueError) as exc:
        log.warning("could not read the task ids from the server's database (%s): listing them through the API",
                    str(exc)[:300])
        return None


def database_target(settings: Settings) -> database.PostgresTarget | None:
    """Where the embedded server's PostgreSQL is (the private cluster is started first), or None for SQLite."""
    kind = database.database_kind(settings)
    if kind == "sqlite":
        return None
    if kind == "cluster":
        return postgres.start_cluster(settings)
    return database.parse_database_url(settings.database, database.read_password(settings))


def database_status(settings: Settings) -> dict[str, Any]:
    """The database for `server status --json`: kind ("sqlite" or "postgresql"), where (the SQLite file, or the
    PostgreSQL server as a URL that never carries a password), private_cluster, and the cluster's PID (else None)."""
    kind = database.database_kind(settings)
    if kind == "sqlite":
        return {"kind": "sqlite", "where": str(sqlite_file(settings)), "private_cluster": False, "pid": None}
    if kind == "cluster":
        paths = postgres.cluster_paths(settings)
        where = database.PostgresTarget(str(paths.socket_dir), postgres.PORT, postgres.USER, postgres.DATABASE)
        return {"kind": "postgresql", "where": str(where), "private_cluster": True, "pid": postgres.cluster_pid(paths)}
    return {"kind": "postgresql", "where": str(database.parse_database_url(settings.database)),
            "private_cluster": False, "pid": None}


def install_server(settings: Settings) -> Path:
    """Create the server's virtualenv with the pinned label-studio, unless it is already there."""
    paths = server_paths(settings)
    make_private_dir(paths.state)
    if _installed_version(paths) == LABEL_STUDIO_VERSION:
        return paths.executable
    log.warning("installing label-studio %s into %s (a minute or two, once)", LABEL_STUDIO_VERSION, paths.venv)
    steps = [
        [sys.executable, "-m", "venv", str(paths.venv)],
        [str(paths.venv / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise ServerError(f"installing label-studio failed ({' '.join(cmd[:3])}...): {done.stderr.strip()[-500:]}")
    if _installed_version(paths) != LABEL_STUDIO_VERSION:
        raise ServerError(f"{paths.venv} does not hold label-studio {LABEL_STUDIO_VERSION} after installing")
    return paths.executable


def _installed_version(paths: ServerPaths) -> str | None:
    metadata = list((paths.venv / "lib").glob("python*/site-packages/label_studio-*.dist-info/METADATA"))
    if not paths.executable.exists() or not metadata:
        return None
    for line in metadata[0].read_text(encoding="utf-8").splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return None


def load_credentials(settings: Settings, create: bool = False) -> Credentials:
    """The admin's generated credentials (file mode 0600); generated on first use when `create`."""
    path = server_paths(settings).credentials
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(data["email"], data["password"], data["token"])
    if not create:
        raise ServerError(f"no credentials at {path}: start the embedded server first (annotate server start)")
    creds = Credentials(ADMIN_EMAIL, secrets.token_urlsafe(18), secrets.token_hex(20))
    write_private(path, json.dumps(creds.__dict__, indent=2) + "\n")
    return creds


def server_environment(paths: ServerPaths, creds: Credentials,
                       target: database.PostgresTarget | None = None) -> dict[str, str]:
    """The server's whole environment, built explicitly (see PASSTHROUGH for why); PostgreSQL's variables when
    `target` is given, none otherwise (Label Studio then uses SQLite in its data folder)."""
    env = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ}
    ignored = sorted(k for k in os.environ  # Label Studio reads each name bare, LABEL_STUDIO_- or HEARTEX_-prefixed
                     if k.removeprefix("LABEL_STUDIO_").removeprefix("HEARTEX_") in database.LABEL_STUDIO_DB_VARIABLES)
    if ignored:
        log.warning("%s in the environment not passed to the embedded Label Studio; choose its database with the "
                    "database setting (ANNOTATE_DATABASE) instead", ", ".join(ignored))
    env.update(SERVER_ENV)
    if target is not None:
        env.update(target.label_studio_env())
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(paths.data),
            "LABEL_STUDIO_USERNAME": creds.email,
            "LABEL_STUDIO_PASSWORD": creds.password,
            "LABEL_STUDIO_USER_TOKEN": creds.token,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def check_health(url: str, timeout: float = 2.0) -> bool:
    """True when Label Studio at `url` answers /health with status UP."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as resp:  # noqa: S310 (local URL)
            return resp.status == 200 and json.loads(resp.read()).get("status") == "UP"
    except (OSError, ValueError, urllib.error.URLError):
        return False


def read_server_record(settings: Settings) -> dict[str, Any] | None:
    return procs.read_record(server_paths(settings).pidfile)


def _alive(pid: int) -> bool:
    """True when `pid` runs and is a Label Studio process (a reused PID is not ours)."""
    return procs.is_alive(pid, MARKERS)


def server_status(settings: Settings) -> ServerInfo | None:
    """The embedded server's URL, PID, health and data folder, or None when it is not running."""
    record = read_server_record(settings)
    if not record or not _alive(record["pid"]):
        return None
    url = record["url"]
    return ServerInfo(url, record["pid"], record["port"], server_paths(settings).data, check_health(url))


def start_server(settings: Settings, port: int | None = None) -> ServerInfo:
    """Start the embedded server on 127.0.0.1 (or return the running one); wait until it is healthy."""
    secure_state(server_paths(settings))
    if database.database_kind(settings) == "cluster":  # give the cluster's user its way through .annotate/ back
        postgres.prepare_folders(postgres.cluster_paths(settings), postgres.run_user())
    running = server_status(settings)
    if running and running.healthy:
        return running
    if running:
        raise ServerError(f"Label Studio (PID {running.pid}) runs but {running.url}/health does not answer UP; "
                          f"see {server_paths(settings).log} or run `annotate server stop`")
    port = port or settings.port
    if not port_is_free(port):
        raise ServerError(f"port {port} on {HOST} is already in use; choose another with ANNOTATE_PORT or --port")
    executable = install_server(settings)
    paths = server_paths(settings)
    make_private_dir(paths.data)
    creds = load_credentials(settings, create=True)
    env = server_environment(paths, creds, database_target(settings))
    cmd = [str(executable), "start", "--no-browser", "--internal-host", HOST, "--port", str(port)]
    proc = procs.spawn(cmd, paths.log, env, umask=SERVER_UMASK)
    url = f"http://{HOST}:{port}"
    procs.write_record(paths.pidfile, {"pid": proc.pid, "port": port, "url": url})
    try:
        procs.wait_ready(proc, lambda: check_health(url), what="Label Studio", endpoint=f"{url}/health",
                         log=paths.log, timeout=START_TIMEOUT, interval=0.5, markers=MARKERS)
    except ServerError:
        postgres.stop_cluster(settings)  # a failed start leaves no PostgreSQL of ours behind
        raise
    return ServerInfo(url, proc.pid, port, paths.data, True)


def secure_state(paths: ServerPaths) -> None:
    """Make the state folder owner-only (0700, files 0600), also one an older version left open; the venv holds no
    secrets and is left as it is (its programs must stay executable)."""
    make_private_dir(paths.state)
    make_tree_private(paths.state, skip=(paths.venv.name, "postgres"))  # PostgreSQL keeps its own modes (0700)


def stop_server(settings: Settings) -> int | None:
    """Stop exactly the PID we started, then the private PostgreSQL (by its postmaster.pid); return Label Studio's
    PID, or None when it was not running."""
    pid = procs.stop_recorded(server_paths(settings).pidfile, MARKERS)
    postgres.stop_cluster(settings)
    return pid
