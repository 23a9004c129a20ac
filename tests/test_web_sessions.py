"""The dashboard's server-side session record: private, expiring, and safe with several threads and processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from annotate.config import Settings
from annotate.web import sessions

ROOT = Path(__file__).resolve().parents[1]


def test_sessions_are_private_and_store_no_usable_id(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path)
    sid = sessions.create_session(settings, "lead@example.org", 60)
    path = sessions.sessions_path(settings)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert sid not in path.read_text(encoding="utf-8")
    assert sessions.session_user(settings, sid) == "lead@example.org"


def test_a_session_expires_with_its_lifetime(tmp_path: Path, monkeypatch) -> None:
    settings = Settings(root=tmp_path)
    clock = [1_000_000.0]
    monkeypatch.setattr(sessions.time, "time", lambda: clock[0])
    sid = sessions.create_session(settings, "lead@example.org", 60)
    clock[0] += 59
    assert sessions.session_user(settings, sid) == "lead@example.org"
    clock[0] += 1
    assert sessions.session_user(settings, sid) is None


def test_ending_a_users_sessions_leaves_the_others(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path)
    mine = [sessions.create_session(settings, "a@example.org", 60) for _ in range(2)]
    theirs = sessions.create_session(settings, "b@example.org", 60)
    assert sessions.end_user_sessions(settings, "a@example.org") == 2
    assert [sessions.session_user(settings, s) for s in mine] == [None, None]
    assert sessions.session_user(settings, theirs) == "b@example.org"


def test_a_damaged_file_means_no_sessions_not_a_crash(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path)
    sessions.sessions_path(settings).parent.mkdir(parents=True)
    sessions.sessions_path(settings).write_text("{not json", encoding="utf-8")
    assert sessions.session_user(settings, "anything") is None
    sid = sessions.create_session(settings, "lead@example.org", 60)
    assert sessions.session_user(settings, sid) == "lead@example.org"


CHILD = """
import sys
from pathlib import Path
from annotate.config import Settings
from annotate.web import sessions
settings = Settings(root=Path(sys.argv[1]))
print("\\n".join(sessions.create_session(settings, "proc@example.org", 600) for _ in range(15)))
"""


def test_no_session_is_lost_when_threads_and_processes_log_in_at_once(tmp_path: Path) -> None:
    """Each write is a read-modify-write of one file: without the lock, concurrent logins overwrite each other."""
    settings = Settings(root=tmp_path)
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    made: list[str] = []
    barrier = threading.Barrier(12)

    def log_in() -> None:
        barrier.wait()
        for _ in range(5):
            made.append(sessions.create_session(settings, "thread@example.org", 600))

    threads = [threading.Thread(target=log_in) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        made.extend(out.split())
    assert len(made) == 12 * 5 + 2 * 15
    assert all(sessions.session_user(settings, sid) for sid in made)
