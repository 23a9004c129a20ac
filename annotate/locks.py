"""Advisory locks under .annotate/locks/ that a crashed holder cannot leave stuck (stdlib only).

flock(2) locks belong to the open file: the kernel releases them when the holder exits, however it exits
(kill -9 included), so a lock file left on disk never blocks anyone. The file records who holds it, for the
message a waiting command prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import AnnotateError
from .files import PRIVATE_FILE, make_private_dirs

log = logging.getLogger(__name__)
WAIT = 1800.0  # seconds a command waits for another one to finish before giving up
POLL = 0.2


class LockTimeout(AnnotateError):
    """Another command held the lock for longer than we were willing to wait."""


def lock_path(state_dir: Path, kind: str, *keys: str) -> Path:
    """The lock file for `kind` (e.g. "project") and the keys that identify what it guards."""
    digest = hashlib.sha256("\0".join(keys).encode("utf-8")).hexdigest()[:16]
    return state_dir / "locks" / f"{kind}-{digest}.lock"


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"PID {info.get('pid')} ({info.get('what')}, since {info.get('since')})"
    except ValueError:
        return "another process"


@contextlib.contextmanager
def hold(path: Path, what: str, wait: float = WAIT) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the block; wait up to `wait` seconds for the current holder."""
    make_private_dirs(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        _acquire(fd, path, what, wait)
        os.ftruncate(fd, 0)
        record = {"pid": os.getpid(), "what": what, "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, what: str, wait: float) -> None:
    deadline, told = time.monotonic() + wait, False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                raise LockTimeout(f"{what}: still held by {holder} after {wait:.0f} s; try again when it has "
                                  f"finished (lock file {path})") from None
            if not told:
                log.warning("%s: waiting for %s to finish", what, holder)
                told = True
            time.sleep(POLL)
