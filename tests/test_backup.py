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
    assert "The backup holds the database only" not in done.output and "came with it" not in done.output  # none here


def test_restore_into_a_new_folder_creates_its_state(tmp_path: Path):
    """A restore is the first command in a project folder that has no .annotate/ yet."""
    source = load_settings(env={}, root=tmp_path / "old")
    _db(ls_server.sqlite_file(source), ["kept"])
    backup.backup_database(source, tmp_path / "b")
    fresh = load_settings(env={}, root=tmp_path / "new")
    backup.restore_database(fresh, tmp_path / "b")
    assert _rows(ls_server.sqlite_file(fresh)) == ["kept"]
    assert stat.S_IMODE(fresh.state_dir.stat().st_mode) == 0o700


def _keys(settings) -> tuple[Path, Path]:
    paths = ls_server.server_paths(settings)
    return paths.data / ".env", paths.credentials


def test_backup_keeps_the_secret_key_and_credentials_and_restores_them_elsewhere(tmp_path: Path):
    """A move to a new folder brings Label Studio's SECRET_KEY (sessions, personal access tokens) and the admin login
    the restored database knows; every file written 0600."""
    import tarfile

    old = load_settings(env={}, root=tmp_path / "old")
    _db(ls_server.sqlite_file(old), ["kept"])
    env, creds = _keys(old)
    env.write_text("\nSECRET_KEY=old-key\n", encoding="utf-8")
    creds.write_text('{"email": "a@b.c", "password": "p", "token": "t"}\n', encoding="utf-8")
    dest = tmp_path / "team.backup"
    backup.backup_database(old, dest)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    with tarfile.open(dest) as tar:
        assert sorted(tar.getnames()) == sorted(["annotate-backup.json", "database.sqlite3", "label-studio.env",
                                                 "credentials.json"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch left beside it
    new = load_settings(env={}, root=tmp_path / "new")
    new_env, new_creds = _keys(new)
    new_env.parent.mkdir(parents=True)
    new_env.write_text("SECRET_KEY=a-new-servers-key\n", encoding="utf-8")
    done = backup.restore_database(new, dest)
    assert (done.secret_key, done.credentials, done.bare) == (True, True, False)
    assert _rows(ls_server.sqlite_file(new)) == ["kept"]
    assert new_env.read_text(encoding="utf-8") == "\nSECRET_KEY=old-key\n"
    assert new_creds.read_text(encoding="utf-8") == creds.read_text(encoding="utf-8")
    assert {stat.S_IMODE(p.stat().st_mode) for p in (new_env, new_creds, ls_server.sqlite_file(new))} == {0o600}
    assert not [p for p in new.state_dir.iterdir() if p.name.startswith(".annotate-backup-")]


def test_a_bare_database_file_from_an_earlier_version_still_restores(tmp_path: Path):
    settings = load_settings(env={}, root=tmp_path)
    live = ls_server.sqlite_file(settings)
    _db(live, ["old"])
    bare = tmp_path / "bare.sqlite3"
    _db(bare, ["from-before"])
    done = backup.restore_database(settings, bare)
    assert (done.secret_key, done.credentials, done.bare) == (False, False, True) and _rows(live) == ["from-before"]
    said = CliRunner().invoke(main, ["--root", str(tmp_path), "server", "restore", str(bare)], env={})
    assert said.exit_code == 0 and "The backup holds the database only" in said.output


def test_a_tar_that_is_not_our_backup_is_refused_and_its_other_names_never_written(tmp_path: Path):
    import io
    import tarfile

    settings = load_settings(env={}, root=tmp_path / "p")
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        for name, data in (("../escaped", b"x"), ("annotate-backup.json", b'{"database": "sqlite"}')):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(InputError, match="holds no sqlite database"):
        backup.restore_database(settings, evil)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "p" / "escaped").exists()
    (tmp_path / "junk.tar").write_bytes(evil.read_bytes()[:600])  # cut short
    with pytest.raises(InputError):
        backup.restore_database(settings, tmp_path / "junk.tar")
