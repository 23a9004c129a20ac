"""annotate against an external Label Studio that runs on PostgreSQL, started the way an admin deploys it.

Label Studio's own deployment (its docker-compose: nginx in front of `label-studio`, a `db` service running
PostgreSQL) sets DJANGO_DB=default and POSTGRE_NAME/USER/PASSWORD/HOST/PORT, and the first admin with
LABEL_STUDIO_USERNAME/PASSWORD. Docker is not available here, so this module does the same by hand: a PostgreSQL
cluster of its own listening on 127.0.0.1 (TCP, as the `db` service is reached over the network), and a separate
`label-studio start` process on a fresh data folder (first start: migrations) with exactly those variables, and none
of annotate's embedded-server settings: legacy API tokens stay off, as in any new 1.23 organisation, so annotate
is given a personal access token (a JWT refresh token made on the account page, here `POST /api/token/`).
annotate then only knows label_studio_url and label_studio_api_key.
"""

from __future__ import annotations

import glob
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from annotator_load import login
from click.testing import CliRunner
from conftest import PROJECT_ROOT, link_project_files, require_tool
from sandbox import open_folder
from test_postgres_server import _comparable, _whole_path

from annotate import pipeline, procs
from annotate.cli import main
from annotate.config import Settings, load_settings
from annotate.labelstudio import postgres
from annotate.labelstudio import server as ls_server
from annotate.labelstudio.client import connect
from annotate.labelstudio.database import PostgresTarget
from annotate.procs import free_port

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

ADMIN = "lead@team.example"


@dataclass(frozen=True)
class TeamServer:
    url: str
    token: str = field(repr=False)  # a personal access token
    database: PostgresTarget
    log: Path

    def settings(self, root: Path, **flags: object) -> Settings:
        return load_settings({"label_studio_url": self.url, "label_studio_api_key": self.token, **flags}, env={},
                             root=root)


def _start_postgres(root: Path) -> PostgresTarget:
    """A cluster on 127.0.0.1:<free port> with a password (scram-sha-256) and an empty database `labelstudio`."""
    paths, user = postgres.ClusterPaths(root), postgres.run_user()
    postgres.prepare_folders(paths, user)
    postgres.init_cluster(paths, user)
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -c unix_socket_directories='{paths.socket_dir}' -p {port}"
    postgres.run_program([str(postgres.pg_bin("pg_ctl")), "-D", str(paths.data), "-l", str(paths.log), "-w", "-t",
                          "60", "-o", options, "start"], user)
    password = paths.password_file.read_text(encoding="utf-8").strip()
    target = PostgresTarget("127.0.0.1", port, postgres.USER, postgres.DATABASE, password)
    postgres.run_program([str(postgres.pg_bin("createdb")), postgres.DATABASE], user,
                         env=target.client_env() | {"PGDATABASE": "postgres"})
    return target


