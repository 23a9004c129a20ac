"""Incremental pulls and the local store give exactly what a full pull gives, on a real Label Studio.

After each kind of change (annotations created, edited, deleted and skipped, tasks added, edited and deleted) the
incremental pull's archive must be byte-identical to a fresh full pull's, its tasks equal, and the gold built from
it identical file for file. Where change detection is blind (predictions imported in bulk) the pull must fall back
to a full pull and say why.
"""

from __future__ import annotations

import filecmp
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate import pipeline
from annotate.cli import main
from annotate.config import load_settings
from annotate.export import export_gold
from annotate.labelstudio.client import connect
from annotate.labelstudio.convert import read_export, tasks_from_export
from annotate.labelstudio.pull import pull_raw
from annotate.labelstudio.store import open_store, read_archive_tasks, store_path
from annotate.records import Document, Span
from annotate.schema import load_schema

pytestmark = pytest.mark.integration

TEXT = "ISIL fighters withdrew from Saraqeb on Friday, the Observatory said."


def _span(label: str = "ACTOR", start: int = 0, end: int = 4) -> list[dict]:
    return [{"id": f"r{start}", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}]


def _docs(first: int, n: int) -> list[Document]:
    return [Document(f"inc{i}", f"{TEXT} ({i})", (Span(0, 4, "ACTOR", "ISIL", 0.9),), {}, "v1")
            for i in range(first, first + n)]


@pytest.fixture
def project(live_server, project_root):
    settings = load_settings({"label_studio_url": live_server.url, "label_studio_api_key": live_server.token,
                              "project_title": f"inc-{uuid.uuid4().hex[:8]}"}, env={}, root=project_root)
    ref, report = pipeline.push(settings, _docs(0, 8))
    return settings, connect(settings), ref.id, sorted(report.task_ids.values())


def _gold_files(folder: Path) -> list[str]:
    # manifest.json and the dataset card name the source archive (whose file names differ): compare the data
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".md" and p.name != "manifest.json")


def _same_as_full(settings, conn, project_id: int, tmp: Path, incremental: bool = True):
    """Pull, then check the result against a fresh full pull of the same project."""
    result = pipeline.pull(settings)
    assert (result.stats.fetched is not None) == incremental, result.stats.how()
    full = pull_raw(conn, project_id, tmp / f"full-{uuid.uuid4().hex[:6]}.json")
    assert result.stats.path.read_bytes() == full.path.read_bytes()
    schema = load_schema(settings.guidelines_dir)
    full_tasks, _ = tasks_from_export(read_export(full.path), schema)
    assert result.tasks == full_tasks
    assert read_archive_tasks(settings, result.stats.path, schema)[0] == full_tasks  # what read commands read
    if any(t.completed for t in full_tasks):
        ours = export_gold(result.tasks, settings, out=tmp / f"gold-{uuid.uuid4().hex[:6]}")
        theirs = export_gold(full_tasks, settings, out=tmp / f"gold-{uuid.uuid4().hex[:6]}")
        names = _gold_files(ours.folder)
        assert names and names == _gold_files(theirs.folder)
        match, mismatch, errors = filecmp.cmpfiles(ours.folder, theirs.folder, names, shallow=False)
        assert not mismatch and not errors, mismatch
    return result


@pytest.fixture(params=["api", "database"])
def deletions_from(request, live_server, monkeypatch):
    """Where the pull learns which tasks are gone: the API (an external server: counting id ranges, listing ids),
    or the embedded server's own SQLite database (server.database_task_ids, here on the session server's files)."""
    from annotate.labelstudio import server

    read = []
    if request.param == "database":
        real, embedded = server.database_task_ids, load_settings({}, env={}, root=live_server.root)
        assert not embedded.external and server.sqlite_file(embedded).exists()

        def from_database(settings, project_id):
            read.append(project_id)
            return real(embedded, project_id)
        monkeypatch.setattr(server, "database_task_ids", from_database)
    return request.param, read


