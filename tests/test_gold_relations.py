"""Relations in adjudication: open relation disagreements, lead decisions on relations, precedence, the log."""

from __future__ import annotations

import json

import pytest
from gold_fixtures import ROOT, TEXT, ann, span, task

from annotate.errors import InputError, OffsetError, SchemaError
from annotate.gold.adjudicate import build_gold
from annotate.gold.decide import make_decision, make_relation_decision, parse_span_id, validate_relation_decision
from annotate.gold.decisions import Decision, RelationDecision, append_decision, load_decisions
from annotate.gold.relations import RelationDisagreement
from annotate.records import Relation
from annotate.schema import load_schema

REBELS, SEIZED, ALEPPO = (0, 6, "ACTOR"), (7, 13, "OUTCOME"), (14, 20, "LOCATION")
TROOPS, WITHDREW = (32, 49, "ACTOR"), (50, 58, "OUTCOME")
AGENT = Relation("0-6-ACTOR", "7-13-OUTCOME", "agent_of")


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def drawn(who: str, *rels: tuple[tuple, tuple, str], spans=(REBELS, SEIZED, ALEPPO), text: str = TEXT, **kw):
    """An annotation by `who` marking `spans` (ids as gold names them) and drawing `rels` between them."""
    marks = [span(*k, text=text, id=f"{k[0]}-{k[1]}-{k[2]}") for k in spans]
    relations = tuple(Relation(f"{a[0]}-{a[1]}-{a[2]}", f"{b[0]}-{b[1]}-{b[2]}", lab) for a, b, lab in rels)
    return ann(1, who, marks, relations=relations, **kw)


def two_drew_differently():
    """a draws Rebels -agent_of-> seized; b marks the same spans and draws nothing."""
    return task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("b")])


def rd(action: str, rel=(REBELS, SEIZED, "agent_of"), new: str | None = None, at: str = "t", by: str = "lead@x"):
    return make_relation_decision(two_drew_differently(), rel[0], rel[1], rel[2], action, by, "1.1.0", new_label=new,
                                  at=at)


# --- disagreements ---------------------------------------------------------------------------------------------

def test_a_relation_drawn_by_one_of_two_is_an_open_disagreement_not_dropped(schema):
    gold = build_gold([two_drew_differently()], [], schema).tasks[0]
    assert gold.relations == ()
    [d] = gold.disagreements
    assert isinstance(d, RelationDisagreement)
    assert (d.source, d.target, d.label, d.support, d.against) == (REBELS, SEIZED, "agent_of", ("a",), ("b",))
    assert (d.words, d.start, d.end) == ("Rebels —agent_of→ seized", 0, 13)
    assert gold.relation_disagreements == (d,) and gold.span_disagreements == ()


def test_a_relation_disagreement_as_a_dict_names_its_spans_by_id(schema):
    [d] = build_gold([two_drew_differently()], [], schema).disagreements
    assert d.to_dict() == {"kind": "relation", "task_id": 1, "article_id": "art-1", "label": "agent_of",
                           "from_id": "0-6-ACTOR", "from_text": "Rebels", "to_id": "7-13-OUTCOME",
                           "to_text": "seized", "start": 0, "end": 13, "support": ["a"], "against": ["b"],
                           "competing": []}


def test_two_types_on_the_same_spans_compete(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("b", (REBELS, SEIZED, "target_of"))])
    opened = build_gold([t], [], schema).tasks[0].disagreements
    assert [(d.label, d.competing) for d in opened] == [
        ("agent_of", ((REBELS, SEIZED, "target_of"),)), ("target_of", ((REBELS, SEIZED, "agent_of"),))]


def test_majority_of_three_is_gold_and_the_minority_relation_is_open(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("b", (REBELS, SEIZED, "agent_of")),
                 drawn("c", (SEIZED, ALEPPO, "located_at"))])
    gold = build_gold([t], [], schema).tasks[0]
    assert gold.relations == (AGENT,)
    assert [(d.label, d.support, d.against) for d in gold.disagreements] == [("located_at", ("c",), ("a", "b"))]


def test_span_and_relation_disagreements_are_listed_together_in_text_order(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of"), spans=(REBELS, SEIZED, ALEPPO)),
                 drawn("b", spans=(REBELS, SEIZED))])
    gold = build_gold([t], [], schema)
    assert [(d.kind, d.start, d.end) for d in gold.disagreements] == [("relation", 0, 13), ("span", 14, 20)]
    assert gold.tasks[0].status_text == "majority"


