"""Gold against a real Label Studio 1.23.2: what its API stores and pulls for annotators' misfits, spans without
text, annotations updated by someone else, and its UI JSON export next to a pull."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from web_fixtures import APP_CONFIG, LEAD, login

from annotate import pipeline
from annotate.cli import main
from annotate.labelstudio.client import connect
from annotate.records import Document
from annotate.web import create_app
from annotate.web.users import ensure_users

pytestmark = pytest.mark.integration

TEXT = "Rebels seized Aleppo on Monday. Government troops withdrew from Idlib."


def region(rid: str, phrase: str, label: str, text: str = TEXT, *, with_text: bool = True) -> dict[str, Any]:
    start = text.index(phrase)
    value: dict[str, Any] = {"start": start, "end": start + len(phrase), "labels": [label]}
    if with_text:
        value["text"] = phrase
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "value": value}


def user_id(conn, email: str) -> int:
    for user in conn.sdk.users.list():
        if user.email == email:
            return int(user.id)
    return int(conn.sdk.users.create(username=email.split("@")[0], email=email, password="pw-annotate-1").id)


def setup_project(live_server, root: Path, title: str, docs: list[Document]) -> tuple[Any, Any, dict[str, int]]:
    """Push `docs` into a project of its own; the settings, a connection, and task id per article."""
    (root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\n', encoding="utf-8")
    settings = live_server.settings(root=root, project_title=title)
    pipeline.push(settings, docs)
    conn = connect(settings)
    project_id = pipeline.find_project(conn, settings)
    tasks = {t["data"]["doc_id"]: t["id"] for t in
             conn.get_json("api/tasks/", {"project": project_id, "fields": "all", "page_size": 100})["tasks"]}
    return settings, conn, tasks


def annotate_as(conn, task_id: int, who: int, result: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return conn.request_json("POST", f"api/tasks/{task_id}/annotations/",
                             json={"result": result, "completed_by": who, **extra})


def cli(root: Path, live_server, title: str, *args: str):
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": title}
    return CliRunner().invoke(main, ["--root", str(root), *args], env=env)


def test_untyped_and_reversed_relations_are_quarantined_and_nothing_stops(live_server, project_root):
    title = "t-gold-live-misfits"
    settings, conn, tasks = setup_project(live_server, project_root, title, [Document("m-1", TEXT, (), {"title": "m"})])
    alice, bob = user_id(conn, "alice@example.org"), user_id(conn, "bob@example.org")
    spans = [region("r", "Rebels", "ACTOR"), region("o", "seized", "OUTCOME"), region("l", "Aleppo", "LOCATION")]
    # What the editor stores when a relation's type was never picked, and an arrow drawn from the place.
    untyped = {"type": "relation", "from_id": "r", "to_id": "o", "direction": "right", "labels": []}
    reversed_ = {"type": "relation", "from_id": "l", "to_id": "o", "direction": "right", "labels": ["located_at"]}
    created = annotate_as(conn, tasks["m-1"], alice, [*spans, untyped, reversed_])
    annotate_as(conn, tasks["m-1"], bob, spans)
    # Label Studio 1.23.2 stores both as sent: no type is an empty list, the direction is not checked.
    stored = conn.get_json(f"api/annotations/{created['id']}/")["result"]
    assert [r for r in stored if r["type"] == "relation"] == [untyped, reversed_]

    pulled = cli(project_root, live_server, title, "pull")
    assert pulled.exit_code == 0 and "2 annotation(s) quarantined" in pulled.output, pulled.output
    [archive] = (project_root / "exports" / "raw").glob("project-*-*Z.json")
    quarantine = [json.loads(x) for x in pipeline.quarantine_path(archive).read_text().splitlines()]
    assert [(q["task_id"], q["article_id"], q["annotator"], q["annotation_id"], q["scope"]) for q in quarantine] == \
        [(tasks["m-1"], "m-1", "alice@example.org", created["id"], "relation")] * 2
    assert "has no type" in quarantine[0]["reason"] and "not from LOCATION 'Aleppo'" in quarantine[1]["reason"]
    gold = json.loads((project_root / "exports" / "gold" / "latest" / "gold.jsonl").read_text())
    assert [s["text"] for s in gold["spans"]] == ["Rebels", "seized", "Aleppo"] and gold["status"] == "majority"

    listed = cli(project_root, live_server, title, "disagreements")
    assert listed.exit_code == 0 and "0 open disagreement(s)" in listed.stdout, listed.output
    assert cli(project_root, live_server, title, "export").exit_code == 3

    password = ensure_users(settings)[LEAD]
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, password).status_code == 302
    pages = ["/", "/documents/", f"/documents/{tasks['m-1']}", "/agreement", "/model", "/exports", "/guidelines"]
    assert {p: client.get(p).status_code for p in pages} == {p: 200 for p in pages}


def test_a_span_saved_without_text_is_kept(live_server, project_root):
    title = "t-gold-live-no-text"
    settings, conn, tasks = setup_project(live_server, project_root, title, [Document("n-1", TEXT, (), {"title": "n"})])
    alice = user_id(conn, "alice@example.org")
    created = annotate_as(conn, tasks["n-1"], alice, [region("r", "Rebels", "ACTOR"),
                                                      region("l", "Aleppo", "LOCATION", with_text=False)])
    # Label Studio 1.23.2 accepts the region and hands it back as sent: no `text` key in `value`.
    stored = conn.get_json(f"api/annotations/{created['id']}/")["result"]
    assert "text" not in stored[1]["value"]
    result = pipeline.pull(settings)
    assert result.quarantine == []
    [task] = result.tasks
    assert [(s.key, s.text) for s in task.annotations[0].spans] == [((0, 6, "ACTOR"), "Rebels"),
                                                                    ((14, 20, "LOCATION"), "Aleppo")]
    exported = pipeline.write_gold(settings, result)
    gold = json.loads((project_root / "exports" / "gold" / "latest" / "gold.jsonl").read_text())
    assert [s["text"] for s in gold["spans"]] == ["Rebels", "Aleppo"], exported


def test_an_annotation_saved_by_someone_else_is_reported(live_server, project_root):
    import time

    from annotate.gold import build_gold
    from annotate.schema import load_schema

    title = "t-gold-live-edited"
    settings, conn, tasks = setup_project(live_server, project_root, title, [Document("e-1", TEXT, (), {"title": "e"})])
    alice, bob = user_id(conn, "alice@example.org"), user_id(conn, "bob@example.org")
    admin = conn.get_json("api/current-user/whoami")
    spans = [region("r", "Rebels", "ACTOR"), region("o", "seized", "OUTCOME")]
    own = annotate_as(conn, tasks["e-1"], alice, spans)
    other = annotate_as(conn, tasks["e-1"], bob, spans[:1])
    # Created through the API on their behalf: Label Studio 1.23.2 already names the creator (the admin) in
    # updated_by, within microseconds of created_at. That is not an edit.
    assert (own["completed_by"], own["updated_by"]) == (alice, admin["id"])
    time.sleep(1.5)
    # Someone else (here the admin, as a colleague pressing Update on bob's annotation) saves it again.
    patched = conn.request_json("PATCH", f"api/annotations/{other['id']}/", json={"result": spans})
    assert (patched["completed_by"], patched["updated_by"]) == (bob, admin["id"])
    listed = conn.get_json("api/tasks/", {"project": pipeline.find_project(conn, settings), "fields": "all"})
    assert {a["id"]: a["updated_by"] for a in listed["tasks"][0]["annotations"]} == {own["id"]: admin["id"],
                                                                                      other["id"]: admin["id"]}

    result = pipeline.pull(settings)
    [task] = result.tasks
    assert {a.annotator: a.edited_by for a in task.annotations} == {"alice@example.org": None,
                                                                    "bob@example.org": admin["email"]}
    gold = build_gold(result.tasks, [], load_schema(settings.guidelines_dir), settings.leads)
    assert [(p.kind, p.where, p.message) for p in gold.problems] == [
        ("edited_by_other", f"task {tasks['e-1']}", f"annotation {other['id']} by bob@example.org was last updated "
         f"by {admin['email']}; kept as bob@example.org's")]
    assert [s.text for s in gold.tasks[0].spans] == ["Rebels", "seized"]  # the edited annotation still counts
