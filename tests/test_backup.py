"""annotate server backup/restore on SQLite (unit: a real SQLite file, no server) and its refusals."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate.cli import main
from annotate.config import load_settings
from annotate.errors import InputError, ServerError
from annotate.labelstudio import backup
from annotate.labelstudio import server as ls_server


def _db(path: Path, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("create table if not exists t (v text)")
        conn.execute("delete from t")
        conn.executemany("insert into t values (?)", [(r,) for r in rows])


def _rows(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("select v from t order by v")]


def test_sqlite_backup_and_restore_round_trip(tmp_path: Path):
    settings = load_settings(env={}, root=tmp_path)
    live = ls_server.sqlite_file(settings)
    _db(live, ["a", "b"])
    dest = tmp_path / "out" / "backup.sqlite3"
    assert backup.backup_database(settings, dest) == f"sqlite {live}"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600  # it holds the users' tokens
    _db(live, ["changed"])
    backup.restore_database(settings, dest)
    assert _rows(live) == ["a", "b"]


def test_backup_without_a_database_says_start_first(tmp_path: Path):
    with pytest.raises(ServerError, match="no SQLite database at .* start the server once"):
        backup.backup_database(load_settings(env={}, root=tmp_path), tmp_path / "b")
    assert not (tmp_path / "b").exists() and not list(tmp_path.glob(".b*"))


def test_restore_refuses_while_the_server_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    settings = load_settings(env={}, root=tmp_path)
    _db(ls_server.sqlite_file(settings), ["a"])
    backup.backup_database(settings, tmp_path / "b")
    running = ls_server.ServerInfo("http://127.0.0.1:1", 4242, 1, tmp_path, True)
    monkeypatch.setattr(ls_server, "server_status", lambda s: running)
    with pytest.raises(ServerError, match=r"Label Studio runs \(PID 4242\): stop it first"):
        backup.restore_database(settings, tmp_path / "b")


def test_restore_refuses_another_kind_of_file(tmp_path: Path):
    settings = load_settings(env={}, root=tmp_path)
    junk = tmp_path / "junk"
    junk.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a backup made by annotate server backup"):
        backup.restore_database(settings, junk)
    dump = tmp_path / "dump"
    dump.write_bytes(backup.PG_DUMP_MAGIC + b"\0" * 20)
    with pytest.raises(InputError, match="is a postgresql backup but the database setting is sqlite"):
        backup.restore_database(settings, dump)


def test_cli_backup_restore(tmp_path: Path):
    settings = load_settings(env={}, root=tmp_path)
    _db(ls_server.sqlite_file(settings), ["x"])
    runner = CliRunner()
    done = runner.invoke(main, ["--root", str(tmp_path), "server", "backup", str(tmp_path / "b.sqlite3")], env={})
    assert done.exit_code == 0 and "backed up sqlite" in done.output
    done = runner.invoke(main, ["--root", str(tmp_path), "server", "restore", str(tmp_path / "b.sqlite3")], env={})
    assert done.exit_code == 0 and "restored" in done.output, done.output


def test_restore_into_a_new_folder_creates_its_state(tmp_path: Path):
    """A restore is the first command in a project folder that has no .annotate/ yet."""
    source = load_settings(env={}, root=tmp_path / "old")
    _db(ls_server.sqlite_file(source), ["kept"])
    backup.backup_database(source, tmp_path / "b")
    fresh = load_settings(env={}, root=tmp_path / "new")
    backup.restore_database(fresh, tmp_path / "b")
    assert _rows(ls_server.sqlite_file(fresh)) == ["kept"]
    assert stat.S_IMODE(fresh.state_dir.stat().st_mode) == 0o700
