"""The embedded Label Studio on a private PostgreSQL cluster: push, annotate, pull and gold as on SQLite, and
backup/restore on both databases (real Label Studio 1.23.2, real PostgreSQL from Debian's package)."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from annotator_load import login, make_annotators, submit_concurrently
from conftest import PROJECT_ROOT, link_project_files, require_tool
from sandbox import _link_venv, copy_template, open_folder, start_sandbox

from annotate import pipeline, procs
from annotate.config import Settings, load_settings
from annotate.errors import ServerError
from annotate.labelstudio import backup, postgres
from annotate.labelstudio import server as ls_server
from annotate.labelstudio.client import connect
from annotate.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[Settings]:
    """A Label Studio on a private cluster under an open /tmp root (from a migrated template); stopped by PID."""
    require_tool("postgresql", glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                 "apt-get install -y postgresql (make system-packages does)")
    outside = open_folder("annotate-pg-")
    settings, _ = start_sandbox(link_project_files(outside / "project"), PROJECT_ROOT, database="postgresql")
    try:
        yield settings
    finally:
        ls_server.stop_server(settings)
        shutil.rmtree(outside)


def _external(settings: Settings, **flags: object) -> Settings:
    """Settings that reach the embedded server at `settings` as an external one (as the live_server fixture does)."""
    info = ls_server.server_status(settings)
    assert info is not None
    creds = ls_server.load_credentials(settings)
    return load_settings({"label_studio_url": info.url, "label_studio_api_key": creds.token, **flags}, env={},
                         root=settings.root)


def _user(conn, email: str) -> int:
    for user in conn.sdk.users.list():
        if user.email == email:
            return int(user.id)
    return int(conn.sdk.users.create(username=email.split("@")[0], email=email, password="pw-annotate-1").id)


def _span(text: str, phrase: str, label: str, span_id: str) -> dict:
    start = text.index(phrase)
    return {"id": span_id, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}}


def _whole_path(settings: Settings, docs: list) -> list[dict]:
    """Push the pre-annotated seeds, two annotators correct one article, one another; pull; the gold rows."""
    project, pushed = pipeline.push(settings, docs)
    assert pushed.created == len(docs)
    conn = connect(settings)
    tasks = {t.data["doc_id"]: t for t in conn.sdk.tasks.list(project=project.id, fields="all")}
    first, second = tasks[docs[0].id], tasks[docs[1].id]
    text = first.data["text"]
    words = [w for w in dict.fromkeys(text.split()) if w.isalpha() and len(w) > 4][:3]
    corrected = [_span(text, w, label, f"s{i}") for i, (w, label) in
                 enumerate(zip(words, ("ACTOR", "OUTCOME", "LOCATION"), strict=True))]
    alice, bob = _user(conn, "alice@example.org"), _user(conn, "bob@example.org")
    for who in (alice, bob):
        conn.sdk.annotations.create(id=first.id, result=corrected, completed_by=who, lead_time=60.0,
                                    parent_prediction=first.predictions[0].id)
    conn.sdk.annotations.create(id=second.id, completed_by=bob, result=[_span(second.data["text"],
                                second.data["text"].split()[0], "ACTOR", "b1")])
    result = pipeline.pull(settings)
    assert result.stats.tasks == len(docs) and result.stats.annotations == 3 and not result.quarantine
    pipeline.write_gold(settings, result)
    gold = settings.root / "exports" / "gold" / "latest" / "gold.jsonl"
    return sorted(map(json.loads, gold.read_text(encoding="utf-8").splitlines()), key=lambda r: r["id"])


def _comparable(rows: list[dict]) -> list[dict]:
    """Gold rows without the one field that names a server's own object (its task id)."""
    return [{k: v for k, v in row.items() if k != "task_id"} for row in rows]


def test_gold_from_postgresql_equals_gold_from_sqlite(pg_server, live_server, seeds_dir, tmp_path):
    docs, _ = pipeline.preannotate_inputs(live_server.settings(root=link_project_files(tmp_path / "a")), [seeds_dir])
    on_sqlite = _whole_path(live_server.settings(root=tmp_path / "a", project_title="t-pg-compare"), docs)
    on_postgres = _whole_path(_external(pg_server, project_title="t-pg-compare"), docs)
    assert len(on_postgres) == 2 and all(row["spans"] for row in on_postgres)  # the two annotated articles
    assert _comparable(on_postgres) == _comparable(on_sqlite)
    assert not list((pg_server.state_dir / "label-studio-data").glob("*.sqlite3"))  # really not on SQLite


