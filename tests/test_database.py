"""The database setting, Label Studio's database variables and the password's paths (unit tests, no server)."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from annotate.config import load_settings
from annotate.errors import ConfigError, ServerError
from annotate.labelstudio import database, postgres
from annotate.labelstudio import server as ls_server

SECRET = "s3cr3t-Pa55"
DB_VARIABLES = {"DJANGO_DB", "POSTGRE_NAME", "POSTGRE_USER", "POSTGRE_PASSWORD", "POSTGRE_HOST", "POSTGRE_PORT"}


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A folder under /tmp that every user may pass (pytest's own are 0700, closed to any other user)."""
    path = Path(tempfile.mkdtemp(prefix="annotate-db-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def test_database_defaults_to_sqlite_and_follows_the_usual_order(tmp_path: Path):
    assert load_settings(env={}, root=tmp_path).database == "sqlite"
    (tmp_path / "annotate.toml").write_text('database = "postgresql"\n', encoding="utf-8")
    assert load_settings(env={}, root=tmp_path).database == "postgresql"
    env = {"ANNOTATE_DATABASE": "postgresql://ls@db.example:5433/ls"}
    assert load_settings(env=env, root=tmp_path).database == env["ANNOTATE_DATABASE"]
    assert load_settings({"database": "sqlite"}, env=env, root=tmp_path).database == "sqlite"


def test_database_url_password_is_never_shown(tmp_path: Path):
    url = f"postgresql://ls:{SECRET}@db.example/ls"
    settings = load_settings(env={"ANNOTATE_DATABASE": url}, root=tmp_path)
    assert SECRET not in repr(settings)
    assert SECRET not in database.describe_database(settings, tmp_path)
    (tmp_path / "annotate.toml").write_text(f'database = "{url}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ls:\*\*\*@db.example.*holds a password") as info:
        load_settings(env={}, root=tmp_path)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("value", ["mysql", "", "mysql://u@h/db", "postgresq"])
def test_bad_database_values_are_named_with_what_is_valid(tmp_path: Path, value: str):
    (tmp_path / "annotate.toml").write_text(f'database = "{value}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="database must be sqlite, postgresql .* or a postgresql://"):
        load_settings(env={}, root=tmp_path)
    with pytest.raises(ConfigError, match=r"got 'mysql://u:\*\*\*@h/db'") as info:
        load_settings({"database": f"mysql://u:{SECRET}@h/db"}, env={}, root=tmp_path)
    assert SECRET not in str(info.value)


def test_parse_database_url():
    target = database.parse_database_url(f"postgresql://l%40s:{SECRET}@db.example:5433/label%20studio")
    assert (target.user, target.host, target.port, target.name, target.password) == \
        ("l@s", "db.example", 5433, "label studio", SECRET)
    assert SECRET not in repr(target) and SECRET not in str(target)
    socket = database.parse_database_url("postgres://ls@/ls?host=/run/postgresql", password="from-file")
    assert (socket.host, socket.port, socket.password) == ("/run/postgresql", 5432, "from-file")


@pytest.mark.parametrize("url", ["postgresql://db.example/ls", "postgresql://ls@db.example/", "postgresql://ls@/ls",
                                 f"postgresql://ls:{SECRET}@db.example:99999/ls"])
def test_incomplete_database_urls_are_errors(url: str):
    with pytest.raises(ConfigError, match="postgresql://user@host:port/db") as info:
        database.parse_database_url(url)
    assert SECRET not in str(info.value)


def test_password_from_env_or_a_private_file(tmp_path: Path):
    settings = load_settings(env={}, root=tmp_path)
    assert database.read_password(settings, env={}) == ""
    path = settings.state_dir / database.PASSWORD_FILE
    path.parent.mkdir()
    path.write_text(SECRET + "\n", encoding="utf-8")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="mode 0644: others could read the database password; chmod 600"):
        database.read_password(settings, env={})
    os.chmod(path, 0o600)
    assert database.read_password(settings, env={}) == SECRET
    assert database.read_password(settings, env={database.PASSWORD_ENV: "env-wins"}) == "env-wins"


def _server_env(tmp_path: Path, target: database.PostgresTarget | None) -> dict[str, str]:
    paths = ls_server.ServerPaths(tmp_path)
    return ls_server.server_environment(paths, ls_server.Credentials("a@b.c", "pw", "tok"), target)


def test_sqlite_server_gets_no_database_variables_and_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture):
    monkeypatch.setenv("DJANGO_DB", "default")
    monkeypatch.setenv("POSTGRE_PASSWORD", SECRET)
    monkeypatch.setenv("HEARTEX_POSTGRE_HOST", "db.example")
    with caplog.at_level(logging.WARNING):
        env = _server_env(tmp_path, None)
    assert not DB_VARIABLES & set(env) and "DATABASE_NAME" not in env and "HEARTEX_POSTGRE_HOST" not in env
    assert "DJANGO_DB, HEARTEX_POSTGRE_HOST, POSTGRE_PASSWORD in the environment not passed" in caplog.text
    assert SECRET not in caplog.text


def test_postgres_server_gets_exactly_label_studios_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture):
    monkeypatch.delenv("DJANGO_DB", raising=False)
    target = database.parse_database_url(f"postgresql://ls:{SECRET}@127.0.0.1:5433/lsdb")
    with caplog.at_level(logging.DEBUG):
        env = _server_env(tmp_path, target)
    assert {k: env[k] for k in DB_VARIABLES} == {
        "DJANGO_DB": "default", "POSTGRE_NAME": "lsdb", "POSTGRE_USER": "ls", "POSTGRE_PASSWORD": SECRET,
        "POSTGRE_HOST": "127.0.0.1", "POSTGRE_PORT": "5433"}
    assert SECRET not in caplog.text


def test_url_database_target_reads_the_password_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(database.PASSWORD_ENV, raising=False)
    settings = load_settings({"database": "postgresql://ls@127.0.0.1:5433/lsdb"}, env={}, root=tmp_path)
    assert ls_server.database_target(load_settings(env={}, root=tmp_path)) is None
    path = settings.state_dir / database.PASSWORD_FILE
    path.parent.mkdir(mode=0o700)
    path.write_text(SECRET, encoding="utf-8")
    os.chmod(path, 0o600)
    target = ls_server.database_target(settings)
    assert target is not None and (target.host, target.port, target.password) == ("127.0.0.1", 5433, SECRET)


def test_missing_postgresql_says_how_to_install(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with pytest.raises(ServerError, match=r"initdb not found under /usr/lib/postgresql/\*/bin: install Debian's"):
        postgres.pg_bin("initdb")


def test_cluster_under_a_closed_folder_is_refused_with_its_name(open_tmp: Path):
    closed = open_tmp / "closed"
    (closed / "project" / ".annotate").mkdir(parents=True)
    os.chmod(closed, 0o700)
    other = pwd.getpwnam("nobody")
    if other.pw_uid == os.geteuid():
        pytest.fail("this test needs to run as someone other than nobody")
    with pytest.raises(ServerError, match=f"cannot pass through {closed} \\(mode 0700\\)"):
        postgres._check_reachable(postgres.ClusterPaths(closed / "project" / ".annotate" / "postgres"), other)


def test_server_commands_refuse_an_external_server_without_its_password(tmp_path: Path):
    from click.testing import CliRunner

    from annotate.cli import main
    done = CliRunner().invoke(main, ["--root", str(tmp_path), "--url", f"http://lead:{SECRET}@127.0.0.1:1",
                                     "--api-key", "k", "server", "backup", str(tmp_path / "b")])
    assert done.exit_code == 1 and "http://lead:***@127.0.0.1:1" in done.output and SECRET not in done.output


def test_root_without_a_postgres_user_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(postgres.os, "geteuid", lambda: 0)

    def no_user(name: str) -> pwd.struct_passwd:
        raise KeyError(name)
    monkeypatch.setattr(postgres.pwd, "getpwnam", no_user)
    with pytest.raises(ServerError, match=r"no .postgres. user to run PostgreSQL as \(initdb refuses root\)"):
        postgres.run_user()


def _status_json(root: Path, env: dict[str, str]) -> dict:
    import json

    from click.testing import CliRunner

    from annotate.cli import main
    done = CliRunner().invoke(main, ["--root", str(root), "server", "status", "--json"],
                              env={"LABEL_STUDIO_URL": None, "LABEL_STUDIO_API_KEY": None, **env})
    assert done.exit_code == 1  # nothing runs here
    assert SECRET not in done.output
    return json.loads(done.stdout)["database"]


@pytest.mark.parametrize(("value", "expected"), [
    ("sqlite", {"kind": "sqlite", "private_cluster": False, "pid": None}),
    ("postgresql", {"kind": "postgresql", "private_cluster": True, "pid": None}),
    (f"postgresql://ls:{SECRET}@db.example:5433/lsdb",
     {"kind": "postgresql", "where": "postgresql://ls@db.example:5433/lsdb", "private_cluster": False, "pid": None}),
    ("postgresql://ls@/lsdb?host=/run/postgresql",
     {"kind": "postgresql", "where": "postgresql://ls@[/run/postgresql]:5432/lsdb", "private_cluster": False,
      "pid": None}),
])
def test_server_status_json_names_the_database_never_its_password(tmp_path: Path, value: str, expected: dict):
    found = _status_json(tmp_path, {"ANNOTATE_DATABASE": value, "ANNOTATE_DATABASE_PASSWORD": SECRET})
    where = found.pop("where")
    assert found == {k: v for k, v in expected.items() if k != "where"}
    assert where == expected.get("where", where)
    if value == "sqlite":
        assert where == str(tmp_path / ".annotate" / "label-studio-data" / "label_studio.sqlite3")
    if value == "postgresql":  # the private cluster's socket folder
        assert where == f"postgresql://annotate@[{tmp_path / '.annotate' / 'postgres' / 'run'}]:5432/labelstudio"
