"""Background processes we start ourselves: spawn detached, record the PID, check it is still ours, stop by PID.

Used for the embedded Label Studio (labelstudio/server.py) and for the dashboard run in the background
(procs/dashboard.py). Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ServerError
from ..files import PRIVATE_FILE, make_private_dirs, write_private

HOST = "127.0.0.1"


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when a server could bind `host:port` now.

    Probed as the servers bind (Django's runserver and werkzeug set SO_REUSEADDR): connections of a stopped server
    still waiting in TIME_WAIT or FIN_WAIT (about 60 s) do not count, a socket listening there does (Linux refuses
    that bind even with SO_REUSEADDR). A host with a colon is IPv6, as werkzeug decides.
    """
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def spawn(cmd: Sequence[str], log: Path, env: Mapping[str, str] | None = None,
          umask: int = -1) -> subprocess.Popen[bytes]:
    """Start `cmd` in its own session (a Ctrl-C in the terminal does not reach it), output appended to `log` (0600).

    `umask` (when not -1) is the child's umask, so that the files it creates get the modes we want.
    """
    make_private_dirs(log.parent)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # a log left by an older version may be 0644
    with os.fdopen(fd, "ab") as handle:
        return subprocess.Popen(list(cmd), env=dict(env) if env is not None else None, stdout=handle,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                umask=umask)


def write_record(path: Path, record: dict[str, Any]) -> None:
    """The PID file: JSON with at least `pid`, readable by the owner only."""
    write_private(path, json.dumps(record) + "\n")


def read_record(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("pid"), int) else None


def is_alive(pid: int, markers: Sequence[bytes]) -> bool:
    """True when `pid` runs and its command line contains one of `markers` (a reused PID is not ours)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return any(marker in cmdline for marker in markers)


def has_exited(pid: int, markers: Sequence[bytes]) -> bool:
    """True once every thread of `pid` has exited (its sockets are closed then), or when `pid` is another program's.

    Two steps of an exit still hold the process's sockets, so a `start` right after `stop` would find the port busy:
    a leader already a zombie while its other threads run on (tens of ms measured for the threaded dashboard), and
    a process that shows an empty command line before it closes its files.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        states = [(task / "stat").read_text().rsplit(")", 1)[1].split()[0]
                  for task in Path(f"/proc/{pid}/task").iterdir()]
    except (OSError, IndexError):
        return True  # gone (or going while we read)
    if all(state in ("Z", "X") for state in states):
        return True
    return bool(cmdline) and not any(marker in cmdline for marker in markers)


def terminate(pid: int, markers: Sequence[bytes], timeout: float = 15.0) -> None:
    """SIGTERM `pid`, then SIGKILL if it has not gone within `timeout` seconds; return once it has exited."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if has_exited(pid, markers):
                return
            time.sleep(0.05)


def stop_recorded(pidfile: Path, markers: Sequence[bytes]) -> int | None:
    """Stop exactly the PID recorded in `pidfile` (if it is still ours); return it, or None if none was recorded."""
    record = read_record(pidfile)
    if not record:
        pidfile.unlink(missing_ok=True)
        return None
    pid = int(record["pid"])
    if is_alive(pid, markers):
        terminate(pid, markers)
        if isinstance(record.get("port"), int):
            wait_port_free(record["port"])
    pidfile.unlink(missing_ok=True)
    return pid


def wait_port_free(port: int, timeout: float = 2.0, host: str = HOST) -> bool:
    """Wait until `port` can be bound again; False if it is still busy after `timeout` seconds.

    The kernel may close a listening socket a few ms after its process has gone (up to ~40 ms measured for the
    dashboard), so `stop && start` waits here rather than failing on a busy port.
    """
    deadline = time.monotonic() + timeout
    while not port_is_free(port, host):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def wait_ready(proc: subprocess.Popen[bytes], ready: Callable[[], bool], *, what: str, endpoint: str, log: Path,
               timeout: float, interval: float, markers: Sequence[bytes]) -> None:
    """Poll `ready()` until it is true. ServerError (naming `what`) if the process exits first, with the log's last
    lines, or if `timeout` seconds pass without `endpoint` answering; then the process is terminated."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"{what} exited with code {proc.returncode} while starting; last log lines:\n"
                              + tail(log))
        if ready():
            return
        time.sleep(interval)
    terminate(proc.pid, markers)
    raise ServerError(f"{what} did not answer {endpoint} within {timeout:.0f} s; log: {log}")


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
