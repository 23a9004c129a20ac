"""Gold against a real Label Studio 1.23.2: what its API stores and pulls for annotators' misfits, spans without
text, annotations updated by someone else, and its UI JSON export next to a pull."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from gold_fixtures import project
from web_fixtures import APP_CONFIG, LEAD, login

from annotate import pipeline
from annotate.cli import main
from annotate.errors import InputError
from annotate.export import export_gold
from annotate.gold.adjudicate import build_gold
from annotate.labelstudio.archive import quarantine_path
from annotate.labelstudio.client import connect
from annotate.labelstudio.convert import read_export
from annotate.labelstudio.project import find_project
from annotate.records import Document, Span
from annotate.schema import load_schema
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
    project_id = find_project(conn, settings)
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
    assert pulled.exit_code == 0 and "quarantined 2 relation(s)" in pulled.output, pulled.output
    [archive] = (project_root / "exports" / "raw").glob("project-*-*Z.json")
    quarantine = [json.loads(x) for x in quarantine_path(archive).read_text().splitlines()]
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
    listed = conn.get_json("api/tasks/", {"project": find_project(conn, settings), "fields": "all"})
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


UI_TEXTS = {
    "u-1": "Rebels seized Aleppo on Monday. Government troops withdrew from Idlib.",
    "u-2": "Militants killed 11 people in Kabul. Police arrested two men.",
    "u-3": "The army shelled Homs overnight, residents said.",
}


def _predicted(doc_id: str, *pieces: tuple[str, str]) -> Document:
    text = UI_TEXTS[doc_id]
    spans = tuple(Span(text.index(p), text.index(p) + len(p), label, p, 0.8, "model") for p, label in pieces)
    return Document(doc_id, text, spans, {"title": doc_id, "source": "wire"}, "m-1")


def _ui_export(live_server, project_id: int, kind: str) -> bytes:
    """What the UI's Export button downloads (1.23.2: this endpoint, all tasks)."""
    response = httpx.get(f"{live_server.url}/api/projects/{project_id}/export", timeout=60,
                         params={"exportType": kind, "download_all_tasks": "true"},
                         headers={"Authorization": f"Token {live_server.token}"})
    assert response.status_code == 200, response.text[:300]
    return response.content


def test_a_ui_export_gives_the_gold_a_pull_gives(live_server, project_root, tmp_path, caplog):
    title = "t-gold-live-ui-export"
    docs = [_predicted("u-1", ("Rebels", "ACTOR"), ("seized", "OUTCOME"), ("Aleppo", "LOCATION")),
            _predicted("u-2", ("Militants", "ACTOR"), ("killed 11", "OUTCOME"), ("Kabul", "LOCATION")),
            _predicted("u-3", ("army", "ACTOR"), ("Homs", "OUTCOME"))]
    settings, conn, tasks = setup_project(live_server, project_root, title, docs)
    project_id = find_project(conn, settings)
    listed = conn.get_json("api/tasks/", {"project": project_id, "fields": "all"})["tasks"]
    preds = {t["data"]["doc_id"]: t["predictions"][0]["id"] for t in listed}
    alice, lead = user_id(conn, "alice@example.org"), user_id(conn, LEAD)

    def regions(doc_id: str, *pieces: tuple[str, str]) -> list[dict[str, Any]]:
        return [region(f"{doc_id}-{n}", p, label, UI_TEXTS[doc_id]) for n, (p, label) in enumerate(pieces)]

    # As the editor saves them: started from the prediction (parent_prediction), spans accepted or corrected.
    def save(doc_id: str, who: int, result: list[dict[str, Any]]) -> None:
        annotate_as(conn, tasks[doc_id], who, result, parent_prediction=preds[doc_id], lead_time=30.0)

    save("u-1", alice, regions("u-1", ("Rebels", "ACTOR"), ("seized", "OUTCOME"), ("Aleppo", "LOCATION")))
    save("u-1", lead, regions("u-1", ("Rebels", "ACTOR"), ("seized Aleppo", "OUTCOME"), ("Idlib", "LOCATION")))
    save("u-2", alice, regions("u-2", ("Militants", "ACTOR"), ("killed 11 people", "OUTCOME"), ("Kabul", "LOCATION")))
    save("u-2", lead, regions("u-2", ("Militants", "ACTOR"), ("killed 11 people", "OUTCOME"), ("Police", "ACTOR")))
    save("u-3", alice, regions("u-3", ("army", "ACTOR"), ("Homs", "LOCATION"), ("shelled", "OUTCOME")))

    pulled = pipeline.pull(settings)
    raw = _ui_export(live_server, project_id, "JSON")
    ui = json.loads(raw)
    # The UI export's shapes in 1.23.2: prediction ids only, integer annotators, the prediction inlined.
    first = next(t for t in ui if t["data"]["doc_id"] == "u-1")
    assert first["predictions"] == [preds["u-1"]]
    assert {a["completed_by"] for a in first["annotations"]} == {alice, lead}
    assert {a["prediction"]["id"] for a in first["annotations"]} == {preds["u-1"]}
    assert {a["parent_prediction"] for a in first["annotations"]} == {preds["u-1"]}
    path = tmp_path / "project-ui-export.json"
    path.write_bytes(raw)

    source = pipeline.read_tasks(settings, from_export=path)  # ids named through the API: the server is up
    from_pull = export_gold(pulled.tasks, settings, source="pull")
    from_ui = export_gold(source.tasks, settings, source="ui export")
    gold = (from_pull.folder / "gold.jsonl").read_bytes()
    assert (from_ui.folder / "gold.jsonl").read_bytes() == gold
    rows = {r["id"]: r for r in map(json.loads, gold.decode().splitlines())}
    assert (rows["u-1"]["status"], rows["u-1"]["annotators"]) == ("lead", ["alice@example.org", LEAD])
    origins = {s["text"]: (s["origin"], s["correction"]) for s in rows["u-1"]["spans"]}
    assert origins == {"Rebels": ("prediction", None), "seized Aleppo": ("corrected", "boundary"),
                       "Idlib": ("hand", None)}
    assert {s["text"]: s["origin"] for s in rows["u-3"]["spans"]}["Homs"] == "corrected"
    assert from_ui.counts == from_pull.counts

    # No server to ask: annotators stay user-<id>, leads are not recognised, and one warning says why.
    offline = project(tmp_path / "offline", leads=(LEAD,))
    caplog.clear()
    with caplog.at_level("WARNING"):
        alone = pipeline.read_tasks(offline, from_export=path)
    assert {a.annotator for t in alone.tasks for a in t.annotations} == {f"user-{alice}", f"user-{lead}"}
    warned = [r.getMessage() for r in caplog.records if "user-<id>" in r.getMessage()]
    assert len(warned) == 1 and "leads are not recognised" in warned[0]

    # Label Studio's other JSON-ish exports are not a pull: a one-line error says which export to use.
    for kind, name in (("JSON_MIN", "JSON_MIN"), ("CSV", "CSV")):
        other = tmp_path / f"export.{kind.lower()}"
        other.write_bytes(_ui_export(live_server, project_id, kind))
        with pytest.raises(InputError, match=f"Label Studio's {name} export.*export the project as JSON"):
            read_export(other)