def test_open_relation_disagreements_keep_a_decided_task_in_adjudication(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of"), spans=(REBELS, SEIZED, ALEPPO)),
                 drawn("b", spans=(REBELS, SEIZED))])
    aleppo = make_decision(t, *ALEPPO, "accept", "lead@x", "1.1.0", at="1")
    gold = build_gold([t], [aleppo], schema).tasks[0]
    assert (gold.status, gold.status_text) == ("in_adjudication", "in adjudication (1 open)")


# --- decisions ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "new", "relations"), [
    ("accept", None, (AGENT,)),
    ("reject", None, ()),
    ("change", "target_of", (Relation("0-6-ACTOR", "7-13-OUTCOME", "target_of"),)),
])
def test_a_relation_decision_settles_the_disagreement(schema, action, new, relations):
    gold = build_gold([two_drew_differently()], [rd(action, new=new)], schema).tasks[0]
    assert (gold.status, gold.relations, gold.disagreements) == ("adjudicated", relations, ())
    assert gold.decided_relations == relations


def test_changing_the_type_settles_the_competing_type_too(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("b", (REBELS, SEIZED, "target_of"))])
    change = make_relation_decision(t, REBELS, SEIZED, "agent_of", "change", "l", "1", new_label="target_of", at="1")
    gold = build_gold([t], [change], schema).tasks[0]
    assert (gold.relations, gold.disagreements) == ((Relation("0-6-ACTOR", "7-13-OUTCOME", "target_of"),), ())


def test_a_later_relation_decision_supersedes_an_earlier_one(schema):
    gold = build_gold([two_drew_differently()], [rd("accept", at="1"), rd("reject", at="2")], schema).tasks[0]
    assert gold.relations == ()


def test_a_relation_follows_a_rejected_end_span(schema):
    t = two_drew_differently()
    reject_seized = make_decision(t, *SEIZED, "reject", "lead@x", "1", at="1")
    gold = build_gold([t], [reject_seized, rd("accept", at="2")], schema).tasks[0]
    assert (gold.relations, gold.disagreements, gold.status) == ((), (), "adjudicated")


def test_a_relation_follows_a_changed_end_span_and_its_decision_too(schema):
    t = two_drew_differently()
    wider = make_decision(t, *SEIZED, "change", "lead@x", "1", new=(7, 20, "OUTCOME"), at="1")
    gold = build_gold([t], [wider], schema).tasks[0]
    [d] = gold.disagreements  # still open, now on the new span
    assert (d.target, gold.status) == ((7, 20, "OUTCOME"), "in_adjudication")
    gold = build_gold([t], [wider, rd("accept", at="2")], schema).tasks[0]
    assert (gold.relations, gold.disagreements) == ((Relation("0-6-ACTOR", "7-20-OUTCOME", "agent_of"),), ())


def test_an_accepted_relation_whose_end_is_not_gold_is_reported_not_dropped_silently(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("b", spans=(REBELS,))])
    gold = build_gold([t], [rd("accept")], schema).tasks[0]
    assert gold.relations == () and gold.status == "in_adjudication"  # seized is still an open span
    [problem] = gold.problems
    assert (problem.kind, problem.where) == ("relation_end", "task 1")
    assert "span 7-13-OUTCOME is not in the gold" in problem.message


# --- precedence ------------------------------------------------------------------------------------------------

def test_ground_truth_relations_are_adopted_and_nothing_is_open(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("b", (REBELS, SEIZED, "agent_of")),
                 drawn("c", (REBELS, SEIZED, "target_of"), gt=True)])
    gold = build_gold([t], [], schema).tasks[0]
    assert (gold.status, gold.relations, gold.disagreements) == (
        "ground_truth", (Relation("0-6-ACTOR", "7-13-OUTCOME", "target_of"),), ())


def test_a_lead_decision_beats_ground_truth_for_relations_as_for_spans(schema):
    t = task(1, [drawn("c", (REBELS, SEIZED, "target_of"), gt=True)])
    reject = make_relation_decision(t, REBELS, SEIZED, "target_of", "reject", "l", "1", at="1")
    gold = build_gold([t], [reject], schema).tasks[0]
    assert (gold.status, gold.relations) == ("adjudicated", ())


def test_a_lead_annotation_is_adopted_for_relations(schema):
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of")), drawn("boss@x")])
    gold = build_gold([t], [], schema, leads=("boss@x",)).tasks[0]
    assert (gold.status, gold.relations, gold.disagreements) == ("lead", (), ())


def test_a_single_annotation_keeps_its_relations_as_is(schema):
    gold = build_gold([task(1, [drawn("a", (REBELS, SEIZED, "agent_of"))])], [], schema).tasks[0]
    assert (gold.status, gold.relations, gold.disagreements) == ("single", (AGENT,), ())


