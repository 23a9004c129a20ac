"""The append-only decision log: reading, appending, validating, superseding."""

from __future__ import annotations

import json

import pytest
from gold_fixtures import ROOT, ann, span, task

from annotate.decisions import append_decision, final_decisions, load_decisions, make_decision, validate_decision
from annotate.errors import InputError, OffsetError, SchemaError
from annotate.schema import load_schema

TASK = task(5, [ann(5, "a", [span(0, 6, "ACTOR")]), ann(5, "b", [span(14, 20, "LOCATION")])])


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def test_make_decision_cuts_span_text_from_the_task():
    d = make_decision(TASK, 14, 20, "LOCATION", "accept", "lead@x", "1.0.0", at="2025-01-01T00:00:00Z")
    assert (d.span.text, d.article_id, d.key) == ("Aleppo", "art-5", (5, (14, 20, "LOCATION")))


def test_append_then_load_round_trips_in_order(tmp_path):
    path = tmp_path / "decisions.jsonl"
    first = make_decision(TASK, 0, 6, "ACTOR", "reject", "lead@x", "1.0.0", at="1", note="a source, not a party")
    second = make_decision(TASK, 14, 20, "LOCATION", "change", "lead@x", "1.0.0", new=(14, 30, "LOCATION"), at="2")
    append_decision(path, first)
    append_decision(path, second)
    assert load_decisions(path) == [first, second]


def test_append_never_rewrites_earlier_lines(tmp_path):
    path = tmp_path / "decisions.jsonl"
    append_decision(path, make_decision(TASK, 0, 6, "ACTOR", "accept", "l", "1", at="1"))
    before = path.read_bytes()
    append_decision(path, make_decision(TASK, 0, 6, "ACTOR", "reject", "l", "1", at="2"))
    after = path.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2


def test_log_lines_carry_who_when_what_and_guideline_version(tmp_path):
    path = tmp_path / "decisions.jsonl"
    append_decision(path, make_decision(TASK, 0, 6, "ACTOR", "accept", "lead@x", "1.1.0", at="2025-01-01T00:00:00Z"))
    row = json.loads(path.read_text())
    assert (row["by"], row["at"], row["task_id"], row["span"], row["action"], row["guideline_version"]) == (
        "lead@x", "2025-01-01T00:00:00Z", 5, {"start": 0, "end": 6, "label": "ACTOR", "text": "Rebels"}, "accept",
        "1.1.0")


def test_missing_log_is_empty(tmp_path):
    assert load_decisions(tmp_path / "nope.jsonl") == []


def test_truncated_log_names_file_and_line(tmp_path):
    path = tmp_path / "decisions.jsonl"
    append_decision(path, make_decision(TASK, 0, 6, "ACTOR", "accept", "l", "1", at="1"))
    with path.open("a") as handle:
        handle.write('{"task_id": 5, "span": {"st')
    with pytest.raises(InputError, match=r"decisions.jsonl:2: not a valid decision"):
        load_decisions(path)


def test_append_refuses_to_glue_onto_a_partial_line(tmp_path):
    path = tmp_path / "decisions.jsonl"
    path.write_text('{"task_id": 5')
    with pytest.raises(InputError, match="last line is incomplete"):
        append_decision(path, make_decision(TASK, 0, 6, "ACTOR", "accept", "l", "1", at="1"))
    assert path.read_text() == '{"task_id": 5'


def test_final_decisions_keep_the_last_per_span_in_log_order():
    a1 = make_decision(TASK, 0, 6, "ACTOR", "accept", "l", "1", at="1")
    b = make_decision(TASK, 14, 20, "LOCATION", "accept", "l", "1", at="2")
    a2 = make_decision(TASK, 0, 6, "ACTOR", "reject", "l", "1", at="3")
    assert final_decisions([a1, b, a2]) == [b, a2]


@pytest.mark.parametrize(("args", "error", "message"), [
    ((0, 6, "PERSON", "accept"), SchemaError, "unknown label 'PERSON'"),
    ((0, 99, "ACTOR", "accept"), OffsetError, "out of range"),
    ((7, 13, "OUTCOME", "reject"), OffsetError, "no annotation contains span 7-13 OUTCOME; spans on this task: 0-6 ACTOR"),
])
def test_validate_rejects_bad_decisions(schema, args, error, message):
    start, end, label, action = args
    with pytest.raises(error, match=message):
        validate_decision(make_decision(TASK, start, end, label, action, "l", "1", at="1"), TASK, schema)


def test_validate_checks_the_new_span_label(schema):
    d = make_decision(TASK, 0, 6, "ACTOR", "change", "l", "1", new=(0, 6, "PERSON"), at="1")
    with pytest.raises(SchemaError, match="PERSON"):
        validate_decision(d, TASK, schema)


def test_validate_accepts_a_new_span_drawn_by_the_lead(schema):
    validate_decision(make_decision(TASK, 7, 13, "OUTCOME", "accept", "l", "1", at="1"), TASK, schema)


def test_only_configured_leads_may_decide(schema):
    d = make_decision(TASK, 0, 6, "ACTOR", "accept", "intruder@x", "1", at="1")
    with pytest.raises(InputError, match="not a lead; leads: boss@x"):
        validate_decision(d, TASK, schema, leads=("boss@x",))
