"""An annotation saved by someone other than its author (Label Studio's `updated_by`) is reported as
"edited_by_other" and kept; the creating save of an annotation made on someone's behalf is not an edit."""

from __future__ import annotations

import json

import pytest
from gold_fixtures import ROOT, TEXT, project
from web_fixtures import APP_CONFIG, LEAD, login, make_project

from annotate.export import export_gold
from annotate.labelstudio.convert import editor_of, tasks_from_export
from annotate.schema import load_schema
from annotate.web import create_app
from annotate.web.users import ensure_users

CREATED = "2025-01-01T10:00:00.805575Z"


@pytest.mark.parametrize(("fields", "editor"), [
    ({}, None),  # an annotation imported with its task has no updated_by
    ({"updated_by": 2, "updated_at": "2025-01-02T10:00:00Z"}, None),  # the author saved it again
    ({"updated_by": {"id": 2, "email": "amal@x"}, "updated_at": "2025-01-02T10:00:00Z"}, None),
    ({"updated_by": 1, "updated_at": "2025-01-01T10:00:00.805609Z"}, None),  # created on amal's behalf by user 1
    ({"updated_by": 1, "updated_at": "2025-01-02T10:00:00Z"}, "user-1"),  # user 1 pressed Update later
    ({"updated_by": {"id": 1, "email": "lead@x"}, "updated_at": "2025-01-02T10:00:00Z"}, "lead@x"),  # a pull
    ({"updated_by": 1, "updated_at": None}, "user-1"),  # no times to tell: reported
])
def test_editor_of(fields, editor):
    ann = {"id": 5, "completed_by": {"id": 2, "email": "amal@x"}, "created_at": CREATED, **fields}
    assert editor_of(ann) == editor


def rows():
    result = [{"id": "r", "type": "labels", "from_name": "label", "to_name": "text",
               "value": {"start": 0, "end": 6, "text": "Rebels", "labels": ["ACTOR"]}}]
    return [{"id": 3, "data": {"text": TEXT, "doc_id": "art-3"}, "annotations": [
        {"id": 31, "completed_by": {"id": 2, "email": "amal@example.org"}, "result": result, "created_at": CREATED,
         "updated_at": "2025-01-03T09:00:00Z", "updated_by": {"id": 3, "email": "bilal@example.org"}}]}]


def test_export_reports_it_and_keeps_the_annotation(tmp_path):
    tasks, _ = tasks_from_export(rows(), load_schema(ROOT / "guidelines"))
    result = export_gold(tasks, project(tmp_path))  # not a gating problem
    problems = [json.loads(x) for x in (result.folder / "problems.jsonl").read_text().splitlines()]
    assert problems == [{"kind": "edited_by_other", "where": "task 3", "message": "annotation 31 by amal@example.org "
                         "was last updated by bilal@example.org; kept as amal@example.org's"}]
    assert json.loads((result.folder / "gold.jsonl").read_text())["annotators"] == ["amal@example.org"]
    assert "- edited_by_other: 1 (an annotation last saved by someone other than its author" in \
        (result.folder / "README.md").read_text()


def test_document_page_names_author_and_editor(tmp_path):
    settings = make_project(tmp_path / "project", rows())
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, ensure_users(settings)[LEAD]).status_code == 302
    section = client.get("/documents/3").get_data(as_text=True).split('<section id="problems">')[1]
    assert "edited by other</b>: annotation 31 by amal@example.org was last updated by bilal@example.org" in section
