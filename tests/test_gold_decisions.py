"""The append-only decision log: reading, appending, validating, superseding."""

from __future__ import annotations

import json

import pytest
from gold_fixtures import ROOT, TEXT, ann, span, task

from annotate.errors import InputError, OffsetError, SchemaError
from annotate.gold.adjudicate import build_gold
from annotate.gold.decide import make_decision, validate_decision
from annotate.gold.decisions import Decision, append_decision, final_decisions, load_decisions
from annotate.schema import load_schema

TASK = task(5, [ann(5, "a", [span(0, 6, "ACTOR")]), ann(5, "b", [span(14, 20, "LOCATION")])])


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def test_make_decision_cuts_span_text_from_the_task():
    d = make_decision(TASK, 14, 20, "LOCATION", "accept", "lead@x", "1.0.0", at="2025-01-01T00:00:00Z")
    assert (d.span.text, d.article_id, d.key) == ("Aleppo", "art-5", ("art-5", (14, 20, "LOCATION")))


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



# --- keyed on the article ------------------------------------------------------------------------------------

OTHER = "Militants killed 11 people in Kabul. Police arrested two men."


def _two_annotators(task_id: int, article: str, text: str, disputed: tuple[int, int, str]) -> object:
    """b@x marks one more span than a@x: `disputed` is an open disagreement."""
    base = span(0, 6, "ACTOR", text)
    return task(task_id, [ann(task_id, "a@x", [base], article=article),
                          ann(task_id, "b@x", [base, span(*disputed, text)], article=article)],
                text=text, article=article)


def test_a_re_created_project_reusing_task_ids_does_not_misapply_decisions(schema):
    # Decided in the first project, where task 1 was art-A; the new project made art-A task 2 and art-B task 1.
    old = _two_annotators(1, "art-A", TEXT, (14, 20, "LOCATION"))
    log = [make_decision(old, 14, 20, "LOCATION", "reject", "lead@x", "1", at="1")]
    new = [_two_annotators(1, "art-B", OTHER, (30, 35, "LOCATION")), _two_annotators(2, "art-A", TEXT, (14, 20, "LOCATION"))]
    gold = {g.article_id: g for g in build_gold(new, log, schema).tasks}
    assert (gold["art-A"].status, gold["art-A"].disagreements) == ("adjudicated", ())
    assert (gold["art-B"].status, len(gold["art-B"].disagreements)) == ("majority", 1)


def _old_line(task_id: int, start: int, end: int, label: str, text: str) -> Decision:
    """A log line written before decisions carried the article id."""
    return Decision.from_dict({"task_id": task_id, "span": {"start": start, "end": end, "label": label, "text": text},
                               "action": "reject", "by": "lead@x", "at": "2024-12-01T00:00:00Z",
                               "guideline_version": "1.0.0"})


def test_old_lines_without_article_id_load_and_match_by_task_id_while_the_text_matches(schema, tmp_path):
    path = tmp_path / "decisions.jsonl"
    line = {"task_id": 2, "span": {"start": 14, "end": 20, "label": "LOCATION", "text": "Aleppo"}, "action": "reject",
            "by": "lead@x", "at": "2024-12-01T00:00:00Z", "guideline_version": "1.0.0"}
    path.write_text(json.dumps(line) + "\n")
    [loaded] = load_decisions(path)
    assert loaded.article_id is None
    gold = build_gold([_two_annotators(2, "art-A", TEXT, (14, 20, "LOCATION"))], [loaded], schema)
    assert (gold.tasks[0].status, gold.problems) == ("adjudicated", ())


def test_an_old_line_whose_task_id_now_names_another_article_is_reported_not_applied(schema):
    # Task 1 was "Rebels seized Aleppo ..." when decided; in the new project it is another article.
    log = [_old_line(1, 30, 35, "LOCATION", "Aleppo")]
    gold = build_gold([_two_annotators(1, "art-B", OTHER, (30, 35, "LOCATION"))], log, schema)
    assert (gold.tasks[0].status, len(gold.tasks[0].disagreements)) == ("majority", 1)
    [problem] = gold.problems
    assert (problem.kind, problem.where) == ("stale_decision", "task 1")
    assert problem.message == ("reject by lead@x at 2024-12-01T00:00:00Z on LOCATION 30-35 'Aleppo': the article's "
                               "text there is 'Kabul'; the decision is not applied")


def test_a_decision_on_an_article_whose_text_changed_is_reported_not_applied(schema):
    before = _two_annotators(4, "art-A", TEXT, (14, 20, "LOCATION"))
    log = [make_decision(before, 14, 20, "LOCATION", "reject", "lead@x", "1", at="1")]
    edited = TEXT.replace("Aleppo", "Alepo!")  # same article id, text edited and re-imported
    gold = build_gold([_two_annotators(7, "art-A", edited, (14, 20, "LOCATION"))], log, schema)
    assert [p.kind for p in gold.problems] == ["stale_decision"] and gold.tasks[0].status == "majority"


def test_a_change_whose_new_span_no_longer_fits_is_not_applied(schema):
    t = _two_annotators(4, "art-A", TEXT, (14, 20, "LOCATION"))
    change = make_decision(t, 14, 20, "LOCATION", "change", "lead@x", "1", new=(14, 30, "LOCATION"), at="1")
    shorter = _two_annotators(4, "art-A", TEXT[:25], (14, 20, "LOCATION"))
    gold = build_gold([shorter], [change], schema)
    assert [p.kind for p in gold.problems] == ["stale_decision"] and "out of range" in gold.problems[0].message


def test_a_decision_for_an_article_not_exported_names_the_article(schema):
    other = _two_annotators(3, "art-Z", TEXT, (14, 20, "LOCATION"))
    log = [make_decision(other, 14, 20, "LOCATION", "accept", "lead@x", "1", at="1")]
    gold = build_gold([_two_annotators(3, "art-A", TEXT, (14, 20, "LOCATION"))], log, schema)
    assert [(p.kind, p.where) for p in gold.problems] == [("decision", "article art-Z")]
    assert gold.tasks[0].status == "majority"
