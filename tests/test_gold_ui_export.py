"""A Label Studio UI export is read for what it is: its inlined prediction is the task's prediction, its user ids
are named when a server can say who they are (else one warning), and its other export types, or a misshapen
export, are one-line errors naming the file (and the task)."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner
from gold_fixtures import ROOT, TEXT, project

from annotate.cli import main
from annotate.errors import InputError
from annotate.labelstudio.convert import read_export, tasks_from_export
from annotate.labelstudio.users import user_ids
from annotate.schema import load_schema

PREDICTION = {"id": 7, "model_version": "m-1", "score": 0.8, "result": [
    {"id": "p0", "from_name": "label", "to_name": "text", "type": "labels",
     "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["ACTOR"]}}]}


def ui_row() -> dict:
    """A task as 1.23.2's UI JSON export gives it: prediction ids, integer completed_by, the prediction inlined."""
    result = [{"id": "a", "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["ACTOR"]}}]
    anns = [{"id": n, "completed_by": who, "updated_by": who, "result": result, "parent_prediction": 7,
             "prediction": PREDICTION, "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}
            for n, who in ((1, 2), (2, 3))]
    return {"id": 4, "data": {"text": TEXT, "doc_id": "art-4"}, "predictions": [7], "annotations": anns}


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def test_the_inlined_prediction_becomes_the_tasks_prediction_once(schema):
    (task,), quarantine = tasks_from_export([ui_row()], schema, {2: "alice@x", 3: "lead@x"})
    assert quarantine == [] and [(p.prediction_id, p.model_version) for p in task.predictions] == [(7, "m-1")]
    assert [(a.annotator, a.parent_prediction) for a in task.annotations] == [("alice@x", 7), ("lead@x", 7)]


def test_a_full_prediction_is_not_doubled_by_the_inlined_one(schema):
    row = {**ui_row(), "predictions": [PREDICTION]}
    (task,), _ = tasks_from_export([row], schema)
    assert [p.prediction_id for p in task.predictions] == [7]


def test_unnamed_user_ids_are_user_n_with_one_warning(schema, caplog):
    with caplog.at_level(logging.WARNING):
        (task, _), _ = tasks_from_export([ui_row(), {**ui_row(), "id": 5}], schema, {2: "alice@x"})
    assert [a.annotator for a in task.annotations] == ["alice@x", "user-3"]
    warned = [r.getMessage() for r in caplog.records]
    assert len(warned) == 1 and "ids 3" in warned[0] and "configured leads are not recognised" in warned[0]


def test_user_ids_lists_the_integer_authors_and_editors():
    assert user_ids([ui_row(), {"id": 1, "data": {}, "annotations": [{"completed_by": {"id": 9, "email": "x"}}]}]) == {2, 3}


def test_read_export_without_a_server_names_no_one_and_warns(tmp_path, caplog):
    settings = project(tmp_path, leads=("lead@x",))
    path = tmp_path / "ui.json"
    path.write_text(json.dumps([ui_row()]))
    with caplog.at_level(logging.WARNING):
        out = CliRunner().invoke(main, ["--root", str(tmp_path), "export", "--from-export", str(path)])
    assert out.exit_code == 0, out.output
    assert [r.getMessage()[:34] for r in caplog.records] == ["2 annotator(s) appear as user-<id>"]
    gold = json.loads((settings.exports_dir / "gold" / "latest" / "gold.jsonl").read_text())
    assert (gold["annotators"], gold["spans"][0]["origin"]) == (["user-2", "user-3"], "prediction")


JSON_MIN = [{"text": TEXT, "doc_id": "art-1", "id": 1, "label": [{"start": 0, "end": 6, "text": "Rebels",
             "labels": ["ACTOR"]}], "annotator": 2, "annotation_id": 1, "created_at": "2025-01-01T00:00:00Z",
             "updated_at": "2025-01-01T00:00:00Z", "lead_time": 5.0}]
CSV = ('"annotation_id","annotator","created_at","doc_id","id","label","lead_time","text","updated_at"\n'
       '1,"2","2025-01-01T00:00:00Z","art-1",1,"[{""start"":0,""end"":6,""labels"":[""ACTOR""]}]",5.0,"x","y"\n')


@pytest.mark.parametrize(("content", "message"), [
    (json.dumps(JSON_MIN), "this is Label Studio's JSON_MIN export (one flat row per annotation"),
    (CSV, "this is Label Studio's CSV export; export the project as JSON instead"),
])
def test_other_export_types_say_to_export_json(tmp_path, content, message):
    path = tmp_path / "export.json"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_export(path)
    assert f"export.json: {message}" in str(info.value)


GOOD = {"id": 1, "data": {"text": TEXT}, "annotations": [], "predictions": []}


@pytest.mark.parametrize(("row", "message"), [
    ({**GOOD, "data": "Rebels seized Aleppo"}, "task 1 of the list (id 1): 'data' is str, not an object"),
    ({**GOOD, "id": "abc"}, "task 1 of the list: id 'abc' is not a task number"),
    ({**GOOD, "id": True}, "task 1 of the list: id True is not a task number"),
    ({k: v for k, v in GOOD.items() if k != "id"}, "task 1 of the list: id None is not a task number"),
    ({**GOOD, "annotations": {"id": 1}}, "task 1 of the list (id 1): 'annotations' is dict, not a list"),
    ({**GOOD, "predictions": "7"}, "task 1 of the list (id 1): 'predictions' is str, not a list"),
    ({**GOOD, "data": {"text": ["Rebels"]}}, "task 1 of the list (id 1): data.text is list, not the article text"),
    ([GOOD], "task 1 of the list: a JSON list, not an object"),
])
def test_a_misshapen_export_is_one_line_naming_file_and_task(tmp_path, row, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([GOOD, row]))
    with pytest.raises(InputError) as info:
        read_export(path)
    assert str(info.value).startswith(f"{path}: {message}")
    project(tmp_path)
    out = CliRunner().invoke(main, ["--root", str(tmp_path), "disagreements", "--from-export", str(path)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert out.stderr.startswith(f"Error: {path}: {message}") and out.stderr.count("\n") == 1
