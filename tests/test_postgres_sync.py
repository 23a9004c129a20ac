"""The sync tests and the whole-path test again, on a Label Studio backed by the private PostgreSQL cluster.

The test functions are imported from their modules and collected here a second time; this module's own
`live_server` fixture (a PostgreSQL-backed server) overrides the SQLite one from conftest.py for them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import test_sync_integration
from conftest import PROJECT_ROOT, LiveServer, link_project_files, require_tool
from sandbox import open_folder, start_sandbox
from test_sync_integration import *  # noqa: F403 (collected again, on PostgreSQL)
from test_whole_path import test_seeds_to_gold_through_a_real_label_studio  # noqa: F401

from annotate.labelstudio import server as ls_server

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

settings = test_sync_integration.settings  # the per-test project fixture, bound to this module's live_server


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """A real Label Studio on a private PostgreSQL cluster for this module, stopped by PID at the end."""
    import glob
    import shutil

    require_tool("postgresql", glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                 "apt-get install -y postgresql (make system-packages does)")
    outside = open_folder("annotate-pg-sync-")
    root = link_project_files(outside / "project")
    settings, info = start_sandbox(root, PROJECT_ROOT, database="postgresql")
    creds = ls_server.load_credentials(settings)
    live = LiveServer(info.url, creds.token, creds.email, creds.password, root, ls_server.server_paths(settings).log)
    before = getattr(pytest, "live_server_log", None)
    pytest.live_server_log = live.log  # type: ignore[attr-defined]
    try:
        yield live
    finally:
        pytest.live_server_log = before  # type: ignore[attr-defined]
        ls_server.stop_server(settings)
        shutil.rmtree(outside)


def test_these_tests_run_on_postgresql(live_server):
    """The override took: the server here has a running cluster and no SQLite database."""
    state = live_server.root / ".annotate"
    assert (state / "postgres" / "data" / "postmaster.pid").exists()
    assert not list((state / "label-studio-data").glob("*.sqlite3"))


def test_the_incremental_pull_reads_deleted_tasks_from_the_private_cluster(live_server, tmp_path):
    """server.database_task_ids on the embedded server's PostgreSQL (psql over the cluster's socket) gives exactly
    the ids the API lists, a deletion included, so an incremental pull on a team's server needs no id listing."""
    from annotate import pipeline
    from annotate.config import load_settings
    from annotate.labelstudio.client import connect
    from annotate.labelstudio.pull import project_ids
    from annotate.records import Document

    external = live_server.settings(root=link_project_files(tmp_path / "p"), project_title="pg-ids")
    ref, report = pipeline.push(external, [Document(f"pg{i}", f"Rebels seized Idlib ({i}).", (), {}) for i in range(5)])
    conn = connect(external)
    conn.sdk.tasks.delete(id=sorted(report.task_ids.values())[1])
    embedded = load_settings({"database": "postgresql"}, env={}, root=live_server.root)
    held = ls_server.database_task_ids(embedded, ref.id)
    assert held is not None and held == set(project_ids(conn, ref.id)) and len(held) == 4
