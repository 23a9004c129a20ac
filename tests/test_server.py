"""The embedded server: binds to 127.0.0.1 only, busy port error, 0600 credentials, stop by PID."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate.cli import main
from annotate.labelstudio import server as ls_server

pytestmark = pytest.mark.integration


def _listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets `pid` listens on, read from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A = LISTEN
                found.add(cols[1].split(":")[0][-width:])
    return found


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory):
    from conftest import start_copy  # module-scoped fixtures cannot use the function-scoped factory

    root = tmp_path_factory.mktemp("embedded")
    settings, info = start_copy(root)
    yield settings, info
    ls_server.stop_server(settings)


def test_server_listens_on_loopback_only(embedded):
    _, info = embedded
    # 0100007F is 127.0.0.1 in /proc's little-endian hex; 00000000 would be 0.0.0.0
    assert _listening_addresses(info.pid) == {"0100007F"}


def test_credentials_file_is_owner_only(embedded):
    settings, _ = embedded
    mode = stat.S_IMODE(ls_server.server_paths(settings).credentials.stat().st_mode)
    assert mode == 0o600


def test_status_reports_url_pid_health_and_data(embedded):
    settings, info = embedded
    result = CliRunner().invoke(main, ["--root", str(settings.root), "server", "status"], env={"LABEL_STUDIO_URL": ""})
    assert result.exit_code == 0, result.output
    assert info.url in result.output and str(info.pid) in result.output
    assert "UP" in result.output and str(ls_server.server_paths(settings).data) in result.output


def test_busy_port_is_a_clear_error_naming_the_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["--root", str(tmp_path), "server", "start", "--port", str(port)],
                                    env={"LABEL_STUDIO_URL": ""})
    assert result.exit_code == 1
    assert f"port {port}" in result.output and "Traceback" not in result.output


def test_stop_stops_exactly_the_recorded_pid(tmp_path, start_label_studio):
    settings, info = start_label_studio(tmp_path)
    assert ls_server.stop_server(settings) == info.pid
    assert not Path(f"/proc/{info.pid}").exists() or not ls_server._alive(info.pid)
    assert ls_server.server_status(settings) is None
    assert ls_server.stop_server(settings) is None


def test_external_server_configured_refuses_embedded_commands(tmp_path):
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "server", "start"],
                                env={"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "x"})
    assert result.exit_code == 1 and "external Label Studio" in result.output


def test_stop_then_start_right_after_serving_a_request_reuses_the_port(tmp_path, start_label_studio):
    """Connections the server closed wait in TIME_WAIT on its port (~60 s); `server start` right after `stop` takes
    the same port all the same (Django's runserver binds with SO_REUSEADDR, and so does our probe)."""
    settings, info = start_label_studio(tmp_path)
    try:
        with socket.create_connection(("127.0.0.1", info.port), timeout=30) as browser:
            browser.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{info.port}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := browser.recv(65536):  # until the server closes its side first
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"UP" in answer
        assert ls_server.stop_server(settings) == info.pid
        rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
        assert any(int(c[1].split(":")[1], 16) == info.port and c[3] == "06" for c in rows), \
            "the served request must leave a TIME_WAIT on the server's port, or this proves nothing"
        result = CliRunner().invoke(main, ["--root", str(settings.root), "server", "start", "--port", str(info.port)],
                                    env={"LABEL_STUDIO_URL": ""})
        assert result.exit_code == 0, result.output
        assert f"http://127.0.0.1:{info.port}" in result.output
    finally:
        ls_server.stop_server(settings)