# --- the log ---------------------------------------------------------------------------------------------------

def test_relation_decisions_share_the_log_with_span_decisions_and_round_trip(tmp_path):
    path = tmp_path / "decisions.jsonl"
    span_line = make_decision(two_drew_differently(), *ALEPPO, "accept", "lead@x", "1.1.0", at="1")
    rel_line = rd("change", new="target_of", at="2")
    append_decision(path, span_line)
    append_decision(path, rel_line)
    assert load_decisions(path) == [span_line, rel_line]
    row = json.loads(path.read_text().splitlines()[1])
    assert (row["kind"], row["article_id"], row["guideline_version"], row["action"], row["new_label"]) == (
        "relation", "art-1", "1.1.0", "change", "target_of")
    assert row["relation"] == {"from": {"start": 0, "end": 6, "label": "ACTOR", "text": "Rebels"},
                               "to": {"start": 7, "end": 13, "label": "OUTCOME", "text": "seized"},
                               "label": "agent_of"}


def test_old_span_lines_without_kind_load_unchanged(tmp_path):
    path = tmp_path / "decisions.jsonl"
    old = {"task_id": 2, "span": {"start": 14, "end": 20, "label": "LOCATION", "text": "Aleppo"}, "action": "reject",
           "by": "lead@x", "at": "2024-12-01T00:00:00Z", "guideline_version": "1.0.0"}
    path.write_text(json.dumps(old) + "\n")
    [loaded] = load_decisions(path)
    assert isinstance(loaded, Decision) and (loaded.span.text, loaded.article_id, loaded.kind) == ("Aleppo", None,
                                                                                                   "span")


def test_a_relation_line_without_its_new_type_names_the_line(tmp_path):
    path = tmp_path / "decisions.jsonl"
    row = rd("change", new="target_of").to_dict()
    row["new_label"] = None
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError, match=r"decisions.jsonl:1: not a valid decision \(a change needs a `new_label`"):
        load_decisions(path)


def test_a_relation_decision_on_changed_text_is_stale_and_not_applied(schema):
    edited = TEXT.replace("seized", "seizes")
    t = task(1, [drawn("a", (REBELS, SEIZED, "agent_of"), text=edited), drawn("b", text=edited)], text=edited)
    gold = build_gold([t], [rd("accept")], schema)
    [problem] = gold.problems
    assert problem.kind == "stale_decision"
    assert problem.message == ("accept by lead@x at t on the agent_of relation's end OUTCOME 7-13 'seized': the "
                               "article's text there is 'seizes'; the decision is not applied")
    assert (gold.tasks[0].status, len(gold.tasks[0].disagreements)) == ("majority", 1)


def test_an_old_relation_line_without_article_id_matches_by_task_id(schema):
    row = rd("accept").to_dict()
    row.pop("article_id")
    gold = build_gold([two_drew_differently()], [RelationDecision.from_dict(row)], schema).tasks[0]
    assert (gold.relations, gold.status) == ((AGENT,), "adjudicated")


# --- validation ------------------------------------------------------------------------------------------------

def test_validate_accepts_a_relation_the_lead_draws_between_existing_spans(schema):
    t = two_drew_differently()
    validate_relation_decision(make_relation_decision(t, SEIZED, ALEPPO, "located_at", "accept", "l", "1"), t, schema)


def test_validate_accepts_an_end_that_only_the_gold_has(schema):
    t = two_drew_differently()
    d = make_relation_decision(t, REBELS, (7, 20, "OUTCOME"), "agent_of", "accept", "l", "1")
    with pytest.raises(OffsetError, match="7-20-OUTCOME is not a span of any annotation or of the gold"):
        validate_relation_decision(d, t, schema)
    validate_relation_decision(d, t, schema, gold_keys={(7, 20, "OUTCOME")})


@pytest.mark.parametrize(("rel", "action", "new", "error", "message"), [
    ((REBELS, SEIZED, "caused"), "accept", None, SchemaError, "unknown relation type 'caused'; valid: agent_of"),
    ((SEIZED, REBELS, "agent_of"), "accept", None, SchemaError,
     "agent_of goes from ACTOR to OUTCOME, not from OUTCOME 'seized' to ACTOR 'Rebels'"),
    ((REBELS, SEIZED, "agent_of"), "change", "located_at", SchemaError, "located_at goes from OUTCOME to LOCATION"),
    ((REBELS, SEIZED, "target_of"), "reject", None, OffsetError, "no annotation draws target_of from 0-6-ACTOR"),
    ((TROOPS, WITHDREW, "agent_of"), "accept", None, OffsetError, "32-49-ACTOR is not a span of any annotation"),
])
def test_validate_rejects_bad_relation_decisions(schema, rel, action, new, error, message):
    t = two_drew_differently()
    d = make_relation_decision(t, rel[0], rel[1], rel[2], action, "l", "1", new_label=new)
    with pytest.raises(error, match=message):
        validate_relation_decision(d, t, schema)


