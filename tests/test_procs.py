"""Background-process helpers shared by the embedded Label Studio and the background dashboard."""

from __future__ import annotations

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
