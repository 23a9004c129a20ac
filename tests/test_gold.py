"""Adjudication rules of build_gold, on hand-built tasks (offsets in gold_fixtures.TEXT)."""

from __future__ import annotations

import pytest
from gold_fixtures import ROOT, TEXT, ann, span, task

from annotate.gold.adjudicate import build_gold
from annotate.gold.decisions import Decision
from annotate.records import Relation, Span
from annotate.schema import load_schema

ACTOR, SEIZED, ALEPPO = span(0, 6, "ACTOR"), span(7, 13, "OUTCOME"), span(14, 20, "LOCATION")
TROOPS, GOV_TROOPS = span(32, 42, "ACTOR"), span(32, 49, "ACTOR")


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def keys(task_gold):
    return [s.key for s in task_gold.spans]


def decision(task_id: int, s: Span, action: str, new: Span | None = None, by: str = "lead@x", at: str = "t") -> Decision:
    return Decision(task_id, s, action, by, at, "1.0.0", new)


def test_majority_of_three_keeps_spans_marked_by_two(schema):
    t = task(1, [ann(1, "a", [ACTOR, SEIZED]), ann(1, "b", [ACTOR, ALEPPO]), ann(1, "c", [ACTOR, SEIZED])])
    gold = build_gold([t], [], schema).tasks[0]
    assert (gold.status, keys(gold)) == ("majority", [ACTOR.key, SEIZED.key])


def test_partial_support_becomes_a_disagreement_naming_both_sides(schema):
    t = task(1, [ann(1, "a", [ACTOR, SEIZED]), ann(1, "b", [ACTOR, ALEPPO]), ann(1, "c", [ACTOR, SEIZED])])
    (d,) = build_gold([t], [], schema).disagreements
    assert (d.start, d.end, d.label, d.text, d.support, d.against) == (14, 20, "LOCATION", "Aleppo", ("b",), ("a", "c"))


def test_two_annotators_split_one_each_is_not_a_majority(schema):
    t = task(1, [ann(1, "a", [TROOPS]), ann(1, "b", [GOV_TROOPS])])
    gold = build_gold([t], [], schema).tasks[0]
    assert keys(gold) == []
    assert [(d.label, d.start, d.end, d.competing) for d in gold.disagreements] == [
        ("ACTOR", 32, 42, (GOV_TROOPS.key,)), ("ACTOR", 32, 49, (TROOPS.key,))]


def test_ground_truth_annotation_is_adopted_over_the_majority(schema):
    t = task(1, [ann(1, "a", [ACTOR]), ann(1, "b", [ACTOR]), ann(1, "c", [SEIZED], gt=True)])
    gold = build_gold([t], [], schema).tasks[0]
    assert (gold.status, keys(gold), gold.disagreements) == ("ground_truth", [SEIZED.key], ())


def test_annotation_by_a_configured_lead_is_adopted(schema):
    t = task(1, [ann(1, "a", [ACTOR]), ann(1, "b", [ACTOR]), ann(1, "boss@x", [ALEPPO])])
    gold = build_gold([t], [], schema, leads=("boss@x",)).tasks[0]
    assert (gold.status, keys(gold)) == ("lead", [ALEPPO.key])


def test_single_annotation_is_gold_and_flagged(schema):
    gold = build_gold([task(1, [ann(1, "a", [ACTOR, ALEPPO])])], [], schema).tasks[0]
    assert (gold.status, gold.single_annotated, keys(gold)) == ("single", True, [ACTOR.key, ALEPPO.key])


def test_cancelled_annotations_do_not_vote(schema):
    # Without the cancelled one, a and b both mark ACTOR: 2 of 2. With it counted, 2 of 3 (still gold) and
    # SEIZED would be a disagreement; so check SEIZED is not one.
    t = task(1, [ann(1, "a", [ACTOR]), ann(1, "b", [ACTOR]), ann(1, "c", [SEIZED], cancelled=True)])
    gold = build_gold([t], [], schema).tasks[0]
    assert (keys(gold), gold.disagreements, gold.annotators) == ([ACTOR.key], (), ("a", "b"))


