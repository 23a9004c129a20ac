"""A private PostgreSQL cluster under .annotate/postgres/ for the embedded Label Studio (`database = "postgresql"`).

Debian's `postgresql` package provides initdb, pg_ctl and pg_dump under /usr/lib/postgresql/<major>/bin. The cluster
listens on a Unix socket in .annotate/postgres/run/ only (listen_addresses is empty: no TCP port at all) and accepts
only its one user with a generated password (scram-sha-256; the password file is 0600).

initdb and postgres refuse to run as root (measured: "cannot be run as root"), and CI and sessions run as root.
As root the cluster runs as the `postgres` user that the package creates: it owns .annotate/postgres/ (0700), and
.annotate/ is made 0710 with group `postgres` so that it may pass through (not list) it; every other file there stays
root's, 0600. The folders above the project must let it pass too (a root under /root or a 0700 pytest folder does
not); that is checked and reported. As any other user the cluster runs as that user.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import procs
from ..config import Settings
from ..errors import ServerError
from ..files import make_private_dir, write_private
from .database import PostgresTarget

USER = "annotate"
DATABASE = "labelstudio"
PORT = 5432  # only names the socket file (.s.PGSQL.5432): the cluster has no TCP listener
ROOT_RUN_USER = "postgres"
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, with its NUL
MARKERS = (b"postgres",)  # how the postmaster's command line is recognised
INSTALL_HINT = "install Debian's postgresql package (apt-get install -y postgresql, or `make system-packages`)"


@dataclass(frozen=True)
class ClusterPaths:
    """The cluster's folders and files under .annotate/postgres/."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"


def cluster_paths(settings: Settings) -> ClusterPaths:
    return ClusterPaths(settings.state_dir / "postgres")


def pg_bin(program: str) -> Path:
    """A PostgreSQL program from the newest /usr/lib/postgresql/*/bin; ServerError saying how to install it."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise ServerError(f"{program} not found under /usr/lib/postgresql/*/bin: {INSTALL_HINT}")
    return Path(found[-1])


def run_user() -> pwd.struct_passwd:
    """Who runs the cluster: ourselves, or the package's `postgres` user when we are root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(ROOT_RUN_USER)
    except KeyError as exc:
        raise ServerError(f"running as root, and there is no {ROOT_RUN_USER!r} user to run PostgreSQL as "
                          f"(initdb refuses root): {INSTALL_HINT}") from exc


