"""The project and pull locks: exclusive, waited for, and never stuck after the holder is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from annotate import locks

HOLD = """
import sys, time
from pathlib import Path
from annotate import locks
with locks.hold(Path(sys.argv[1]), "test holder"):
    print("held", flush=True)
    time.sleep(60)
"""


def _holder(path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_killed_holder_leaves_no_stuck_lock(tmp_path):
    path = locks.lock_path(tmp_path / ".annotate", "project", "http://x", "title")
    proc = _holder(path)
    with pytest.raises(locks.LockTimeout, match=rf"held by PID {proc.pid} \(test holder"), \
            locks.hold(path, "second", wait=0.5):
        pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert path.exists()  # the file stays; the kernel released the lock with the process
    with locks.hold(path, "after the crash", wait=1.0):
        pass


def test_a_second_holder_waits_for_the_first(tmp_path):
    path = locks.lock_path(tmp_path / ".annotate", "pull", "raw")
    order: list[str] = []
    with locks.hold(path, "first"):
        thread = threading.Thread(target=lambda: locks.hold(path, "second").__enter__() or order.append("second"))
        thread.start()
        time.sleep(0.5)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"]


def test_lock_folder_is_private(tmp_path):
    path = locks.lock_path(tmp_path / ".annotate", "project", "a", "b")
    with locks.hold(path, "x"):
        pass
    assert oct(os.stat(path.parent).st_mode & 0o777) == "0o700"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