def test_ten_annotators_submit_concurrently_without_an_error(pg_server, seeds_dir):
    """Ten real accounts (invite sign-up, login, their own token), ten threads released at once, each taking tasks
    from the "Label All Tasks" stream and submitting: every request answers, every submission is stored, and no task
    gets more annotators than the project asks for (on PostgreSQL the stream's row lock, select_for_update with
    skip_locked, is real; on SQLite it is not, and a few tasks were measured going to one annotator too many)."""
    external = _external(pg_server, project_title="t-pg-ten")
    seeds, _ = pipeline.preannotate_inputs(pg_server, [seeds_dir])
    each = 3
    docs = [dataclasses.replace(doc, id=f"{doc.id}-{k}") for k in range(-(-10 * each // len(seeds))) for doc in seeds]
    project, _ = pipeline.push(external, docs[: 10 * each])
    conn = connect(external)
    annotators = make_annotators(conn, 10, "pg-ten-")
    result = submit_concurrently(external.label_studio_url or "", project.id, annotators, each)
    assert result.errors == []
    assert result.submitted == 10 * each
    stored = [t for t in conn.sdk.tasks.list(project=project.id, fields="all")]
    assert sum(len(t.annotations or []) for t in stored) == 10 * each
    assert max(result.tasks.values()) <= external.annotators_per_task == 2
    assert result.repeats == 0  # nobody was handed a task they had already submitted


def test_private_cluster_is_socket_only_and_owner_only(pg_server):
    paths = postgres.cluster_paths(pg_server)
    pid = postgres.cluster_pid(paths)
    assert pid is not None
    conf = (paths.data / "postmaster.pid").read_text(encoding="utf-8").splitlines()
    assert conf[4] == str(paths.socket_dir) and conf[5] == ""  # postmaster.pid: socket folder, no TCP address
    assert (paths.data / "postgresql.conf").read_text(encoding="utf-8").endswith("listen_addresses = ''\n")
    assert stat.S_IMODE(paths.password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.data.stat().st_mode) == 0o700
    password = paths.password_file.read_text(encoding="utf-8").strip()
    assert password not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    assert password not in (pg_server.state_dir / "label-studio.log").read_text(encoding="utf-8", errors="replace")


def _task_count(settings: Settings, title: str) -> int:
    conn = connect(settings)
    project = next(p for p in conn.sdk.projects.list() if p.title == title)
    return len(list(conn.sdk.tasks.list(project=project.id)))


def _round_trip(settings: Settings, docs: list, dest: Path) -> None:
    """Back up with two tasks, add a third, restore: two again, and the server starts on the restored data."""
    external = _external(settings, project_title="t-backup")
    pipeline.push(external, docs[:2])
    backup.backup_database(settings, dest)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    pipeline.push(external, docs[2:3])
    assert _task_count(external, "t-backup") == 3
    with pytest.raises(ServerError, match="stop it first"):
        backup.restore_database(settings, dest)
    ls_server.stop_server(settings)
    backup.restore_database(settings, dest)
    ls_server.start_server(settings)
    assert _task_count(external, "t-backup") == 2


def test_backup_restore_round_trip_on_postgresql(pg_server, seeds_dir, tmp_path):
    docs, _ = pipeline.preannotate_inputs(pg_server, [seeds_dir])
    _round_trip(pg_server, docs, tmp_path / "ls.pgdump")
    assert postgres.cluster_pid(postgres.cluster_paths(pg_server)) is not None


def test_backup_restore_round_trip_on_sqlite(start_label_studio, seeds_dir, tmp_path):
    settings, _ = start_label_studio(tmp_path / "sq")
    try:
        docs, _ = pipeline.preannotate_inputs(settings, [seeds_dir])
        _round_trip(settings, docs, tmp_path / "ls.sqlite3")
    finally:
        ls_server.stop_server(settings)
    assert os.path.exists(tmp_path / "ls.sqlite3")


def _cli(settings: Settings, *args: str):
    from click.testing import CliRunner

    from annotate.cli import main
    return CliRunner().invoke(main, ["--root", str(settings.root), "server", *args],
                              env={"ANNOTATE_DATABASE": "postgresql", "ANNOTATE_PORT": str(settings.port)})


def test_server_commands_manage_the_cluster_with_label_studio():
    require_tool("postgresql", glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                 "apt-get install -y postgresql (make system-packages does)")
    outside = open_folder("annotate-pg-cli-")
    try:
        settings = copy_template(link_project_files(outside / "project"), PROJECT_ROOT, "postgresql")
        paths = postgres.cluster_paths(settings)
        started = _cli(settings, "start")
        assert started.exit_code == 0, started.output
        pid = postgres.cluster_pid(paths)
        assert pid and f"Database: postgresql (private cluster in {paths.root}), PID {pid}" in started.output
        again = _cli(settings, "start")  # already running: .annotate/ must stay passable for the cluster's user
        assert again.exit_code == 0
        assert stat.S_IMODE(settings.state_dir.stat().st_mode) == (0o710 if os.geteuid() == 0 else 0o700)
        status = _cli(settings, "status")
        assert status.exit_code == 0 and f"PID {pid}" in status.output
        as_json = json.loads(_cli(settings, "status", "--json").stdout)["database"]
        assert as_json == {"kind": "postgresql", "where": str(postgres.cluster_target(paths)), "private_cluster": True,
                           "pid": pid}
        stopped = _cli(settings, "stop")
        assert stopped.exit_code == 0 and f"stopped PostgreSQL (PID {pid})" in stopped.output
        assert postgres.cluster_pid(paths) is None and procs.has_exited(pid, postgres.MARKERS)
        assert "not running" in _cli(settings, "status").output
    finally:
        ls_server.stop_server(settings)
        shutil.rmtree(outside)


def test_a_database_url_reaches_an_existing_postgresql(pg_server, tmp_path, monkeypatch):
    """database = a URL (password from ANNOTATE_DATABASE_PASSWORD): a second Label Studio on the cluster's database
    sees the first one's projects, and the password shows nowhere in its log."""
    target = postgres.cluster_target(postgres.cluster_paths(pg_server))
    first = _external(pg_server, project_title="t-url-db")
    pipeline.push(first, pipeline.preannotate_inputs(pg_server, [PROJECT_ROOT / "seeds"])[0][:1])
    monkeypatch.setenv("ANNOTATE_DATABASE_PASSWORD", target.password)
    root = link_project_files(tmp_path / "url")
    settings = copy_template(root, PROJECT_ROOT)  # its own SQLite template, unused: the URL wins
    # the admin (and token) the shared database holds are the first server's
    shutil.copy(ls_server.server_paths(pg_server).credentials, ls_server.server_paths(settings).credentials)
    settings = load_settings({"port": settings.port, "database":
                              f"postgresql://{target.user}@/{target.name}?host={target.host}"}, env={}, root=root)
    try:
        ls_server.start_server(settings)
        assert _task_count(_external(settings, project_title="t-url-db"), "t-url-db") == 1
    finally:
        ls_server.stop_server(settings)
    assert target.password not in (settings.state_dir / "label-studio.log").read_text(encoding="utf-8")


def _session_and_access_token(url: str, creds: ls_server.Credentials, session, personal_token: str) -> tuple[int, int]:
    """HTTP statuses of a request on a logged-in session and of a personal access token's exchange."""
    who = httpx.get(f"{url}/api/current-user/whoami", cookies=session.cookies, timeout=60)
    access = httpx.post(f"{url}/api/token/refresh/", json={"refresh": personal_token}, timeout=60)
    return who.status_code, access.status_code


def test_a_backup_moves_a_project_to_a_new_cluster(pg_server, tmp_path):
    """A team moves: backup on one root, restore into a brand-new cluster elsewhere (initdb on first use, no
    migrations yet), start: the project is there, the admin's login and token are the backed-up ones, and a session
    logged in before the move and a personal access token (JWT) still work. Both are signed with Label Studio's
    SECRET_KEY (its data folder's .env), which the backup carries: a new data folder would otherwise generate a new
    key, and both answer 401 (measured with a database-only restore of a SQLite server), while legacy tokens
    survive either way."""
    first = _external(pg_server, project_title="t-move")
    pipeline.push(first, pipeline.preannotate_inputs(pg_server, [PROJECT_ROOT / "seeds"])[0][:2])
    creds = ls_server.load_credentials(pg_server)
    url = first.label_studio_url or ""
    session = login(url, creds.email, creds.password)
    made = httpx.post(f"{url}/api/token/", headers={"Authorization": f"Token {creds.token}"}, timeout=60)
    assert made.status_code == 201, made.text
    personal = made.json()["token"]
    assert _session_and_access_token(url, creds, session, personal) == (200, 200)
    dump = tmp_path / "move.backup"
    backup.backup_database(pg_server, dump)
    outside = open_folder("annotate-pg-move-")
    settings = load_settings({"port": free_port(), "database": "postgresql"}, env={},
                             root=link_project_files(outside / "project"))
    try:
        assert not settings.state_dir.exists()  # restore is the first command in the new folder
        done = backup.restore_database(settings, dump)  # starts the new cluster for the restore and stops it again
        assert (done.secret_key, done.credentials) == (True, True)
        _link_venv(settings.state_dir, PROJECT_ROOT)
        assert postgres.cluster_pid(postgres.cluster_paths(settings)) is None
        assert ls_server.load_credentials(settings) == creds
        info = ls_server.start_server(settings)
        assert _task_count(_external(settings, project_title="t-move"), "t-move") == 2
        assert _session_and_access_token(info.url, creds, session, personal) == (200, 200)
    finally:
        session.close()
        ls_server.stop_server(settings)
        shutil.rmtree(outside)


def test_a_failed_start_stops_the_cluster_it_started(tmp_path, monkeypatch):
    require_tool("postgresql", glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                 "apt-get install -y postgresql (make system-packages does)")
    fake = tmp_path / "label-studio"
    fake.write_text("#!/bin/sh\necho 'no database for you'\nexit 3\n", encoding="utf-8")
    fake.chmod(0o700)
    monkeypatch.setattr(ls_server, "install_server", lambda settings: fake)
    outside = open_folder("annotate-pg-fail-")
    try:
        settings = copy_template(link_project_files(outside / "project"), PROJECT_ROOT, "postgresql")
        with pytest.raises(ServerError, match="Label Studio exited with code 3 while starting"):
            ls_server.start_server(settings)
        assert postgres.cluster_pid(postgres.cluster_paths(settings)) is None
    finally:
        ls_server.stop_server(settings)
        shutil.rmtree(outside)


def test_an_unreachable_database_url_fails_clearly_without_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATE_DATABASE_PASSWORD", "n0t-in-any-message")
    root = link_project_files(tmp_path / "down")
    base = copy_template(root, PROJECT_ROOT)
    settings = load_settings({"port": base.port, "database": f"postgresql://ls@127.0.0.1:{free_port()}/ls"}, env={},
                             root=root)
    try:
        with pytest.raises(ServerError, match="Label Studio exited with code") as info:
            ls_server.start_server(settings)
    finally:
        ls_server.stop_server(settings)
    assert "n0t-in-any-message" not in str(info.value)
    assert "n0t-in-any-message" not in (settings.state_dir / "label-studio.log").read_text(encoding="utf-8")


NON_ROOT_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from annotate.config import load_settings
from annotate.labelstudio import backup, postgres
settings = load_settings({"database": "postgresql"}, env={}, root=Path(sys.argv[2]))
postgres.start_cluster(settings)
backup.backup_database(settings, Path(sys.argv[2]) / "b.pgdump")
print(postgres.stop_cluster(settings))
"""


def test_as_a_normal_user_the_cluster_runs_as_that_user():
    """The branch every non-root user takes (no `postgres` user, no chown), run for real as `postgres` through
    runuser with Debian's python3 (the project's venv python lives under /root, closed to other users)."""
    require_tool("postgresql", glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                 "apt-get install -y postgresql (make system-packages does)")
    if os.geteuid() != 0:
        pytest.skip("not root: every other test in this file already runs the cluster as ourselves, a normal user")
    runuser = shutil.which("runuser")
    assert runuser, "runuser not found: install util-linux"
    outside = open_folder("annotate-pg-user-")
    try:
        root = outside / "project"
        root.mkdir()
        shutil.chown(root, "postgres", "postgres")
        done = subprocess.run([runuser, "-u", "postgres", "--", "/usr/bin/python3", "-c", NON_ROOT_RUN,
                               str(PROJECT_ROOT), str(root)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().isdigit()  # stopped by its postmaster PID
        data = root / ".annotate" / "postgres" / "data"
        assert data.stat().st_uid == pwd.getpwnam("postgres").pw_uid and (root / "b.pgdump").stat().st_size > 0
    finally:
        shutil.rmtree(outside)
