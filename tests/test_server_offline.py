"""The embedded server starts and serves pages without any outbound connection attempt (traced with strace)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest
from conftest import require_tool

from annotate.labelstudio import server as ls_server

pytestmark = pytest.mark.integration

CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?), sin6?_port=htons\((\d+)\), "
                     r"(?:sin_addr=inet_addr\(\"([^\"]+)\"\)|.*?inet_pton\(AF_INET6, \"([^\"]+)\")")


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address in ("::1", "::ffff:127.0.0.1") or address.startswith("::ffff:127.")


def test_start_and_use_make_no_outbound_connection(tmp_path, monkeypatch, start_label_studio):
    require_tool("strace", shutil.which("strace"), "apt-get install strace (make test does)")  # fails under CI
    trace = tmp_path / "connect.trace"
    real_popen = subprocess.Popen

    def traced(cmd, **kwargs):
        return real_popen(["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace), *cmd], **kwargs)

    monkeypatch.setattr(ls_server.subprocess, "Popen", traced)
    settings, info = start_label_studio(tmp_path)
    try:
        for page in ("/user/login/", "/health", "/api/version"):
            with urllib.request.urlopen(info.url + page, timeout=30) as resp:  # noqa: S310 (loopback)
                resp.read()
        time.sleep(2)  # let any background thread (version check, telemetry) try its luck
    finally:
        os.killpg(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and ls_server._alive(info.pid):
            time.sleep(0.2)
        ls_server.server_paths(settings).pidfile.unlink(missing_ok=True)
    calls = [m for m in CONNECT.finditer(trace.read_text())]
    assert calls, "strace recorded no connect() at all: the trace is not working"
    outbound = sorted({m.group(3) or m.group(4) for m in calls if not _loopback(m.group(3) or m.group(4))})
    assert outbound == [], f"Label Studio tried to connect to {outbound}"
