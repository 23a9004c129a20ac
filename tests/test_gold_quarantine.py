"""What does not fit is quarantined, never raised: bad relations one by one (the spans still count), malformed
span items with their whole annotation; gold, export, disagreements and every dashboard page still work."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from gold_fixtures import ROOT, TEXT, project
from web_fixtures import APP_CONFIG, LEAD, login, make_project

from annotate.cli import main
from annotate.export import export_gold
from annotate.gold.adjudicate import build_gold
from annotate.labelstudio.convert import tasks_from_export
from annotate.records import Relation
from annotate.schema import load_schema
from annotate.web import create_app
from annotate.web.users import ensure_users

# TEXT: 0-6 Rebels (ACTOR), 7-13 seized (OUTCOME), 14-20 Aleppo (LOCATION)
REGIONS = {"r": (0, 6, "ACTOR"), "o": (7, 13, "OUTCOME"), "l": (14, 20, "LOCATION")}


def region(rid: str) -> dict[str, Any]:
    start, end, label = REGIONS[rid]
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}


def link(a: str, b: str, labels: list[str], direction: str = "right", **extra: Any) -> dict[str, Any]:
    return {"type": "relation", "from_id": a, "to_id": b, "direction": direction, "labels": labels, **extra}


def row(result: list[Any], extra: list[Any] = ()) -> dict[str, Any]:
    """One task: annotation 11 by a@x holds `result`; annotation 12 by b@x marks the three spans, no relation."""
    spans = [region(k) for k in REGIONS]
    anns = [{"id": 11, "completed_by": {"id": 1, "email": "a@x"}, "result": result},
            {"id": 12, "completed_by": {"id": 2, "email": "b@x"}, "result": spans}, *extra]
    return {"id": 5, "data": {"text": TEXT, "doc_id": "art-5"}, "annotations": anns}


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


SPANS = [region(k) for k in REGIONS]
BAD_RELATIONS = {
    # Label Studio's shape when the annotator never opened the relation's menu
    "no type": (link("r", "o", []), "relation r -> o has no type"),
    "no labels key": ({"type": "relation", "from_id": "r", "to_id": "o", "direction": "right"}, "has no type"),
    "several types": (link("r", "o", ["agent_of", "target_of"]), "several types ['agent_of', 'target_of']"),
    "unknown type": (link("r", "o", ["related"]), "unknown type 'related'; valid: agent_of, target_of, located_at"),
    "wrong direction": (link("l", "o", ["located_at"]),
                        "located_at goes from OUTCOME to LOCATION, not from LOCATION 'Aleppo' to OUTCOME 'seized'"),
    "drawn backwards": (link("o", "r", ["agent_of"]), "agent_of goes from ACTOR to OUTCOME, not from OUTCOME"),
    "left, wrong way": (link("r", "o", ["agent_of"], "left"), "not from OUTCOME 'seized' to ACTOR 'Rebels'"),
    "bidirectional": (link("r", "o", ["agent_of"], "bi"), "is bidirectional"),
    "end not a span": (link("r", "zz", ["agent_of"]), "'zz' is not a span of this annotation"),
    "no to_id": ({"type": "relation", "from_id": "r", "direction": "right", "labels": ["agent_of"]},
                 "'None' is not a span"),
    "odd direction": (link("r", "o", ["agent_of"], "up"), "direction 'up'"),
}


@pytest.mark.parametrize("case", sorted(BAD_RELATIONS))
def test_a_bad_relation_is_quarantined_alone_and_the_spans_count(schema, case):
    item, message = BAD_RELATIONS[case]
    good = link("o", "l", ["located_at"])
    (task,), quarantine = tasks_from_export([row([*SPANS, item, good])], schema)
    [q] = quarantine
    assert (q.task_id, q.article_id, q.annotator, q.annotation_id, q.scope) == (5, "art-5", "a@x", 11, "relation")
    assert message in q.reason and "task 5 (article art-5) annotation 11 by a@x" in q.reason
    a = task.annotations[0]
    assert [s.key for s in a.spans] == [REGIONS[k] for k in REGIONS]
    assert a.relations == (Relation("o", "l", "located_at"),)


def test_a_relation_drawn_backwards_with_direction_left_is_kept_source_to_target(schema):
    (task,), quarantine = tasks_from_export([row([*SPANS, link("o", "r", ["agent_of"], "left")])], schema)
    assert quarantine == [] and task.annotations[0].relations == (Relation("r", "o", "agent_of"),)


MALFORMED = {
    "no value": {"id": "x", "type": "labels"},
    "value a string": {"id": "x", "type": "labels", "value": "0-6"},
    "no start": {"id": "x", "type": "labels", "value": {"end": 6, "text": "Rebels", "labels": ["ACTOR"]}},
    "start a string": {"id": "x", "type": "labels", "value": {"start": "0", "end": 6, "text": "Rebels", "labels": ["ACTOR"]}},
    "start a fraction": {"id": "x", "type": "labels", "value": {"start": 0.5, "end": 6, "labels": ["ACTOR"]}},
    "start null": {"id": "x", "type": "labels", "value": {"start": None, "end": 6, "labels": ["ACTOR"]}},
    "unknown label": {"id": "x", "type": "labels", "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["PER"]}},
    "labels a string": {"id": "x", "type": "labels", "value": {"start": 0, "end": 6, "text": "Rebels", "labels": "ACTOR"}},
    "two labels": {"id": "x", "type": "labels",
                   "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["ACTOR", "OUTCOME"]}},
    "out of range": {"id": "x", "type": "labels", "value": {"start": 60, "end": 600, "labels": ["ACTOR"]}},
    "item a string": "Rebels",
    "meta a string": {"id": "x", "type": "labels", "meta": "m",
                      "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["ACTOR"]}},
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_span_item_quarantines_its_annotation_without_raising(schema, case):
    (task,), quarantine = tasks_from_export([row([region("o"), MALFORMED[case]])], schema)
    if case == "meta a string":  # a harmless oddity: the span is kept, without a source
        assert quarantine == [] and len(task.annotations[0].spans) == 2
        return
    [q] = quarantine
    assert (q.annotator, q.annotation_id, q.scope) == ("a@x", 11, "annotation")
    assert [a.annotator for a in task.annotations] == ["b@x"]


@pytest.mark.parametrize("result", ["not a list", {"a": 1}, 7])
def test_a_result_that_is_not_a_list_quarantines_the_annotation(schema, result):
    (task,), [q] = tasks_from_export([row(result)], schema)
    assert "not a list" in q.reason and [a.annotator for a in task.annotations] == ["b@x"]


def test_an_annotation_that_is_not_an_object_is_quarantined(schema):
    (task,), [q] = tasks_from_export([row(SPANS, extra=["oops"])], schema)
    assert "not an object" in q.reason and len(task.annotations) == 2


def test_a_malformed_prediction_is_quarantined_and_the_task_kept(schema):
    bad = {"id": 9, "model_version": "m1", "result": [{"type": "labels", "value": {"start": "x"}}]}
    (task,), [q] = tasks_from_export([{**row(SPANS), "predictions": [bad]}], schema)
    assert (q.scope, q.annotation_id, task.predictions) == ("prediction", 9, ())


def bad_rows() -> list[dict[str, Any]]:
    """Task 5 with an untyped relation (and a reversed one) beside good spans; task 6 with a broken span item."""
    first = row([*SPANS, link("r", "o", []), link("l", "o", ["located_at"]), link("r", "o", ["agent_of"])])
    first["annotations"][1]["result"].append(link("r", "o", ["agent_of"]))  # b@x agrees on the typed one
    second = {"id": 6, "data": {"text": TEXT, "doc_id": "art-6"}, "annotations": [
        {"id": 21, "completed_by": {"id": 1, "email": "a@x"}, "result": [region("r"), MALFORMED["no start"]]},
        {"id": 22, "completed_by": {"id": 2, "email": "b@x"}, "result": [region("r")]}]}
    return [first, second]


def test_gold_and_export_work_after_misfits(tmp_path, schema):
    tasks, quarantine = tasks_from_export(bad_rows(), schema)
    assert [(q.task_id, q.scope) for q in quarantine] == [(5, "relation"), (5, "relation"), (6, "annotation")]
    gold = build_gold(tasks, [], schema)
    assert [len(g.spans) for g in gold.tasks] == [3, 1]
    settings = project(tmp_path)
    notes = [q.reason for q in quarantine]
    with pytest.raises(Exception, match="3 quarantined problem") as info:  # the gate fails, the export is written
        export_gold(tasks, settings, quarantined=notes)
    row5 = json.loads((info.value.result.folder / "gold.jsonl").read_text().splitlines()[0])
    assert row5["relations"] == [{"from_id": "0-6-ACTOR", "to_id": "7-13-OUTCOME", "label": "agent_of"}]
    assert (settings.exports_dir / "gold" / "latest" / "gold.jsonl").exists()


def test_hand_built_tasks_with_foreign_labels_or_relations_are_quarantined_in_gold(schema):
    from gold_fixtures import ann, span, task

    rels = (Relation("r", "o", "related"), Relation("r", "o", "agent_of"), Relation("r", "gone", "agent_of"))
    t = task(1, [ann(1, "a", [span(0, 6, "PERSON")]),
                 ann(1, "b", [span(0, 6, "ACTOR", id="r"), span(7, 13, "OUTCOME", id="o")], relations=rels)])
    gold = build_gold([t], [], schema)
    assert [(p.kind, "relation left out" in p.message) for p in gold.problems] == [
        ("quarantined", False), ("quarantined", True), ("quarantined", True)]
    assert "unknown label(s) 'PERSON'" in gold.problems[0].message
    assert gold.tasks[0].relations == (Relation("0-6-ACTOR", "7-13-OUTCOME", "agent_of"),)


def test_disagreements_and_export_commands_run_on_such_an_export(tmp_path):
    project(tmp_path)
    path = tmp_path / "project-1.json"
    path.write_text(json.dumps(bad_rows()))
    runner = CliRunner()
    listed = runner.invoke(main, ["--root", str(tmp_path), "disagreements", "--from-export", str(path)])
    assert listed.exit_code == 0, listed.output
    assert "open disagreement(s)" in listed.stdout
    exported = runner.invoke(main, ["--root", str(tmp_path), "export", "--from-export", str(path)])
    assert exported.exit_code == 3 and "quarantined problem" in exported.output, exported.output
    assert (tmp_path / "exports" / "gold" / "latest" / "gold.jsonl").exists()


PAGES = ["/", "/documents/", "/documents/5", "/documents/6", "/agreement", "/model", "/exports", "/guidelines"]


def test_every_dashboard_page_answers_200_after_misfits(tmp_path):
    settings = make_project(tmp_path / "project", bad_rows())
    password = ensure_users(settings)[LEAD]
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, password).status_code == 302
    statuses = {page: client.get(page).status_code for page in PAGES}
    assert statuses == {page: 200 for page in PAGES}
    assert "3 quarantined (annotations or relations that do not fit)" in client.get("/").get_data(as_text=True)
    page = client.get("/documents/5").get_data(as_text=True).split('<section id="problems">')[1].split("</section>")[0]
    assert page.count("<b>quarantined relation</b>") == 2 and "relation r -&gt; o has no type" in page
    assert "<b>quarantined annotation</b>" in client.get("/documents/6").get_data(as_text=True)


@pytest.mark.parametrize(("value", "kept"), [
    ({"start": 14, "end": 20, "labels": ["LOCATION"]}, True),
    ({"start": 14, "end": 20, "text": None, "labels": ["LOCATION"]}, True),
    ({"start": 14, "end": 200, "labels": ["LOCATION"]}, False),  # offsets still have to fit
    ({"start": 14, "end": 20, "labels": ["PLACE"]}, False),  # and so does the label
    ({"start": 14, "end": 20, "text": "Idlib", "labels": ["LOCATION"]}, False),  # a text that is there must match
])
def test_a_span_without_text_is_kept_with_the_task_text(schema, value, kept):
    item = {"id": "x", "type": "labels", "from_name": "label", "to_name": "text", "value": value}
    (task,), quarantine = tasks_from_export([row([region("r"), item])], schema)
    spans = [(s.key, s.text) for a in task.annotations if a.annotator == "a@x" for s in a.spans]
    if kept:
        assert quarantine == [] and spans == [((0, 6, "ACTOR"), "Rebels"), ((14, 20, "LOCATION"), "Aleppo")]
    else:
        assert [q.annotation_id for q in quarantine] == [11] and spans == []
