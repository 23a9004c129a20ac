"""Overlapping spans within one annotation (forbidden by the guidelines, allowed by Label Studio) are reported as
"overlapping_spans" in the gold, problems.jsonl, the dataset card and the dashboard; "overlap" stays the DocBin kind."""

from __future__ import annotations

import json

import pytest
from gold_fixtures import ROOT, ann, project, span, task
from web_fixtures import APP_CONFIG, LEAD, login, make_project

from annotate.export import export_gold
from annotate.gold.adjudicate import build_gold
from annotate.gold.screening import overlapping_pairs
from annotate.schema import load_schema
from annotate.web import create_app
from annotate.web.users import ensure_users

GOV, GOV_TROOPS, TROOPS_WITHDREW = span(32, 42, "ACTOR"), span(32, 49, "ACTOR"), span(43, 58, "OUTCOME")


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def overlapping_task():
    """a@x marks "Government" inside "Government troops" and "troops withdrew" across it; b@x marks no overlap."""
    return task(1, [ann(1, "a@x", [span(0, 6, "ACTOR"), GOV, GOV_TROOPS, TROOPS_WITHDREW], aid=11),
                    ann(1, "b@x", [span(0, 6, "ACTOR"), GOV_TROOPS], aid=12)])


def test_overlapping_pairs_are_every_pair_sharing_a_character():
    pairs = overlapping_pairs([span(0, 6, "ACTOR"), TROOPS_WITHDREW, GOV_TROOPS, GOV, span(50, 58, "OUTCOME")])
    assert [(a.key, b.key) for a, b in pairs] == [
        (GOV.key, GOV_TROOPS.key), (GOV_TROOPS.key, TROOPS_WITHDREW.key), (TROOPS_WITHDREW.key, (50, 58, "OUTCOME"))]
    assert overlapping_pairs([span(0, 6, "ACTOR"), span(6, 13, "OUTCOME")]) == []  # touching is not overlapping


def test_gold_reports_each_pair_naming_annotator_task_and_spans(schema):
    gold = build_gold([overlapping_task()], [], schema)
    found = [(p.kind, p.where, p.message) for p in gold.problems]
    assert found == [
        ("overlapping_spans", "task 1", "annotation 11 by a@x: ACTOR 32-42 'Government' overlaps ACTOR 32-49 "
         "'Government troops' (the guidelines forbid overlapping spans)"),
        ("overlapping_spans", "task 1", "annotation 11 by a@x: ACTOR 32-49 'Government troops' overlaps OUTCOME "
         "43-58 'troops withdrew' (the guidelines forbid overlapping spans)")]
    assert gold.tasks[0].problems == gold.problems


def test_export_writes_them_to_problems_jsonl_and_the_card(tmp_path):
    result = export_gold([overlapping_task()], project(tmp_path))
    rows = [json.loads(x) for x in (result.folder / "problems.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in rows if r["kind"] == "overlapping_spans"] == ["overlapping_spans"] * 2
    assert "annotation 11 by a@x: ACTOR 32-42 'Government'" in rows[0]["message"]
    card = (result.folder / "README.md").read_text()
    assert "- overlapping_spans: 2 (two spans of one annotation overlap, which the guidelines forbid" in card
    assert result.counts["problems"]["overlapping_spans"] == 2


def test_they_do_not_fail_the_quality_gate(tmp_path):
    export_gold([overlapping_task()], project(tmp_path))  # no QualityGateError


TEXT = "Government troops withdrew from Idlib."


def _region(rid: str, start: int, end: int, label: str) -> dict:
    return {"id": rid, "type": "labels", "from_name": "label", "to_name": "text",
            "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}


def test_dashboard_shows_them_on_the_document_and_counts_them_on_the_overview(tmp_path):
    rows = [{"id": 3, "data": {"text": TEXT, "doc_id": "ov"}, "annotations": [
        {"id": 31, "completed_by": {"id": 1, "email": "amal@example.org"},
         "result": [_region("a", 0, 10, "ACTOR"), _region("b", 0, 17, "ACTOR"), _region("c", 18, 26, "OUTCOME")]}]}]
    settings = make_project(tmp_path / "project", rows)
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, ensure_users(settings)[LEAD]).status_code == 302
    page = client.get("/documents/3").get_data(as_text=True)
    section = page.split('<section id="problems">')[1].split("</section>")[0]
    assert "overlapping spans</b>: annotation 31 by amal@example.org: ACTOR 0-10 &#39;Government&#39; overlaps " \
           "ACTOR 0-17 &#39;Government troops&#39;" in section
    overview = client.get("/").get_data(as_text=True)
    card = overview.split('id="overlapping">')[1].split("</div>")[0]
    assert card == "<b>1</b><span>overlapping span pairs (within one annotation) in 1 tasks</span>"
