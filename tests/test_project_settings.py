"""Project settings against a real Label Studio: a push leaves the lead's settings alone, model_version follows only
new predictions and never overwrites a connected ML backend's title, `annotate project` reports what it changes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from click.testing import CliRunner

from annotate import pipeline
from annotate.cli import main
from annotate.labelstudio.client import connect
from annotate.labelstudio.project import find_project
from annotate.records import Document, Span

pytestmark = pytest.mark.integration

TEXT = "ISIL fighters withdrew from Saraqeb on Friday, the Observatory said."
BACKEND_TITLE = "lead backend"
WATCHED = ("maximum_annotations", "overlap_cohort_percentage", "show_collab_predictions", "model_version",
           "show_instruction", "label_config", "expert_instruction")


def _doc(doc_id: str, version: str = "v1") -> Document:
    spans = (Span(0, 4, "ACTOR", "ISIL", 0.9, "rule:group"), Span(28, 35, "LOCATION", "Saraqeb", 0.8, "model:GPE"))
    return Document(doc_id, f"{TEXT} ({doc_id})", spans, {"title": f"article {doc_id}"}, version)


class _Backend(BaseHTTPRequestHandler):
    """The least an ML backend answers for Label Studio to connect it: health, setup, predict, webhook."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer({"status": "UP", "model_class": "Fake"})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path.startswith("/predict"):
            self._answer({"results": [{"result": [], "score": 0, "model_version": "fake-1"}
                                      for _ in body.get("tasks", [])]})
        else:
            self._answer({"model_version": "fake-1", "status": "ok"})

    def _answer(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def backend_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def settings(fault_proxy, live_server, request):
    """This test's own project, reached through a proxy that records every request (fault_proxy.seen)."""
    return live_server.settings(project_title=f"ps-{request.node.name}"[:50], label_studio_url=fault_proxy.url)


def _settings_of(conn, project_id: int) -> dict:
    project = conn.sdk.projects.get(id=project_id)
    return {name: getattr(project, name) for name in WATCHED}


def _project_patches(proxy, project_id: int) -> list[str]:
    pattern = re.compile(rf"^/api/projects/{project_id}/?(\?|$)")
    return [path for method, path in proxy.seen if method in ("PATCH", "PUT") and pattern.match(path)]


def _connect_backend(conn, project_id: int, url: str) -> None:
    conn.sdk.ml.create(url=url, project=project_id, title=BACKEND_TITLE, is_interactive=False)


@pytest.mark.parametrize("lead", [
    {"maximum_annotations": 3, "overlap_cohort_percentage": 50, "show_collab_predictions": False,
     "show_instruction": False},
    {"maximum_annotations": 1, "model_version": BACKEND_TITLE},
], ids=["overlap-and-collab", "backend-model-version"])
def test_unchanged_push_changes_no_setting(settings, fault_proxy, backend_url, lead):
    docs = [_doc("a"), _doc("b")]
    project, _ = pipeline.push(settings, docs)
    conn = connect(settings)
    _connect_backend(conn, project.id, backend_url)
    conn.sdk.projects.update(id=project.id, **lead)  # as a lead would in the UI
    left = _settings_of(conn, project.id)
    assert all(left[name] == value for name, value in lead.items())
    fault_proxy.seen.clear()
    again, report = pipeline.push(settings, docs)
    assert (report.created, report.skipped, again.changes, report.setting_lines()) == (0, 2, (), [])
    assert _settings_of(conn, project.id) == left
    assert _project_patches(fault_proxy, project.id) == []


def test_push_of_a_new_version_sets_model_version(settings, fault_proxy):
    project, _ = pipeline.push(settings, [_doc("a", "v1")])
    conn = connect(settings)
    assert conn.sdk.projects.get(id=project.id).model_version == "v1"  # Label Studio sets it from the first import
    _, report = pipeline.push(settings, [_doc("a", "v2")])
    assert report.predictions_added == 1
    assert report.model_version is not None and report.model_version.describe() == "model_version: 'v1' -> 'v2'"
    assert conn.sdk.projects.get(id=project.id).model_version == "v2"
    fault_proxy.seen.clear()
    _, known = pipeline.push(settings, [_doc("a", "v2"), _doc("b", "v1")])  # new task, but no new version
    assert known.created == 1 and known.model_version is None
    assert conn.sdk.projects.get(id=project.id).model_version == "v2"
    assert _project_patches(fault_proxy, project.id) == []


def test_push_of_a_new_version_keeps_a_connected_backends_title(settings, fault_proxy, backend_url):
    project, _ = pipeline.push(settings, [_doc("a", "v1")])
    conn = connect(settings)
    _connect_backend(conn, project.id, backend_url)
    conn.sdk.projects.update(id=project.id, model_version=BACKEND_TITLE)
    fault_proxy.seen.clear()
    _, report = pipeline.push(settings, [_doc("a", "v2")])
    assert report.predictions_added == 1 and report.model_version is None and report.kept_backend == BACKEND_TITLE
    assert conn.sdk.projects.get(id=project.id).model_version == BACKEND_TITLE
    assert _project_patches(fault_proxy, project.id) == []
    assert "kept 'lead backend'" in report.setting_lines()[0]


def test_annotators_queue_keeps_the_backends_predictions_after_a_push(settings, live_server, backend_url):
    """The issue's symptom: after a push, `/next` must still hand out the backend's predictions (Label Studio asks the
    backend only while project.model_version is its title), also for a task imported in the UI."""
    project, _ = pipeline.push(settings, [_doc("a")])
    conn = connect(settings)
    _connect_backend(conn, project.id, backend_url)
    conn.sdk.projects.update(id=project.id, model_version=BACKEND_TITLE)
    pipeline.push(settings, [_doc("a"), _doc("b", "v2")])  # a new task, and predictions of a new version
    conn.sdk.projects.import_tasks(id=project.id, request=[{"data": {"text": "Rebels took Idlib."}}])  # the UI's import
    headers = {"Authorization": f"Token {live_server.token}"}
    versions = set()
    for _ in range(3):
        task = httpx.get(f"{live_server.url}/api/projects/{project.id}/next", headers=headers, timeout=30).json()
        versions |= {p["model_version"] for p in task["predictions"]}
        conn.sdk.tasks.update(id=task["id"], is_labeled=True)  # so that `/next` hands out another task (all 3 seen)
    assert versions == {"fake-1"}


def test_backend_connected_with_a_static_version_chosen_still_follows_new_versions(settings, backend_url):
    """Only the backend's title is protected: a lead who chose static predictions gets the newest ones."""
    project, _ = pipeline.push(settings, [_doc("a", "v1")])
    conn = connect(settings)
    _connect_backend(conn, project.id, backend_url)
    assert conn.sdk.projects.get(id=project.id).model_version == "v1"  # connecting does not replace a set version
    _, report = pipeline.push(settings, [_doc("a", "v2")])
    assert conn.sdk.projects.get(id=project.id).model_version == "v2" and report.kept_backend is None


def _cli(settings, *args: str):
    env = {"LABEL_STUDIO_URL": settings.label_studio_url, "LABEL_STUDIO_API_KEY": settings.label_studio_api_key,
           "ANNOTATE_PROJECT_TITLE": settings.project_title}
    return CliRunner().invoke(main, ["--root", str(settings.root), *args], env=env)


def test_project_command_reports_each_change(settings, fault_proxy):
    created = _cli(settings, "project")
    assert created.exit_code == 0, created.output
    assert created.output.startswith("created project")
    conn = connect(settings)
    project_id = find_project(conn, settings)
    assert conn.sdk.projects.get(id=project_id).maximum_annotations == settings.annotators_per_task
    conn.sdk.projects.update(id=project_id, show_collab_predictions=False)
    fault_proxy.seen.clear()
    same = _cli(settings, "project")
    assert same.exit_code == 0 and same.output.splitlines()[1:] == ["  no setting changed"], same.output
    assert _project_patches(fault_proxy, project_id) == []
    changed = _cli(settings, "project", "--annotators-per-task", "3", "--overlap-percent", "40")
    assert changed.exit_code == 0, changed.output
    assert changed.output.splitlines()[1:] == ["  maximum_annotations: 2 -> 3",
                                               "  overlap_cohort_percentage: 100 -> 40"]
    project = conn.sdk.projects.get(id=project_id)
    assert (project.maximum_annotations, project.overlap_cohort_percentage) == (3, 40)
    assert project.show_collab_predictions is False  # not the command's to change back
    again = _cli(settings, "project", "--annotators-per-task", "3")
    assert again.output.splitlines()[1:] == ["  no setting changed"], again.output


def test_changed_guidelines_update_the_project_and_say_so(settings, fault_proxy):
    """The labelling config and instructions follow the schema and guidelines, and only when they differ."""
    from annotate.guidelines import instructions_html, load_guidelines
    from annotate.labelstudio.project import ensure_project
    from annotate.schema import load_schema

    project, _ = pipeline.push(settings, [_doc("a")])
    conn = connect(settings)
    schema = load_schema(settings.guidelines_dir)
    html = instructions_html(load_guidelines(settings.guidelines_dir), schema)
    assert ensure_project(conn, settings, schema, html).changes == ()
    fault_proxy.seen.clear()
    changed = ensure_project(conn, settings, schema, html + "<p>A new rule.</p>")
    assert [c.setting for c in changed.changes] == ["expert_instruction"]
    assert changed.changes[0].describe().startswith("expert_instruction: updated (")
    assert len(_project_patches(fault_proxy, project.id)) == 1
    assert "A new rule." in conn.sdk.projects.get(id=project.id).expert_instruction
    assert ensure_project(conn, settings, schema, html + "<p>A new rule.</p>").changes == ()
