"""The dashboard as a background process: what the main job leaves running, started and stopped by PID."""

from __future__ import annotations

import re
import socket
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate import procs
from annotate.cli import main
from annotate.config import load_settings
from annotate.errors import ServerError
from annotate.procs.dashboard import MARKERS, dashboard_status, start_dashboard, stop_dashboard

pytestmark = pytest.mark.integration


def _login_page(url: str) -> str:
    with urllib.request.urlopen(f"{url}/login", timeout=10) as resp:  # noqa: S310 (local URL)
        return resp.read().decode("utf-8")


def test_start_status_busy_port_and_stop_by_pid(project_root: Path):
    settings = load_settings({"dashboard_port": procs.free_port()}, env={}, root=project_root)
    info = start_dashboard(settings)
    try:
        assert info.url == f"http://127.0.0.1:{settings.dashboard_port}" and info.healthy
        assert "password" in _login_page(info.url).lower()
        assert start_dashboard(settings).pid == info.pid  # already running: the same process, no second one
        status = dashboard_status(settings)
        assert status is not None and status.healthy and status.pid == info.pid
        other = load_settings({"dashboard_port": settings.dashboard_port}, env={}, root=project_root / "other")
        with pytest.raises(ServerError, match=f"port {settings.dashboard_port} .* already in use"):
            start_dashboard(other)
    finally:
        assert stop_dashboard(settings) == info.pid
    assert not procs.is_alive(info.pid, MARKERS)
    assert dashboard_status(settings) is None and stop_dashboard(settings) is None


def test_main_job_ends_with_the_dashboard_reachable(live_server, project_root: Path):
    """`annotate demo` (against the session's server as an external one) prints a dashboard URL that answers."""
    port = procs.free_port()
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": "t-demo-dashboard", "ANNOTATE_DASHBOARD_PORT": str(port)}
    settings = load_settings(env=env, root=project_root)
    try:
        result = CliRunner().invoke(main, ["--root", str(project_root), "demo"], env=env)
        assert result.exit_code == 0, result.output
        assert "Created dashboard login lead with password" in result.output
        url = re.search(r"Dashboard:\s+(http://127\.0\.0\.1:\d+)/", result.output).group(1)
        assert url == f"http://127.0.0.1:{port}"
        assert "password" in _login_page(url).lower()
        assert live_server.token not in result.output
        again = CliRunner().invoke(main, ["--root", str(project_root), "demo"], env=env)
        assert again.exit_code == 0 and "0 task(s) created" in again.output and "Created dashboard login" not in again.output
    finally:
        stop_dashboard(settings)


def test_serve_on_a_busy_port_is_a_one_line_error(project_root: Path):
    settings = load_settings({"dashboard_port": procs.free_port()}, env={}, root=project_root)
    info = start_dashboard(settings)
    try:
        result = CliRunner().invoke(main, ["--root", str(project_root), "serve", "--port", str(info.port)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"port {info.port} on 127.0.0.1 is already in use by the background dashboard (PID {info.pid}" \
            in result.output
    finally:
        stop_dashboard(settings)



def _waiting_on(port: int) -> set[str]:
    """States of the connections whose local end is 127.0.0.1:`port` and that are closing (FIN_WAIT, TIME_WAIT)."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {c[3] for c in rows if int(c[1].split(":")[1], 16) == port and c[3] in ("04", "05", "06")}


def test_stop_then_start_right_after_serving_a_request_reuses_the_port(project_root: Path):
    """The dashboard closes each connection after its answer, so a served request leaves a TIME_WAIT on its own port
    (about 60 s): `annotate dashboard start` right after `stop` must still take that port."""
    port = procs.free_port()
    args = ["--root", str(project_root), "dashboard"]
    runner = CliRunner()
    started = runner.invoke(main, [*args, "start", "--port", str(port)])
    assert started.exit_code == 0, started.output
    try:
        with socket.create_connection((procs.HOST, port), timeout=10) as browser:
            browser.sendall(f"GET /login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            answer = b""
            while chunk := browser.recv(65536):  # until the server closes its side first (Connection: close)
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"password" in answer.lower()
        stopped = runner.invoke(main, [*args, "stop"])
        assert stopped.exit_code == 0 and "stopped" in stopped.output, stopped.output
        assert _waiting_on(port), "the served request must leave a connection waiting on the port, or this proves nothing"
        again = runner.invoke(main, [*args, "start", "--port", str(port)])
        assert again.exit_code == 0, again.output
        assert "password" in _login_page(f"http://127.0.0.1:{port}").lower()
    finally:
        runner.invoke(main, [*args, "stop"])
