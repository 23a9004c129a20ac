"""Push and pull against a real Label Studio: idempotence, interruption, model versions, quarantine, overlap."""

from __future__ import annotations

import dataclasses
import json
import subprocess

import httpx
import pytest
from click.testing import CliRunner

from annotate import pipeline
from annotate.cli import main
from annotate.labelstudio import postgres
from annotate.labelstudio import server as ls_server
from annotate.labelstudio.client import connect
from annotate.labelstudio.project import find_project
from annotate.labelstudio.push import push_documents
from annotate.records import Document, Span

pytestmark = pytest.mark.integration

TEXT = "ISIL fighters withdrew from Saraqeb on Friday, the Observatory said."


def _doc(doc_id: str = "d1", version: str = "v1", text: str = TEXT) -> Document:
    spans = (Span(0, 4, "ACTOR", "ISIL", 0.9, "rule:group"), Span(14, 22, "OUTCOME", "withdrew", 0.7, "rule:verb"),
             Span(28, 35, "LOCATION", "Saraqeb", 0.8, "model:GPE"))
    return Document(doc_id, text, spans, {"title": f"article {doc_id}"}, version)


@pytest.fixture
def settings(live_server, request):
    """Settings for a project of this test's own (unique title) on the session's server."""
    return live_server.settings(project_title=f"t-{request.node.name}"[:50])


def _counts(settings) -> tuple[int, int]:
    conn = connect(settings)
    project_id = find_project(conn, settings)
    tasks = list(conn.sdk.tasks.list(project=project_id, fields="all"))
    return len(tasks), sum(len(t.predictions or []) for t in tasks)


def test_repush_changes_nothing(settings):
    docs = [_doc("a"), _doc("b", text=TEXT + " Again.")]
    _, first = pipeline.push(settings, docs)
    _, second = pipeline.push(settings, docs)
    assert (first.created, second.created, second.skipped, second.predictions_added) == (2, 0, 2, 0)
    assert _counts(settings) == (2, 2)


def test_new_model_version_adds_predictions_once(settings):
    pipeline.push(settings, [_doc("a", "v1")])
    _, report = pipeline.push(settings, [_doc("a", "v2")])
    pipeline.push(settings, [_doc("a", "v2")])
    assert report.predictions_added == 1
    assert _counts(settings) == (1, 2)
    conn, project = pipeline.open_project(settings)
    assert conn.sdk.projects.get(id=project.id).model_version == "v2"


def test_same_id_different_text_is_an_error_naming_the_id(settings):
    pipeline.push(settings, [_doc("a")])
    result = CliRunner().invoke(main, ["--root", str(settings.root), "push", "--preannotated",
                                       str(_write(settings.root / "changed.jsonl", [_doc("a", text=TEXT + "!")]))],
                                env=_env(settings))
    assert result.exit_code == 1 and "'a'" in result.output and "different text" in result.output


def _write(path, docs):
    path.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in docs), encoding="utf-8")
    return path


def _env(settings) -> dict[str, str]:
    return {"LABEL_STUDIO_URL": settings.label_studio_url, "LABEL_STUDIO_API_KEY": settings.label_studio_api_key,
            "ANNOTATE_PROJECT_TITLE": settings.project_title}


def test_interrupted_push_completes_without_duplicates(settings):
    docs = [_doc(f"n{i}", text=f"{TEXT} ({i})") for i in range(5)]

    def interrupt_after_first_batch(_n: int) -> None:
        raise KeyboardInterrupt

    conn, project = pipeline.open_project(settings)
    with pytest.raises(KeyboardInterrupt):
        push_documents(conn, project.id, docs, batch_size=2, progress=interrupt_after_first_batch)
    assert _counts(settings) == (2, 2)
    report = push_documents(conn, project.id, docs, batch_size=2)
    assert (report.created, report.skipped) == (3, 2)
    assert _counts(settings) == (5, 5)