def test_task_without_annotations_is_unannotated(schema):
    gold = build_gold([task(1, [ann(1, "a", [ACTOR], cancelled=True)])], [], schema).tasks[0]
    assert (gold.status, keys(gold)) == ("unannotated", [])


@pytest.mark.parametrize(("action", "new", "expected"), [
    ("accept", None, [ACTOR.key, ALEPPO.key]),
    ("reject", None, [ACTOR.key]),
    ("change", span(14, 30, "LOCATION"), [ACTOR.key, (14, 30, "LOCATION")]),
])
def test_lead_decision_settles_a_disagreement(schema, action, new, expected):
    t = task(1, [ann(1, "a", [ACTOR, ALEPPO]), ann(1, "b", [ACTOR])])
    gold = build_gold([t], [decision(1, ALEPPO, action, new)], schema).tasks[0]
    assert (gold.status, keys(gold), gold.disagreements) == ("adjudicated", expected, ())


def test_decision_beats_ground_truth(schema):
    t = task(1, [ann(1, "a", [ACTOR], gt=True)])
    gold = build_gold([t], [decision(1, ACTOR, "reject")], schema).tasks[0]
    assert (gold.status, keys(gold)) == ("adjudicated", [])


def test_later_decision_on_the_same_span_supersedes(schema):
    t = task(1, [ann(1, "a", [ACTOR, ALEPPO]), ann(1, "b", [ACTOR])])
    log = [decision(1, ALEPPO, "accept", at="1"), decision(1, ALEPPO, "reject", at="2")]
    assert keys(build_gold([t], log, schema).tasks[0]) == [ACTOR.key]


def test_accepted_span_records_the_decision_and_its_markers(schema):
    t = task(1, [ann(1, "a", [ACTOR, ALEPPO]), ann(1, "b", [ACTOR])])
    gold = build_gold([t], [decision(1, ALEPPO, "accept")], schema).tasks[0]
    aleppo = gold.spans[1]
    assert (aleppo.annotators, aleppo.decision.by, aleppo.decision.action) == (("a",), "lead@x", "accept")


def test_offset_error_quarantines_the_annotation_and_is_reported(schema):
    bad = Span(0, 6, "ACTOR", "Troops")
    t = task(1, [ann(1, "a", [bad], aid=7), ann(1, "b", [ALEPPO])])
    result = build_gold([t], [], schema)
    assert (result.tasks[0].status, keys(result.tasks[0])) == ("single", [ALEPPO.key])
    assert [p.kind for p in result.problems] == ["offset"]


def test_labels_from_another_schema_quarantine_the_annotation_clearly(schema):
    t = task(1, [ann(1, "a", [span(0, 6, "PERSON")], aid=3), ann(1, "b", [ALEPPO])])
    result = build_gold([t], [], schema)
    assert (result.tasks[0].status, keys(result.tasks[0])) == ("single", [ALEPPO.key])
    [problem] = result.problems
    assert (problem.kind, problem.where) == ("quarantined", "task 1")
    assert "annotation 3 by a: unknown label(s) 'PERSON'" in problem.message
    assert "valid labels: ACTOR, LOCATION, OUTCOME" in problem.message


def test_majority_relations_are_gold(schema):
    rel = (Relation("x", "y", "agent_of"),)
    spans_a = [span(0, 6, "ACTOR", id="x"), span(7, 13, "OUTCOME", id="y")]
    spans_b = [span(0, 6, "ACTOR", id="p"), span(7, 13, "OUTCOME", id="q")]
    t = task(1, [ann(1, "a", spans_a, relations=rel), ann(1, "b", spans_b, relations=(Relation("p", "q", "agent_of"),)),
                 ann(1, "c", spans_b)])
    gold = build_gold([t], [], schema).tasks[0]
    assert gold.relations == (Relation("0-6-ACTOR", "7-13-OUTCOME", "agent_of"),)


def test_relation_with_minority_support_is_dropped(schema):
    spans_a = [span(0, 6, "ACTOR", id="x"), span(7, 13, "OUTCOME", id="y")]
    t = task(1, [ann(1, "a", spans_a, relations=(Relation("x", "y", "target_of"),)), ann(1, "b", spans_a),
                 ann(1, "c", spans_a)])
    assert build_gold([t], [], schema).tasks[0].relations == ()


