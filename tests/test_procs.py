"""Background-process helpers shared by the embedded Label Studio and the background dashboard."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from annotate import procs
from annotate.errors import ServerError


def test_a_process_that_exits_while_starting_is_reported_with_its_log(tmp_path: Path):
    log = tmp_path / "child.log"
    proc = procs.spawn([sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"], log)
    with pytest.raises(ServerError, match=r"(?s)the thing exited with code 3 while starting; last log lines:\n"
                                          r".*boom: bad config"):
        procs.wait_ready(proc, lambda: False, what="the thing", endpoint="http://127.0.0.1:1/x", log=log,
                         timeout=30, interval=0.05, markers=(b"-c",))


def test_a_process_that_never_answers_is_terminated_after_the_timeout(tmp_path: Path):
    log = tmp_path / "child.log"
    proc = procs.spawn([sys.executable, "-c", "import time; time.sleep(60)"], log)
    with pytest.raises(ServerError, match=r"the thing did not answer http://127.0.0.1:1/x within 1 s; log: "):
        procs.wait_ready(proc, lambda: False, what="the thing", endpoint="http://127.0.0.1:1/x", log=log,
                         timeout=1, interval=0.05, markers=(b"time.sleep",))
    assert proc.wait(timeout=15) is not None and not procs.is_alive(proc.pid, (b"time.sleep",))


def test_stop_recorded_stops_only_a_pid_that_is_still_ours(tmp_path: Path):
    pidfile = tmp_path / "thing.json"
    proc = procs.spawn([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "child.log")
    deadline = time.monotonic() + 15  # until the child has exec'd, /proc shows the parent's command line
    while not procs.is_alive(proc.pid, (b"time.sleep",)) and time.monotonic() < deadline:
        time.sleep(0.01)
    procs.write_record(pidfile, {"pid": proc.pid})
    assert oct(pidfile.stat().st_mode & 0o777) == "0o600"
    assert procs.stop_recorded(pidfile, (b"not-this-process",)) == proc.pid  # not ours by its command line: left
    assert proc.poll() is None and not pidfile.exists()
    procs.write_record(pidfile, {"pid": proc.pid})
    assert procs.stop_recorded(pidfile, (b"time.sleep",)) == proc.pid
    assert proc.wait(timeout=15) is not None and procs.stop_recorded(pidfile, (b"time.sleep",)) is None


def _tcp_states(port: int) -> set[str]:
    """The states (/proc/net/tcp hex codes) of the IPv4 sockets whose local port is `port`."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return {cols[3] for cols in rows if int(cols[1].split(":")[1], 16) == port}


def _listener(host: str = procs.HOST, family: int = socket.AF_INET) -> socket.socket:
    """A listening socket bound as Django's runserver and werkzeug bind theirs (SO_REUSEADDR set)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen()
    return sock


def test_a_port_whose_old_connections_wait_in_time_wait_is_free_at_once():
    server = _listener()
    port = server.getsockname()[1]
    client = socket.create_connection((procs.HOST, port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first, so the TIME_WAIT is on (127.0.0.1, port)
    assert client.recv(1) == b""
    client.close()
    assert procs.port_is_free(port) is False  # still listening: busy
    server.close()
    deadline = time.monotonic() + 5
    while _tcp_states(port) != {"06"} and time.monotonic() < deadline:  # 06 = TIME_WAIT
        time.sleep(0.01)
    assert _tcp_states(port) == {"06"}, "the setup must leave exactly a TIME_WAIT on the port"
    assert procs.port_is_free(port) is True
    with socket.socket() as restarted:  # the server itself binds it now, as the probe said, and it is busy again
        restarted.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        restarted.bind((procs.HOST, port))
        restarted.listen()
        assert procs.port_is_free(port) is False


@pytest.mark.parametrize("host, family", [("0.0.0.0", socket.AF_INET), ("::", socket.AF_INET6)])
def test_a_port_something_listens_on_on_every_address_is_busy(host: str, family: int):
    with _listener(host, family) as server:
        assert procs.port_is_free(server.getsockname()[1]) is False


def test_a_process_whose_leader_exited_first_has_not_exited_while_a_thread_runs(tmp_path: Path):
    """A zombie leader with a live thread still holds the process's sockets: `stop` must wait for the thread."""
    code = ("import ctypes, threading, time\n"
            "threading.Thread(target=time.sleep, args=(1.5,)).start()\n"
            "ctypes.CDLL(None).pthread_exit(None)  # the main thread goes, the other runs on\n")
    proc = procs.spawn([sys.executable, "-c", code], tmp_path / "child.log")
    leader = Path(f"/proc/{proc.pid}/stat")
    deadline = time.monotonic() + 10
    while leader.read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert leader.read_text().rsplit(")", 1)[1].split()[0] == "Z" and len(list(Path(f"/proc/{proc.pid}/task").iterdir())) == 2
    assert procs.has_exited(proc.pid, (b"pthread_exit",)) is False
    proc.wait(timeout=15)  # reaped once the thread ends
    assert procs.has_exited(proc.pid, (b"pthread_exit",)) is True
