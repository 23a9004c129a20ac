"""The lead's dashboard as a background process (what the main job leaves running): start, status, stop by PID.

`annotate serve` runs the dashboard in the foreground; this module starts that same command detached, records
its PID under .annotate/, waits until the login page answers, and stops exactly that PID.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .. import procs
from ..config import Settings
from ..errors import ServerError
from ..files import make_private_dir, make_tree_private

MARKERS = (b"-m annotate --root",)  # how a PID is recognised as a dashboard we started
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class DashboardInfo:
    url: str
    pid: int
    port: int
    log: Path
    healthy: bool


def pidfile(settings: Settings) -> Path:
    return settings.state_dir / "dashboard.json"


def logfile(settings: Settings) -> Path:
    return settings.state_dir / "dashboard.log"


def answers(url: str, timeout: float = 2.0) -> bool:
    """True when the dashboard at `url` serves its login page."""
    try:
        with urllib.request.urlopen(f"{url}/login", timeout=timeout) as resp:  # noqa: S310 (local URL)
            return resp.status == 200
    except (OSError, ValueError, urllib.error.URLError):
        return False


def dashboard_status(settings: Settings) -> DashboardInfo | None:
    """The background dashboard's URL, PID and health, or None when it is not running."""
    record = procs.read_record(pidfile(settings))
    if not record or not procs.is_alive(record["pid"], MARKERS):
        return None
    url = str(record["url"])
    return DashboardInfo(url, int(record["pid"]), int(record["port"]), logfile(settings), answers(url))


def start_dashboard(settings: Settings, port: int | None = None) -> DashboardInfo:
    """Start `annotate serve` in the background on 127.0.0.1 (or return the running one); wait until it answers."""
    # Logins, the session key and our PID file live in .annotate/: owner-only, also if an older version left it open.
    make_tree_private(make_private_dir(settings.state_dir), recursive=False)
    running = dashboard_status(settings)
    if running and running.healthy:
        return running
    if running:
        raise ServerError(f"the dashboard (PID {running.pid}) runs but {running.url}/login does not answer; "
                          f"see {running.log} or run `annotate dashboard stop`")
    port = port or settings.dashboard_port
    if not procs.port_is_free(port):
        raise ServerError(f"port {port} on {procs.HOST} is already in use; choose another with "
                          "ANNOTATE_DASHBOARD_PORT or --port")
    cmd = [sys.executable, "-m", "annotate", "--root", str(settings.root), "serve", "--port", str(port)]
    env = dict(os.environ)
    if settings.external:  # flags given to this command must reach the child too (never on its command line)
        env.update({"LABEL_STUDIO_URL": str(settings.label_studio_url),
                    "LABEL_STUDIO_API_KEY": str(settings.label_studio_api_key)})
    proc = procs.spawn(cmd, logfile(settings), env)
    url = f"http://{procs.HOST}:{port}"
    procs.write_record(pidfile(settings), {"pid": proc.pid, "port": port, "url": url})
    try:
        procs.wait_ready(proc, lambda: answers(url), what="the dashboard", endpoint=f"{url}/login",
                         log=logfile(settings), timeout=START_TIMEOUT, interval=0.2, markers=MARKERS)
    except ServerError:
        pidfile(settings).unlink(missing_ok=True)  # it did not start: no record of a dashboard left behind
        raise
    return DashboardInfo(url, proc.pid, port, logfile(settings), True)


def stop_dashboard(settings: Settings) -> int | None:
    """Stop exactly the PID that start_dashboard recorded; return it, or None when none was recorded."""
    return procs.stop_recorded(pidfile(settings), MARKERS)