def test_changed_span_keeps_its_relations(schema):
    spans_a = [span(0, 6, "ACTOR", id="x"), span(7, 13, "OUTCOME", id="y")]
    t = task(1, [ann(1, "a", spans_a, relations=(Relation("x", "y", "agent_of"),))])
    wider = span(7, 20, "OUTCOME")
    gold = build_gold([t], [decision(1, spans_a[1], "change", wider)], schema).tasks[0]
    assert gold.relations == (Relation("0-6-ACTOR", "7-20-OUTCOME", "agent_of"),)


def test_decision_for_unknown_task_is_reported(schema):
    result = build_gold([task(1, [ann(1, "a", [ACTOR])])], [decision(99, ACTOR, "accept")], schema)
    assert [(p.kind, p.where) for p in result.problems] == [("decision", "task 99")]


def test_status_counts_list_every_status(schema):
    tasks = [task(1, [ann(1, "a", [ACTOR])]), task(2, [])]
    assert build_gold(tasks, [], schema).status_counts() == {
        "adjudicated": 0, "in_adjudication": 0, "ground_truth": 0, "lead": 0, "majority": 0, "single": 1,
        "unannotated": 1}


# Ten words of TEXT, each marked by one of two annotators only: ten open disagreements on one task.
WORDS = [(0, 6), (7, 13), (14, 20), (21, 23), (24, 30), (32, 42), (43, 49), (50, 58), (59, 63), (64, 69)]


def test_one_decision_out_of_ten_leaves_the_task_in_adjudication(schema):
    marks = [span(s, e, "ACTOR") for s, e in WORDS]
    t = task(1, [ann(1, "a", marks[::2]), ann(1, "b", marks[1::2])])
    assert len(build_gold([t], [], schema).disagreements) == 10
    gold = build_gold([t], [decision(1, marks[0], "accept")], schema)
    [one] = gold.tasks
    assert (one.status, len(one.disagreements), one.status_text) == ("in_adjudication", 9, "in adjudication (9 open)")
    assert gold.status_counts()["adjudicated"] == 0 and gold.status_counts()["in_adjudication"] == 1
    everything = [decision(1, m, "reject") for m in marks]
    [done] = build_gold([t], everything, schema).tasks
    assert (done.status, done.disagreements, done.status_text) == ("adjudicated", (), "adjudicated")


def test_text_constant_matches_the_offsets_used_here():
    assert (TEXT[0:6], TEXT[7:13], TEXT[14:20], TEXT[32:49]) == ("Rebels", "seized", "Aleppo", "Government troops")


def test_an_annotator_who_annotated_a_task_twice_votes_once_with_the_latest(schema):
    """Label Studio lets one person add a second annotation to a task; it replaces the first (records.Task.final),
    in the gold vote as in agreement: two annotations by a@x must not outvote b@x."""
    first = ann(1, "a@x", [ACTOR], aid=10)
    second = ann(1, "a@x", [ACTOR, ALEPPO], aid=11)
    gold = build_gold([task(1, [first, second, ann(1, "b@x", [ALEPPO], aid=12)])], [], schema).tasks[0]
    assert gold.annotators == ("a@x", "b@x")
    assert (gold.status, keys(gold)) == ("majority", [ALEPPO.key])  # Rebels: one of two annotators, not a majority


def test_the_export_gate_pairs_annotators_not_annotations():
    from annotate.export import pooled_span_f1

    same_person = task(1, [ann(1, "a@x", [ACTOR], aid=1), ann(1, "a@x", [ALEPPO], aid=2)])
    assert pooled_span_f1([same_person]) == (None, "no task has annotations by two or more annotators")
    two_people = task(2, [ann(2, "a@x", [ACTOR], aid=1), ann(2, "a@x", [ALEPPO], aid=2),
                          ann(2, "b@x", [ALEPPO], aid=3)])
    assert pooled_span_f1([two_people]) == (1.0, None)  # a@x's latest (Aleppo) against b@x's, not a@x against a@x
