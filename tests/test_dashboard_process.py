"""The dashboard as a background process: what the main job leaves running, started and stopped by PID."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate import procs
from annotate.cli import main
from annotate.config import load_settings
from annotate.dashboard import MARKERS, dashboard_status, start_dashboard, stop_dashboard
from annotate.errors import ServerError

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