def test_only_leads_may_decide_on_relations(schema):
    with pytest.raises(InputError, match="not a lead"):
        validate_relation_decision(rd("accept", by="intruder@x"), two_drew_differently(), schema, leads=("boss@x",))


@pytest.mark.parametrize(("text", "key"), [("14-20-LOCATION", ALEPPO), ("0-6-ACTOR", REBELS)])
def test_parse_span_id_inverts_span_id(text, key):
    assert parse_span_id(text) == key


@pytest.mark.parametrize("text", ["14-20", "a-b-ACTOR", "14:20:ACTOR", ""])
def test_parse_span_id_names_the_shape(text):
    with pytest.raises(InputError, match="write START-END-LABEL"):
        parse_span_id(text)


# --- the CLI: disagreements and decide on relations ------------------------------------------------------------

def _region(rid: str, key: tuple[int, int, str]) -> dict:
    s, e, lab = key
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": TEXT[s:e], "labels": [lab]}}


def _ls_export() -> list[dict]:
    """a@x draws Rebels -agent_of-> seized; b@x marks the same two spans and no relation."""
    spans = [_region("r", REBELS), _region("o", SEIZED)]
    link = {"type": "relation", "from_id": "r", "to_id": "o", "direction": "right", "labels": ["agent_of"]}
    anns = [{"id": 1, "completed_by": {"id": 1, "email": "a@x"}, "result": [*spans, link]},
            {"id": 2, "completed_by": {"id": 2, "email": "b@x"}, "result": spans}]
    return [{"id": 1, "data": {"text": TEXT, "doc_id": "art-1"}, "annotations": anns}]


@pytest.fixture
def env(tmp_path):
    from gold_fixtures import project

    project(tmp_path)
    path = tmp_path / "project-1.json"
    path.write_text(json.dumps(_ls_export()))
    return tmp_path, path


def cli(root, *args):
    from click.testing import CliRunner

    from annotate.cli import main

    return CliRunner().invoke(main, ["--root", str(root), *args], catch_exceptions=False)


def test_cli_lists_the_relation_disagreement_in_text_and_json(env):
    root, path = env
    text = cli(root, "disagreements", "--from-export", str(path))
    assert ("task 1 relation Rebels —agent_of→ seized (0-6-ACTOR -> 7-13-OUTCOME): drawn by a@x; not by b@x"
            in text.stdout)
    assert "1 open disagreement(s) (0 span, 1 relation)" in text.stdout
    [row] = [json.loads(x) for x in cli(root, "disagreements", "--from-export", str(path), "--json").stdout.splitlines()]
    assert (row["kind"], row["from_id"], row["to_id"], row["label"], row["support"]) == (
        "relation", "0-6-ACTOR", "7-13-OUTCOME", "agent_of", ["a@x"])


@pytest.mark.parametrize(("flags", "expected"), [
    (["--accept"], ["agent_of"]), (["--reject"], []), (["--change-type", "target_of"], ["target_of"])])
def test_cli_decide_on_a_relation_then_nothing_is_open_and_the_gold_follows(env, flags, expected):
    root, path = env
    out = cli(root, "decide", "--from-export", str(path), "--task", "1", "--relation", "0-6-ACTOR", "7-13-OUTCOME",
              "agent_of", *flags, "--by", "lead@x", "--note", "the rebels did it")
    assert out.exit_code == 0, out.output
    change = " to target_of" if "--change-type" in flags else ""
    assert f"{change} task 1 relation Rebels —agent_of→ seized (0-6-ACTOR -> 7-13-OUTCOME) by lead@x" in out.output
    [line] = [json.loads(x) for x in (root / "exports" / "decisions.jsonl").read_text().splitlines()]
    assert (line["kind"], line["action"], line["note"], line["archive"], line["guideline_version"]) == (
        "relation", "change" if "--change-type" in flags else flags[0][2:], "the rebels did it", path.name, "1.1.0")
    assert cli(root, "disagreements", "--from-export", str(path)).stdout.strip() == "0 open disagreement(s)"
    exported = cli(root, "export", "--from-export", str(path))
    assert exported.exit_code == 0, exported.output
    [gold] = [json.loads(x) for x in (root / "exports/gold/latest/gold.jsonl").read_text().splitlines()]
    assert [r["label"] for r in gold["relations"]] == expected and gold["status"] == "adjudicated"