def test_incremental_pulls_match_a_full_pull_after_every_kind_of_change(project, tmp_path, deletions_from):
    settings, conn, project_id, ids = project
    for task_id in ids[:4]:
        conn.sdk.annotations.create(id=task_id, completed_by=1, result=_span())
    first = _same_as_full(settings, conn, project_id, tmp_path, incremental=False)
    assert first.stats.full_reason == "no local store yet"

    again = _same_as_full(settings, conn, project_id, tmp_path)
    assert again.stats.unchanged_since == first.stats.path and again.stats.fetched == ()

    edited = conn.sdk.tasks.get(id=ids[0]).annotations[0]["id"]
    conn.sdk.annotations.update(id=edited, result=_span("LOCATION", 28, 36))  # edited: Saraqeb
    conn.sdk.annotations.delete(id=conn.sdk.tasks.get(id=ids[1]).annotations[0]["id"])  # deleted
    conn.sdk.annotations.create(id=ids[4], completed_by=1, result=_span())  # created
    conn.sdk.annotations.create(id=ids[5], completed_by=1, result=[], was_cancelled=True)  # skipped
    conn.sdk.tasks.update(id=ids[6], data={"text": f"{TEXT} (6)", "article_id": "inc6", "headline": "Edited"})
    conn.sdk.tasks.delete(id=ids[3])  # (not the newest: SQLite hands the highest id out again)
    pipeline.push(settings, _docs(8, 2))  # new tasks
    changed = _same_as_full(settings, conn, project_id, tmp_path)
    assert set(changed.stats.fetched or ()) >= {ids[0], ids[1], ids[4], ids[5], ids[6]}
    assert changed.stats.removed == (ids[3],), (changed.stats, ids)
    assert deletions_from[1] == ([project_id] if deletions_from[0] == "database" else [])  # asked only then
    assert changed.stats.tasks == 9 and len(changed.stats.fetched or ()) <= 7
    assert "incremental pull" in changed.stats.how()


def test_a_change_it_cannot_see_falls_back_to_a_full_pull_and_says_why(project, tmp_path):
    settings, conn, project_id, ids = project
    _same_as_full(settings, conn, project_id, tmp_path, incremental=False)
    # predictions imported in bulk do not touch their tasks' updated_at
    conn.sdk.projects.import_predictions(id=project_id, request=[
        {"task": ids[2], "result": _span("LOCATION", 28, 36), "model_version": "bulk", "score": 0.5}])
    result = _same_as_full(settings, conn, project_id, tmp_path, incremental=False)
    assert "prediction" in result.stats.full_reason
    _same_as_full(settings, conn, project_id, tmp_path)  # and the next one is incremental again


def test_pull_full_and_a_lost_or_broken_store(project, tmp_path):
    settings, conn, project_id, ids = project
    _same_as_full(settings, conn, project_id, tmp_path, incremental=False)
    out = CliRunner().invoke(main, ["--root", str(settings.root), "pull", "--full", "--archive-only"],
                             env={"LABEL_STUDIO_URL": conn.url, "LABEL_STUDIO_API_KEY": settings.label_studio_api_key,
                                  "ANNOTATE_PROJECT_TITLE": settings.project_title})
    assert out.exit_code == 0, out.output
    assert "full pull (a full pull was asked for)" in out.output
    path = store_path(settings, project_id)
    path.unlink()
    conn.sdk.annotations.create(id=ids[4], completed_by=1, result=_span())
    assert _same_as_full(settings, conn, project_id, tmp_path, incremental=False).stats.full_reason == \
        "no local store yet"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"not a database" * 100)
    broken = _same_as_full(settings, conn, project_id, tmp_path, incremental=False)
    assert "store" in broken.stats.full_reason
    store = open_store(path, readonly=True)
    assert store is not None and store.totals()["tasks"] == 8
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_change_undone_before_the_pull_is_fetched_and_leaves_no_temp_file(project, tmp_path):
    settings, conn, project_id, ids = project
    first = _same_as_full(settings, conn, project_id, tmp_path, incremental=False)
    made = conn.sdk.annotations.create(id=ids[0], completed_by=1, result=_span())
    conn.sdk.annotations.delete(id=made.id)
    again = _same_as_full(settings, conn, project_id, tmp_path)
    # the task's updated_at moved, so its row (and a full pull's archive) differ from the first pull's
    assert again.stats.fetched == (ids[0],) and again.stats.path != first.stats.path
    assert not list(first.stats.path.parent.glob(".*.tmp"))