def test_lost_answer_is_rechecked_not_resent(settings):
    """The server imported the batch but the client saw a timeout: the retry must not duplicate it."""
    conn, project = pipeline.open_project(settings)
    real_import = conn.sdk.projects.import_tasks
    calls = []

    def import_then_time_out(*args, **kwargs):
        calls.append(len(kwargs["request"]))
        result = real_import(*args, **kwargs)
        if len(calls) == 1:
            raise httpx.ReadTimeout("answer lost")
        return result

    conn.sdk.projects.import_tasks = import_then_time_out
    docs = [_doc(f"r{i}", text=f"{TEXT} [{i}]") for i in range(3)]
    report = push_documents(conn, project.id, docs, batch_size=10)
    assert calls == [3] and report.created == 3
    assert _counts(settings) == (3, 3)


def test_span_not_matching_text_fails_before_anything_is_sent(settings):
    bad = dataclasses.replace(_doc("x"), spans=(Span(0, 4, "ACTOR", "ISIS"),))
    with pytest.raises(Exception, match="not pushing anything"):
        pipeline.push(settings, [_doc("ok"), bad])
    conn = connect(settings)
    project_id = find_project(conn, settings)
    assert list(conn.sdk.tasks.list(project=project_id)) == []


def _user(conn, email: str) -> int:
    for user in conn.sdk.users.list():
        if user.email == email:
            return int(user.id)
    return int(conn.sdk.users.create(username=email.split("@")[0], email=email, password="pw-annotate-1").id)


