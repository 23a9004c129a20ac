"""Pull against the real Label Studio: a consistent snapshot while the project changes between pages, no new
archive when nothing changed, stale temp files removed, retention that keeps referenced archives, and read
commands that read the newest archive instead of pulling again."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from click.testing import CliRunner

from annotate import pipeline
from annotate.cli import main
from annotate.config import load_settings
from annotate.labelstudio import incremental
from annotate.labelstudio.client import connect
from annotate.labelstudio.pull import PAGES, SNAPSHOT, pull_raw
from annotate.records import Document, Span

pytestmark = pytest.mark.integration

TEXT = "ISIL fighters withdrew from Saraqeb on Friday, the Observatory said."


def _settings(live_server, root, **flags):
    return load_settings({"label_studio_url": live_server.url, "label_studio_api_key": live_server.token,
                          "project_title": f"pull-{uuid.uuid4().hex[:8]}", **flags}, env={}, root=root)


def _pushed(settings, n: int) -> tuple[object, int, list[int]]:
    docs = [Document(f"p{i}", f"{TEXT} ({i})", (Span(0, 4, "ACTOR", "ISIL", 0.9),), {}, "v1") for i in range(n)]
    ref, report = pipeline.push(settings, docs)
    conn = connect(settings)
    return conn, ref.id, sorted(report.task_ids.values())


def _annotate(conn, task_id: int) -> None:
    conn.sdk.annotations.create(id=task_id, completed_by=1, result=[
        {"id": "a", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 4, "text": "ISIL", "labels": ["ACTOR"]}}])


@pytest.mark.parametrize("method", [PAGES, SNAPSHOT])
def test_tasks_deleted_between_pages_lose_no_surviving_task(live_server, project_root, method):
    """Page by page, deleting read tasks shifts five unread ones onto the page already read: they are fetched at
    the end. From the snapshot (made before any row is read) nothing shifts, but the deletions and the change
    made while its rows are read must still reach the archive."""
    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 30)
    rows: list[int] = []

    def delete_after_first_page(row: dict) -> None:
        rows.append(int(row["id"]))
        if len(rows) == 10:  # between page 1 and page 2: delete five tasks already read
            for task_id in ids[:5]:
                conn.sdk.tasks.delete(id=task_id)
            _annotate(conn, ids[7])  # and one already read changes

    dest = project_root / "exports" / "raw" / f"project-{project_id}-test.json"
    stats = pull_raw(conn, project_id, dest, page_size=10, on_row=delete_after_first_page, method=method)
    archived = json.loads(dest.read_text(encoding="utf-8"))
    assert [r["id"] for r in archived] == ids[5:], "a still-existing task is missing from the archive"
    assert stats.tasks == 25 and stats.deleted == tuple(ids[:5])
    assert stats.missed == (tuple(ids[10:15]) if method == PAGES else ()) and stats.changed == (ids[7],)
    assert len(next(r for r in archived if r["id"] == ids[7])["annotations"]) == 1
    assert any("deleted while the pull ran" in line for line in stats.changes())


def test_pipeline_pull_parses_the_snapshot_not_the_pages(live_server, project_root, monkeypatch):
    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 12)
    real = pull_raw

    def small_pages(*args, **kwargs):
        seen: list[int] = []
        on_row = kwargs["on_row"]

        def hook(row):
            seen.append(row["id"])
            if len(seen) == 5:
                conn.sdk.tasks.delete(id=ids[0])
            on_row(row)

        kwargs.update(page_size=5, on_row=hook)
        return real(*args, **kwargs)

    monkeypatch.setattr(incremental, "pull_raw", small_pages)  # the full pull that fills the store
    result = pipeline.pull(settings)
    assert [t.task_id for t in result.tasks] == ids[1:]


def test_identical_pull_writes_no_new_file_and_stale_temp_files_go(live_server, project_root):
    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 3)
    raw = project_root / "exports" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    stale = [raw / f".project-{project_id}-20260101T000000Z.json.pulling.tmp", raw / ".x.json.k3j4.tmp"]
    for path in stale:
        path.write_bytes(b"[\n{" * 1000)  # what a killed pull leaves
    first = pipeline.pull(settings)
    assert not any(p.exists() for p in stale)
    second = pipeline.pull(settings)
    assert second.stats.unchanged_since == first.stats.path and second.stats.path == first.stats.path
    assert sorted(p.name for p in raw.iterdir()) == [first.stats.path.name]
    _annotate(conn, ids[0])
    third = pipeline.pull(settings)
    assert third.stats.unchanged_since is None and third.stats.path != first.stats.path
    assert len(list(raw.glob("project-*.json"))) == 2


def test_retention_keeps_the_newest_and_every_referenced_archive(live_server, project_root):
    settings = _settings(live_server, project_root, keep_archives=2)
    conn, project_id, ids = _pushed(settings, 6)
    paths = []
    for task_id in ids:
        _annotate(conn, task_id)
        paths.append(pipeline.pull(settings).stats.path)
        if len(paths) == 1:  # a gold build made from the first archive
            gold = project_root / "exports" / "gold" / "abc"
            gold.mkdir(parents=True)
            (gold / "manifest.json").write_text(json.dumps({"source": pipeline.describe_source(paths[0])}))
        if len(paths) == 2:  # a lead decision made against the second
            (project_root / "exports" / "decisions.jsonl").write_text(json.dumps({"archive": paths[1].name}) + "\n")
    kept = sorted(p.name for p in (project_root / "exports" / "raw").glob("project-*.json"))
    assert kept == sorted(p.name for p in [paths[0], paths[1], paths[-2], paths[-1]])


def test_read_commands_read_the_newest_archive_and_say_which(live_server, project_root):
    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 2)
    _annotate(conn, ids[0])
    pulled = pipeline.pull(settings)
    env = {"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": "x",  # nothing listens there
           "ANNOTATE_PROJECT_TITLE": settings.project_title}
    runner = CliRunner()
    for args in (["agreement", "--bootstrap", "0"], ["disagreements"], ["export"]):
        result = runner.invoke(main, ["--root", str(project_root), *args], env=env)
        assert result.exit_code in (0, 3), result.output
        assert f"reading exports/raw/{pulled.stats.path.name}" in result.stderr
    before = sorted(os.listdir(project_root / "exports" / "raw"))
    result = runner.invoke(main, ["--root", str(project_root), "disagreements", "--pull"], env=env)
    assert result.exit_code == 1 and "cannot reach Label Studio at http://127.0.0.1:9" in result.output
    assert sorted(os.listdir(project_root / "exports" / "raw")) == before


def test_read_command_without_any_pull_says_what_to_do(project_root):
    result = CliRunner().invoke(main, ["--root", str(project_root), "disagreements"], env={})
    assert result.exit_code == 1
    assert "nothing has been pulled yet" in result.output and "--pull" in result.output


def test_every_annotators_drafts_reach_the_archive(live_server, project_root):
    """The task endpoints list only the token user's own drafts; a colleague's draft must still be archived,
    and must keep `push --dedupe` from deleting its task."""
    import httpx
    from test_sync_integration import _token_of, _user

    from annotate.labelstudio.payloads import task_payload

    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 2)
    _user(conn, "drafter@example.org")
    token = _token_of(live_server.root, "drafter@example.org")
    region = {"id": "d1", "from_name": "label", "to_name": "text", "type": "labels",
              "value": {"start": 0, "end": 4, "text": "ISIL", "labels": ["ACTOR"]}}
    [copy] = conn.sdk.projects.import_tasks(id=project_id, return_task_ids=True, request=[task_payload(
        Document("p0", f"{TEXT} (0)", (Span(0, 4, "ACTOR", "ISIL", 0.9),), {}, "v1"))]).task_ids
    for task_id in (ids[0], copy):
        answer = httpx.post(f"{live_server.url}/api/tasks/{task_id}/drafts", json={"result": [region], "lead_time": 5},
                            headers={"Authorization": f"Token {token}"}, timeout=30)
        assert answer.status_code == 201, answer.text
    assert not conn.get_json(f"api/tasks/{ids[0]}/")["drafts"], "Label Studio now lists others' drafts: simplify"
    result = pipeline.pull(settings)
    archived = {r["id"]: r for r in json.loads(result.stats.path.read_text(encoding="utf-8"))}
    [draft] = archived[ids[0]]["drafts"]
    assert draft["user"]["email"] == "drafter@example.org" and draft["result"][0]["value"]["text"] == "ISIL"
    assert result.stats.drafts == 2
    _, report = pipeline.push(settings, [Document("p0", f"{TEXT} (0)", (Span(0, 4, "ACTOR", "ISIL", 0.9),), {},
                                                  "v1")], dedupe=True)
    assert report.removed == [] and set(report.kept_annotated["p0"]) == {ids[0], copy}


@pytest.mark.parametrize("method", [PAGES, SNAPSHOT])
def test_a_change_alone_between_pages_is_noticed(live_server, project_root, method):
    """Same task count before and after: the newest update time still tells that a read task changed."""
    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 12)
    rows: list[int] = []

    def annotate_a_read_task(row: dict) -> None:
        rows.append(int(row["id"]))
        if len(rows) == 5:
            _annotate(conn, ids[1])

    dest = project_root / "exports" / "raw" / f"project-{project_id}-change.json"
    stats = pull_raw(conn, project_id, dest, page_size=5, on_row=annotate_a_read_task, method=method)
    archived = {r["id"]: r for r in json.loads(dest.read_text(encoding="utf-8"))}
    assert stats.changed == (ids[1],) and not stats.missed and not stats.deleted
    assert len(archived[ids[1]]["annotations"]) == 1 and list(archived) == ids


def test_snapshot_and_pages_archive_the_same_bytes(live_server, project_root):
    """The export snapshot and the task list give rows of different shapes (compared on 1.23.2: pull.ONE_WAY_*);
    normalised, a project with every kind of content archives byte for byte the same either way: submitted,
    skipped and edited annotations by two annotators, a colleague's draft, predictions, a task nobody touched."""
    import httpx
    from test_sync_integration import _token_of, _user

    settings = _settings(live_server, project_root)
    conn, project_id, ids = _pushed(settings, 4)
    other = _user(conn, "second@example.org")
    _annotate(conn, ids[0])
    conn.sdk.annotations.create(id=ids[0], completed_by=other, result=[])
    conn.sdk.annotations.create(id=ids[1], completed_by=other, result=[], was_cancelled=True)
    edited = conn.get_json(f"api/tasks/{ids[2]}/")
    _annotate(conn, ids[2])
    [annotation] = conn.get_json(f"api/tasks/{ids[2]}/annotations/")
    conn.sdk.annotations.update(id=annotation["id"], result=[])
    token = _token_of(live_server.root, "second@example.org")
    answer = httpx.post(f"{live_server.url}/api/tasks/{ids[3]}/drafts", headers={"Authorization": f"Token {token}"},
                        json={"result": [], "lead_time": 2}, timeout=30)
    assert answer.status_code == 201, answer.text
    raw = project_root / "exports" / "raw"
    pages = pull_raw(conn, project_id, raw / "pages.json", method=PAGES)
    snapshot = pull_raw(conn, project_id, raw / "snapshot.json", method=SNAPSHOT)
    assert (snapshot.tasks, snapshot.annotations, snapshot.drafts) == (4, 4, 1) and edited["annotations"] == []
    assert snapshot.path.read_bytes() == pages.path.read_bytes()
    rows = json.loads(snapshot.path.read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == ids
    assert rows[2]["annotations"][0]["updated_by"]["id"] == 1 and rows[3]["drafts"][0]["user"]["id"] == other
    assert not conn.get_json(f"api/projects/{project_id}/exports/"), "the pull left its export on the server"