def _admin_environment(data: Path, db: PostgresTarget, password: str) -> dict[str, str]:
    """What an admin's deployment gives Label Studio (docker-compose's `app` service), plus offline hygiene."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(data), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
            "DJANGO_DB": "default", "POSTGRE_NAME": db.name, "POSTGRE_USER": db.user, "POSTGRE_PASSWORD": db.password,
            "POSTGRE_HOST": db.host, "POSTGRE_PORT": str(db.port), "LABEL_STUDIO_BASE_DATA_DIR": str(data),
            "LABEL_STUDIO_USERNAME": ADMIN, "LABEL_STUDIO_PASSWORD": password,
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true", "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
            "LABEL_STUDIO_COLLECT_ANALYTICS": "false", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}


def _personal_access_token(url: str, password: str) -> str:
    """Log in as the admin and make a personal access token, as the Account & Settings page does."""
    http = login(url, ADMIN, password)
    try:
        made = http.post(f"{url}/api/token/", headers={"X-CSRFToken": http.cookies.get("csrftoken") or "",
                                                       "Referer": f"{url}/user/account/"})
        assert made.status_code == 201, made.text
        return str(made.json()["token"])
    finally:
        http.close()


@pytest.fixture(scope="module")
def team_server() -> Iterator[TeamServer]:
    """PostgreSQL on 127.0.0.1 and a Label Studio on it, each its own process, both stopped by PID at the end."""
    require_tool("postgresql", glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                 "apt-get install -y postgresql (make system-packages does)")
    executable = ls_server.install_server(load_settings(env={}, root=PROJECT_ROOT))
    outside = open_folder("annotate-ext-pg-")
    pg = postgres.ClusterPaths(outside / "db" / "postgres")
    proc, before = None, getattr(pytest, "live_server_log", None)
    try:
        db = _start_postgres(pg.root)
        data, log, port = outside / "ls-data", outside / "label-studio.log", free_port()
        data.mkdir(mode=0o700)
        password = secrets.token_urlsafe(16)
        proc = procs.spawn([str(executable), "start", "--no-browser", "--internal-host", procs.HOST, "--port",
                            str(port)], log, _admin_environment(data, db, password))
        url = f"http://{procs.HOST}:{port}"
        procs.wait_ready(proc, lambda: ls_server.check_health(url), what="Label Studio", endpoint=f"{url}/health",
                         log=log, timeout=ls_server.START_TIMEOUT, interval=0.5, markers=ls_server.MARKERS)
        pytest.live_server_log = log  # type: ignore[attr-defined]
        yield TeamServer(url, _personal_access_token(url, password), db, log)
    finally:
        pytest.live_server_log = before  # type: ignore[attr-defined]
        if proc is not None:
            procs.terminate(proc.pid, ls_server.MARKERS)
            proc.wait(timeout=10)
        if postgres.cluster_pid(pg) is not None:
            postgres.run_program([str(postgres.pg_bin("pg_ctl")), "-D", str(pg.data), "-m", "fast", "-w", "stop"],
                                 postgres.run_user())
        shutil.rmtree(outside)


def _count(db: PostgresTarget, table: str) -> int:
    """Rows in one of Label Studio's tables, asked of PostgreSQL itself (psql over TCP)."""
    import os
    import pwd

    out = postgres.run_program([str(postgres.pg_bin("psql")), "-tAc", f"select count(*) from {table}"],
                               pwd.getpwuid(os.geteuid()), env=db.client_env())
    return int(out.strip())


def test_push_pull_and_gold_through_an_external_label_studio_on_postgresql(team_server, live_server, seeds_dir,
                                                                           tmp_path):
    """The whole path (push the pre-annotated seeds, annotators correct, pull, gold) with only a URL and a personal
    access token: the same gold as the embedded SQLite server's, and the tasks really are in PostgreSQL."""
    root = link_project_files(tmp_path / "team")
    docs, _ = pipeline.preannotate_inputs(team_server.settings(root), [seeds_dir])
    external = team_server.settings(root, project_title="t-external")
    on_team = _whole_path(external, docs)
    on_sqlite = _whole_path(live_server.settings(root=link_project_files(tmp_path / "solo"),
                                                 project_title="t-external"), docs)
    assert len(on_team) == 2 and _comparable(on_team) == _comparable(on_sqlite)
    assert _count(team_server.database, "task") == len(docs)
    assert _count(team_server.database, "task_completion") == 3  # Label Studio's annotations table
    _, again = pipeline.push(external, docs)  # a re-push finds every task through the external path
    assert (again.created, again.skipped) == (0, len(docs))


def test_cli_through_the_external_server_never_shows_the_token(team_server, tmp_path):
    root = link_project_files(tmp_path / "cli")
    env = {"LABEL_STUDIO_URL": team_server.url, "LABEL_STUDIO_API_KEY": team_server.token,
           "ANNOTATE_PROJECT_TITLE": "t-external-cli"}
    runner = CliRunner()

    def run(*args: str):  # noqa: ANN202
        result = runner.invoke(main, ["--root", str(root), *args], env=env)
        assert team_server.token not in result.output
        return result

    pushed = run("push", str(PROJECT_ROOT / "seeds"))
    assert pushed.exit_code == 0, pushed.output
    invited = run("annotators", "invite", "anna@team.example")
    assert invited.exit_code == 0, invited.output
    listed = run("annotators", "list")
    assert listed.exit_code == 0 and "anna@team.example" in listed.output, listed.output
    pulled = run("pull")
    assert pulled.exit_code == 0, pulled.output
    refused = run("server", "status")
    assert refused.exit_code == 1 and "an external Label Studio is configured" in refused.output
    conn = connect(team_server.settings(root))
    assert httpx.get(f"{team_server.url}/api/projects", timeout=30).status_code == 401  # no token, no data
    assert any(p.title == "t-external-cli" for p in conn.sdk.projects.list())