def _label(span_id: str, start: int, end: int, label: str, text: str = TEXT) -> dict:
    return {"id": span_id, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def test_pull_archives_raw_and_quarantines_misfits(settings):
    pipeline.push(settings, [_doc("q")])
    conn = connect(settings)
    project_id = find_project(conn, settings)
    task = next(iter(conn.sdk.tasks.list(project=project_id)))
    alice, bob = _user(conn, "alice@example.org"), _user(conn, "bob@example.org")
    good = [_label("g1", 0, 13, "ACTOR"), _label("g2", 14, 22, "OUTCOME"),
            {"from_id": "g1", "to_id": "g2", "type": "relation", "direction": "right", "labels": ["agent_of"]}]
    conn.sdk.annotations.create(id=task.id, result=good, completed_by=alice, lead_time=30.0)
    bad = [{**_label("b1", 0, 4, "ACTOR"), "value": {"start": 0, "end": 4, "text": "ISIS", "labels": ["ACTOR"]}}]
    conn.sdk.annotations.create(id=task.id, result=bad, completed_by=bob)
    conn.sdk.annotations.create(id=task.id, result=[], completed_by=bob, was_cancelled=True)
    result = pipeline.pull(settings)
    archived = json.loads(result.stats.path.read_text(encoding="utf-8"))
    assert len(archived) == 1 and len(archived[0]["annotations"]) == 3
    [pulled] = result.tasks
    kept = {a.annotator: a for a in pulled.annotations}
    assert kept["alice@example.org"].spans[0].text == "ISIL fighters"
    assert kept["alice@example.org"].relations[0].label == "agent_of"
    assert kept["alice@example.org"].lead_time == 30.0
    assert [a.cancelled for a in pulled.annotations if a.annotator == "bob@example.org"] == [True]
    [quarantined] = result.quarantine
    assert (quarantined.task_id, quarantined.annotator) == (task.id, "bob@example.org")
    assert "ISIS" in quarantined.reason and result.quarantine_path.exists()


def _token_of(settings_root, email: str) -> str:
    """A user's legacy API token, read with Label Studio's own CLI against the server's database: the data folder's
    SQLite, or the private PostgreSQL cluster when the server under `settings_root` runs on one."""
    paths = ls_server.ServerPaths(settings_root / ".annotate")
    cluster = postgres.ClusterPaths(paths.state / "postgres")
    target = postgres.cluster_target(cluster) if postgres.initialised(cluster) else None
    env = ls_server.server_environment(paths, ls_server.load_credentials(settings_for_root(settings_root)), target)
    out = subprocess.run([str(paths.executable), "user", "--username", email], env=env, capture_output=True,
                         text=True, check=True).stdout
    return next(word for line in out.splitlines() for word in line.replace("'", " ").replace('"', " ").split()
                if len(word) == 40 and all(c in "0123456789abcdef" for c in word))


def settings_admin(settings) -> str:
    return connect(settings).sdk.users.whoami().email


def settings_for_root(root):
    from annotate.config import load_settings

    return load_settings(env={}, root=root)


def test_two_annotators_receive_the_same_overlap_task(live_server, request):
    settings = live_server.settings(project_title="t-overlap", annotators_per_task=2, overlap_percent=100)
    pipeline.push(settings, [_doc("o1")])
    conn = connect(settings)
    project_id = find_project(conn, settings)
    emails = ["carol@example.org", "dave@example.org"]
    for email in emails:
        _user(conn, email)
    seen = []
    for email in emails:
        token = _token_of(live_server.root, email)
        answer = httpx.get(f"{live_server.url}/api/projects/{project_id}/next",
                           headers={"Authorization": f"Token {token}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json()["id"])
        # submit as the annotator, as the editor does: that also releases the task lock `next` took
        submitted = httpx.post(f"{live_server.url}/api/tasks/{seen[-1]}/annotations/",
                               json={"result": [_label("c1", 0, 4, "ACTOR")]},
                               headers={"Authorization": f"Token {token}"}, timeout=30)
        assert submitted.status_code == 201, submitted.text
    assert seen[0] == seen[1]
    project = conn.sdk.projects.get(id=project_id)
    assert (project.maximum_annotations, project.overlap_cohort_percentage) == (2, 100)


@pytest.mark.parametrize("case", ["bad-token", "wrong-path", "unreachable"])
def test_external_server_errors_are_one_line_and_never_show_the_token(live_server, tmp_path, case):
    secret = "0123456789abcdef0123456789abcdef01234567"
    url, token = {
        "bad-token": (live_server.url, secret),
        "wrong-path": (live_server.url + "/not-label-studio", live_server.token),
        "unreachable": ("http://127.0.0.1:9", secret),
    }[case]
    result = CliRunner().invoke(main, ["--root", str(tmp_path), "project"],
                                env={"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": token})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "Traceback" not in result.output
    assert {"bad-token": "401", "wrong-path": "404", "unreachable": "cannot reach"}[case] in lines[0]
    assert token not in result.output


def test_schema_dropping_a_used_label_is_refused_naming_it(live_server, project_root):
    from annotate.errors import LabelStudioError
    from annotate.labelstudio.project import ensure_project
    from annotate.schema import Schema, load_schema

    settings = live_server.settings(root=project_root, project_title="t-drop-label")
    pipeline.push(settings, [_doc("l1")])
    conn = connect(settings)
    project_id = find_project(conn, settings)
    task = next(iter(conn.sdk.tasks.list(project=project_id)))
    conn.sdk.annotations.create(id=task.id, result=[_label("x1", 28, 35, "LOCATION")])
    full = load_schema(project_root / "guidelines")
    without = Schema(full.version, tuple(lab for lab in full.labels if lab.name != "LOCATION"),
                     tuple(rel for rel in full.relations if "LOCATION" not in (rel.source, rel.target)))
    with pytest.raises(LabelStudioError, match="'LOCATION' is used by existing annotations"):
        ensure_project(conn, settings, without, "<p>guidelines</p>")
    ensure_project(conn, settings, full, "<p>guidelines</p>")  # the full schema still updates cleanly


def test_pull_pages_through_every_task_and_keeps_drafts_out_of_the_gold(settings, tmp_path):
    """Several pages (page size 2 for 5 tasks), nothing missed or repeated; a draft is archived, not gold."""
    from annotate.labelstudio.convert import task_from_row
    from annotate.labelstudio.pull import pull_raw
    from annotate.schema import load_schema

    docs = [_doc(f"p{i}", text=f"{TEXT} <{i}>") for i in range(5)]
    pipeline.push(settings, docs)
    conn = connect(settings)
    project_id = find_project(conn, settings)
    first = min(t.id for t in conn.sdk.tasks.list(project=project_id))
    http = conn.sdk._client_wrapper.httpx_client  # noqa: SLF001 - the SDK has no call for drafts
    response = http.request(f"api/tasks/{first}/drafts", method="POST",
                            json={"result": [_label("d1", 0, 4, "ACTOR")], "lead_time": 5.0})
    assert response.status_code == 201, response.text
    schema, quarantine, tasks = load_schema(settings.guidelines_dir), [], []
    stats = pull_raw(conn, project_id, tmp_path / "raw.json", page_size=2,
                     on_row=lambda row: tasks.append(task_from_row(row, schema, quarantine)))
    archived = json.loads((tmp_path / "raw.json").read_text(encoding="utf-8"))
    assert (stats.tasks, stats.annotations, stats.drafts) == (5, 0, 1)
    assert sorted(row["data"]["doc_id"] for row in archived) == [d.id for d in docs]
    [draft] = next(row for row in archived if row["id"] == first)["drafts"]
    assert draft["result"][0]["value"]["text"] == "ISIL" and draft["user"]["email"] == settings_admin(settings)
    assert all(task.annotations == () or list(task.annotations) == [] for task in tasks) and not quarantine


def _no_listing(*_args, **_kwargs):
    raise AssertionError("listed every task although the manifest matched the server")


def test_repush_trusts_the_manifest_only_while_the_server_matches_it(settings, monkeypatch):
    """An unchanged re-push skips listing tasks; a task deleted in Label Studio or one pushed from elsewhere
    makes the next push list every task again, so nothing is duplicated or left missing."""
    from annotate.labelstudio import push as push_module

    docs = [_doc(f"m{i}", text=f"{TEXT} {{{i}}}") for i in range(4)]
    conn, project = pipeline.open_project(settings)
    state = pipeline.manifest_path(settings, conn.url, project.id)
    pipeline.push(settings, docs[:3])
    assert state.exists()
    with monkeypatch.context() as patched:
        patched.setattr(push_module, "list_tasks", _no_listing)
        _, again = pipeline.push(settings, docs[:3])
    assert (again.created, again.skipped) == (0, 3)

    # another machine (no manifest of ours) pushes the fourth article: ours must not create it again
    push_documents(conn, project.id, [docs[3]], batch_size=10)
    _, report = pipeline.push(settings, docs)
    assert (report.created, report.skipped) == (0, 4) and _counts(settings) == (4, 4)

    # the fingerprint reads the highest task id (not merely the first task listed)
    from annotate.labelstudio.manifest import fingerprint

    assert fingerprint(conn, project.id).max_task_id == max(report.task_ids.values())

    # a task deleted in Label Studio comes back on the next push, exactly once
    conn.sdk.tasks.delete(id=report.task_ids["m1"])
    _, report = pipeline.push(settings, docs)
    assert (report.created, report.skipped) == (1, 3) and _counts(settings) == (4, 4)

    # one task deleted and one added elsewhere (same count): still noticed, nothing duplicated or missing
    conn.sdk.tasks.delete(id=report.task_ids["m2"])
    extra = _doc("m-extra", text=f"{TEXT} {{extra}}")
    push_documents(conn, project.id, [extra], batch_size=10)
    _, report = pipeline.push(settings, [*docs, extra])
    assert (report.created, report.skipped) == (1, 4) and _counts(settings) == (5, 5)
    docs = [*docs, extra]

    # a new model version: predictions added once, recorded, and the next push again lists nothing
    newer = [dataclasses.replace(d, model_version="v2") for d in docs]
    _, report = pipeline.push(settings, newer)
    assert report.predictions_added == 5 and _counts(settings) == (5, 10)
    with monkeypatch.context() as patched:
        patched.setattr(push_module, "list_tasks", _no_listing)
        _, report = pipeline.push(settings, newer)
    assert (report.created, report.predictions_added, report.skipped) == (0, 0, 5)

    # a prediction deleted elsewhere changes the fingerprint: the push lists again (and adds nothing twice)
    task = conn.sdk.tasks.get(id=report.task_ids["m0"])
    conn.sdk.predictions.delete(id=task.predictions[0].id if hasattr(task.predictions[0], "id")
                                else task.predictions[0]["id"])
    _, report = pipeline.push(settings, newer)
    assert report.created == 0 and _counts(settings)[0] == 5

    # an unreadable manifest is ignored, not trusted
    state.write_text("{not json", encoding="utf-8")
    _, report = pipeline.push(settings, newer)
    assert report.created == 0 and _counts(settings)[0] == 5 and json.loads(state.read_text())["project"] == project.id