@pytest.mark.parametrize(("args", "message"), [
    (["--relation", "0-6-ACTOR", "7-13-OUTCOME", "caused", "--accept"], "unknown relation type 'caused'"),
    (["--relation", "7-13-OUTCOME", "0-6-ACTOR", "agent_of", "--accept"], "agent_of goes from ACTOR to OUTCOME"),
    (["--relation", "0-6-ACTOR", "7-13-OUTCOME", "agent_of", "--change-type", "located_at"],
     "located_at goes from OUTCOME to LOCATION"),
    (["--relation", "0-6-ACTOR", "14-20-LOCATION", "agent_of", "--accept"], "14-20-LOCATION is not a span of any"),
    (["--relation", "0-6", "7-13-OUTCOME", "agent_of", "--accept"], "'0-6' is not a span id"),
    (["--relation", "0-6-ACTOR", "7-13-OUTCOME", "target_of", "--reject"], "no annotation draws target_of"),
    (["--relation", "0-6-ACTOR", "7-13-OUTCOME", "agent_of"], "exactly one of --accept, --reject or --change-type"),
    (["--relation", "0-6-ACTOR", "7-13-OUTCOME", "agent_of", "--accept", "--reject"], "(got --accept and --reject)"),
    (["--relation", "0-6-ACTOR", "7-13-OUTCOME", "agent_of", "--change-to", "0", "6", "ACTOR"],
     "--change-to: not for a relation decision"),
    (["--start", "0", "--end", "6", "--label", "ACTOR", "--change-type", "agent_of"],
     "--change-type: not for a span decision"),
    (["--accept"], "a span decision needs --start, --end and --label"),
])
def test_cli_decide_on_a_relation_validates(env, args, message):
    root, path = env
    out = cli(root, "decide", "--from-export", str(path), "--task", "1", "--by", "l@x", *args)
    assert out.exit_code == 1 and message in out.output, out.output
    assert not (root / "exports" / "decisions.jsonl").exists()


def test_cli_decide_accepts_a_relation_to_a_span_only_the_gold_has(env):
    root, path = env
    changed = cli(root, "decide", "--from-export", str(path), "--task", "1", "--start", "7", "--end", "13",
                  "--label", "OUTCOME", "--change-to", "7", "20", "OUTCOME", "--by", "l@x")
    assert changed.exit_code == 0, changed.output
    out = cli(root, "decide", "--from-export", str(path), "--task", "1", "--relation", "0-6-ACTOR", "7-20-OUTCOME",
              "agent_of", "--accept", "--by", "l@x")
    assert out.exit_code == 0, out.output
    assert cli(root, "disagreements", "--from-export", str(path)).stdout.strip() == "0 open disagreement(s)"


def test_the_export_lists_and_counts_the_open_relation_and_the_card_has_relation_agreement(env):
    root, path = env
    out = cli(root, "export", "--from-export", str(path))
    assert out.exit_code == 0 and "1 open disagreements" in out.output, out.output
    latest = root / "exports" / "gold" / "latest"
    [row] = [json.loads(x) for x in (latest / "disagreements.jsonl").read_text().splitlines()]
    assert (row["kind"], row["from_id"], row["label"]) == ("relation", "0-6-ACTOR", "agent_of")
    [gold] = [json.loads(x) for x in (latest / "gold.jsonl").read_text().splitlines()]
    assert (gold["relations"], gold["open_disagreements"]) == ([], 1)
    card = (latest / "README.md").read_text()
    assert "- Open disagreements (spans and relations): 1" in card
    assert "Relation F1 (from span, to span, type) between annotators:" in card
    assert "| a@x | b@x | exact | 1 | 0.000 |" in card


def test_the_card_says_n_a_when_nobody_drew_a_relation(tmp_path):
    from gold_fixtures import project

    project(tmp_path)
    rows = _ls_export()
    rows[0]["annotations"][0]["result"] = rows[0]["annotations"][0]["result"][:2]
    path = tmp_path / "project-1.json"
    path.write_text(json.dumps(rows))
    assert cli(tmp_path, "export", "--from-export", str(path)).exit_code == 0
    card = (tmp_path / "exports" / "gold" / "latest" / "README.md").read_text()
    assert ("| a@x | b@x | exact | 1 | n/a |  | neither side has any relation on the shared tasks, so F1 is n/a "
            "(undefined: neither 1 nor 0) |") in card