def run_program(cmd: Sequence[str], user: pwd.struct_passwd, env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL program as `user`; ServerError with its output when it fails."""
    drop = user.pw_uid != os.geteuid()
    full_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": user.pw_dir, **(env or {})}
    done = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, capture_output=True, text=True, env=full_env, cwd="/",
                          user=user.pw_uid if drop else None, group=user.pw_gid if drop else None,
                          extra_groups=[] if drop else None)
    if done.returncode != 0:
        raise ServerError(f"{Path(cmd[0]).name} failed (exit {done.returncode}): "
                          f"{(done.stderr or done.stdout).strip()[-600:]}")
    return done.stdout


def _check_reachable(paths: ClusterPaths, user: pwd.struct_passwd) -> None:
    """Fail clearly when `user` cannot pass through a folder above the cluster (it could not open its data)."""
    if user.pw_uid == os.geteuid():
        return
    for folder in reversed(paths.root.parent.parents):  # from / down to the project root
        st = folder.stat()
        bit = 0o100 if st.st_uid == user.pw_uid else 0o010 if st.st_gid == user.pw_gid else 0o001
        if not st.st_mode & bit:
            raise ServerError(f"PostgreSQL runs as {user.pw_name!r} (initdb refuses root) and cannot pass through "
                              f"{folder} (mode {st.st_mode & 0o777:04o}); keep the project where that user may pass, "
                              "e.g. chmod o+x the folder, or run annotate as a normal user")


def prepare_folders(paths: ClusterPaths, user: pwd.struct_passwd) -> None:
    """Make the cluster's folders owned by `user` (0700) and, as root, .annotate/ passable by it (0710)."""
    state = make_private_dir(paths.root.parent)
    if user.pw_uid != os.geteuid():
        os.chown(state, -1, user.pw_gid)
        os.chmod(state, 0o710)
        _check_reachable(paths, user)
    for folder in (paths.root, paths.data, paths.socket_dir):
        make_private_dir(folder)
        if user.pw_uid != os.geteuid():
            os.chown(folder, user.pw_uid, user.pw_gid)
    if user.pw_uid != os.geteuid():  # a copied or moved data folder arrives as root's: give it back
        for dirpath, dirnames, filenames in os.walk(paths.data):
            for name in dirnames + filenames:
                os.lchown(os.path.join(dirpath, name), user.pw_uid, user.pw_gid)
        if paths.log.exists():
            os.chown(paths.log, user.pw_uid, user.pw_gid)
    if len(str(paths.socket_dir / f".s.PGSQL.{PORT}")) > SOCKET_PATH_MAX:
        raise ServerError(f"the PostgreSQL socket path under {paths.socket_dir} is longer than {SOCKET_PATH_MAX} "
                          "characters (a Unix socket limit); use a shorter project path")


def cluster_target(paths: ClusterPaths) -> PostgresTarget:
    """How Label Studio and pg_dump reach the private cluster: its socket folder, user and password."""
    password = paths.password_file.read_text(encoding="utf-8").strip() if paths.password_file.exists() else ""
    return PostgresTarget(str(paths.socket_dir), PORT, USER, DATABASE, password)


def initialised(paths: ClusterPaths) -> bool:
    return (paths.data / "PG_VERSION").exists()


def init_cluster(paths: ClusterPaths, user: pwd.struct_passwd) -> None:
    """initdb with a generated password for the one user (0600 file), never on a command line.

    initdb reads it from a file of its own user's: after the switch to `postgres`, /dev/stdin (a pipe root made)
    cannot be reopened (measured: Permission denied), so a 0600 copy is handed over and removed.
    """
    password = secrets.token_urlsafe(24)
    write_private(paths.password_file, password + "\n")
    handover = paths.root / ".initdb-password"
    write_private(handover, password + "\n")
    try:
        os.chown(handover, user.pw_uid, user.pw_gid)
        run_program([str(pg_bin("initdb")), "-D", str(paths.data), "-U", USER, f"--pwfile={handover}", "-A",
                     "scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"], user)
    finally:
        handover.unlink(missing_ok=True)
    # No TCP listener even when someone starts the cluster by hand without our -c options (the default is localhost)
    with (paths.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# annotate: Unix socket only\nlisten_addresses = ''\n")


def cluster_pid(paths: ClusterPaths) -> int | None:
    """The postmaster's PID from postmaster.pid when that process still runs and is a postgres; else None."""
    try:
        pid = int((paths.data / "postmaster.pid").read_text(encoding="utf-8").splitlines()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if any(marker in cmdline for marker in MARKERS) else None


def start_cluster(settings: Settings) -> PostgresTarget:
    """Initialise the private cluster on first use, start it (pg_ctl -w) unless it runs; return how to reach it."""
    paths = cluster_paths(settings)
    user = run_user()
    prepare_folders(paths, user)
    fresh = not initialised(paths)
    if fresh:
        init_cluster(paths, user)
    if cluster_pid(paths) is None:
        options = f"-c listen_addresses='' -c unix_socket_directories='{paths.socket_dir}' -p {PORT}"
        run_program([str(pg_bin("pg_ctl")), "-D", str(paths.data), "-l", str(paths.log), "-w", "-t", "60",
                     "-o", options, "start"], user)
    target = cluster_target(paths)
    if fresh:
        run_program([str(pg_bin("createdb")), DATABASE], user, env=target.client_env() | {"PGDATABASE": "postgres"})
    return target


def stop_cluster(settings: Settings, timeout: float = 30.0) -> int | None:
    """Stop the cluster by the postmaster's PID (SIGINT: PostgreSQL's fast shutdown); return it, or None."""
    paths = cluster_paths(settings)
    pid = cluster_pid(paths)
    if pid is None:
        return None
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The postmaster removes postmaster.pid just before it exits; wait for the exit too (a zombie counts: pg_ctl
        # detached it, so init reaps it, not us)
        if cluster_pid(paths) is None and procs.has_exited(pid, MARKERS):
            return pid
        time.sleep(0.05)
    raise ServerError(f"PostgreSQL (PID {pid}) did not stop within {timeout:.0f} s; see {paths.log}")

