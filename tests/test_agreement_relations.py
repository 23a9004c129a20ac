"""Relation agreement between annotators: pairwise F1 over (from span, to span, type), per type and per pair."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from gold_fixtures import ROOT, TEXT, project

from annotate.agreement import agreement_report
from annotate.agreement.relations import overlap_tp
from annotate.agreement.render import render_report
from annotate.cli import main
from annotate.records import Annotation, Relation, Span, Task
from annotate.schema import load_schema

# Offsets in gold_fixtures.TEXT: 0-6 Rebels, 7-13 seized, 14-20 Aleppo, 32-49 Government troops, 50-58 withdrew
REBELS, SEIZED, ALEPPO = (0, 6, "ACTOR"), (7, 13, "OUTCOME"), (14, 20, "LOCATION")
TROOPS, WITHDREW = (32, 49, "ACTOR"), (50, 58, "OUTCOME")
SPANS = (REBELS, SEIZED, ALEPPO, TROOPS, WITHDREW)


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def sid(key: tuple[int, int, str]) -> str:
    return f"{key[0]}-{key[1]}-{key[2]}"


def annotation(task_id: int, who: str, rels: list[tuple], spans=SPANS) -> Annotation:
    marks = tuple(Span(s, e, lab, TEXT[s:e], id=sid((s, e, lab))) for s, e, lab in spans)
    return Annotation(task_id, f"art{task_id}", who, marks, tuple(Relation(sid(a), sid(b), t) for a, b, t in rels))


def task(task_id: int, *anns: Annotation) -> Task:
    return Task(task_id, f"art{task_id}", TEXT, annotations=anns)


def f1(report, **match):
    rows = [r for r in report["relation_f1"] if all(r[k] == v for k, v in match.items())]
    assert len(rows) == 1, (match, report["relation_f1"])
    return rows[0]


def run(tasks, schema):
    return agreement_report(tasks, schema, bootstrap=0, tokenize=lambda texts: [[] for _ in texts])


def test_per_type_and_pooled_f1(schema):
    # a: agent_of Rebels->seized, target_of troops->withdrew, located_at seized->Aleppo
    # b: agent_of Rebels->seized, agent_of troops->withdrew (type differs), no located_at
    a = annotation(1, "a", [(REBELS, SEIZED, "agent_of"), (TROOPS, WITHDREW, "target_of"), (SEIZED, ALEPPO, "located_at")])
    b = annotation(1, "b", [(REBELS, SEIZED, "agent_of"), (TROOPS, WITHDREW, "agent_of")])
    report = run([task(1, a, b)], schema)
    assert f1(report, label="all", mode="exact")["value"] == pytest.approx(2 * 1 / (3 + 2))
    agent = f1(report, label="agent_of", mode="exact")
    assert (agent["value"], agent["n_relations_a"], agent["n_relations_b"], agent["tp"]) == (2 * 1 / 3, 1, 2, 1)
    assert f1(report, label="target_of", mode="exact")["value"] == 0.0
    located = f1(report, label="located_at", mode="exact")
    assert (located["value"], located["reason"]) == (0.0, None)
    assert report["reasons"]["relation_f1"] is None


def test_overlap_mode_matches_ends_as_span_agreement_does(schema):
    # b's actor is "troops" (43-49) inside a's "Government troops" (32-49): exact misses, overlap matches.
    troops = (43, 49, "ACTOR")
    a = annotation(1, "a", [(TROOPS, WITHDREW, "target_of")])
    b = annotation(1, "b", [(troops, WITHDREW, "target_of")], spans=(troops, WITHDREW))
    report = run([task(1, a, b)], schema)
    assert f1(report, label="all", mode="exact")["value"] == 0.0
    assert f1(report, label="all", mode="overlap")["value"] == 1.0


def test_overlap_matching_is_one_to_one_and_the_largest():
    wide, left, right = (0, 20, "ACTOR"), (0, 5, "ACTOR"), (10, 20, "ACTOR")
    out = (30, 35, "OUTCOME")
    a = [(wide, out, "agent_of")]
    b = [(left, out, "agent_of"), (right, out, "agent_of")]
    assert overlap_tp(a, b) == 1 and overlap_tp(b, a) == 1
    assert overlap_tp([(left, out, "agent_of"), (wide, out, "agent_of")], [(left, out, "agent_of")]) == 1
    assert overlap_tp([(wide, out, "agent_of")], [(wide, out, "target_of")]) == 0


def test_per_pair_rows_and_the_pool(schema):
    agent = (REBELS, SEIZED, "agent_of")
    tasks = [task(1, annotation(1, "a", [agent]), annotation(1, "b", [agent])),
             task(2, annotation(2, "a", [agent]), annotation(2, "c", []))]
    report = run(tasks, schema)
    assert f1(report, annotator_a="a", annotator_b="b", label="all", mode="exact")["value"] == 1.0
    ac = f1(report, annotator_a="a", annotator_b="c", label="all", mode="exact")
    assert (ac["value"], ac["n_tasks"]) == (0.0, 1)
    pooled = f1(report, annotator_a="all", annotator_b="all", label="all", mode="exact")
    assert (pooled["value"], pooled["n_tasks"]) == (2 * 1 / 3, 2)
    assert not any(r["annotator_a"] == "b" and r["annotator_b"] == "c" for r in report["relation_f1"])  # no task


def test_no_relation_by_either_annotator_is_na_with_a_reason_not_one_or_zero(schema):
    tasks = [task(1, annotation(1, "a", []), annotation(1, "b", []))]
    report = run(tasks, schema)
    row = f1(report, label="all", mode="exact")
    assert (row["value"], row["reason"]) == (None, "neither side has any relation on the shared tasks, so F1 is n/a (undefined: neither 1 nor 0)")
    assert "neither 1 nor 0" in report["reasons"]["relation_f1"]
    json.dumps(report, allow_nan=False)
    text = render_report(report)
    section = text.split("Relation F1 between annotators")[1].split("Krippendorff's unitizing")[0]
    assert "n/a" in section and "neither side has any relation on the shared tasks" in section and "nan" not in section.lower()


def test_one_pair_with_relations_of_one_type_only_gives_na_for_the_others(schema):
    agent = (REBELS, SEIZED, "agent_of")
    report = run([task(1, annotation(1, "a", [agent]), annotation(1, "b", [agent]))], schema)
    assert f1(report, label="agent_of", mode="exact")["value"] == 1.0
    other = f1(report, label="located_at", mode="exact")
    assert (other["value"], other["reason"]) == (None, "neither side has any located_at relation on the shared "
                                                       "tasks, so F1 is n/a (undefined: neither 1 nor 0)")


def test_without_shared_tasks_the_section_says_why(schema):
    report = run([task(1, annotation(1, "a", [(REBELS, SEIZED, "agent_of")]))], schema)
    assert report["relation_f1"] == []
    assert "agreement needs two or more" in report["reasons"]["relation_f1"]


def test_a_resubmission_replaces_the_earlier_annotation(schema):
    agent = (REBELS, SEIZED, "agent_of")
    first = annotation(1, "a", [(REBELS, SEIZED, "target_of")])
    later = Annotation(1, "art1", "a", first.spans, (Relation(sid(REBELS), sid(SEIZED), "agent_of"),),
                       annotation_id=9, updated_at="2025-02-01")
    report = run([task(1, first, later, annotation(1, "b", [agent]))], schema)
    assert f1(report, label="all", mode="exact")["value"] == 1.0


# --- the CLI -----------------------------------------------------------------------------------------------

def _region(rid: str, key: tuple[int, int, str]) -> dict:
    s, e, lab = key
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": TEXT[s:e], "labels": [lab]}}


def _link(a: str, b: str, label: str) -> dict:
    return {"type": "relation", "from_id": a, "to_id": b, "direction": "right", "labels": [label]}


def ls_export() -> list[dict]:
    spans = [_region("r", REBELS), _region("o", SEIZED)]
    anns = [{"id": 1, "completed_by": {"id": 1, "email": "a@x"}, "result": [*spans, _link("r", "o", "agent_of")]},
            {"id": 2, "completed_by": {"id": 2, "email": "b@x"}, "result": [*spans, _link("r", "o", "target_of")]}]
    return [{"id": 1, "data": {"text": TEXT, "doc_id": "art-1"}, "annotations": anns}]


def test_agreement_json_has_relation_agreement(tmp_path):
    project(tmp_path)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(ls_export()))
    out = CliRunner().invoke(main, ["--root", str(tmp_path), "agreement", "--from-export", str(export), "--json",
                                    "--bootstrap", "0"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["report_version"] == 4  # 4: span F1 from annotate.scoring (sets; every null has a reason)
    assert f1(report, label="all", mode="exact")["value"] == 0.0
    assert f1(report, label="agent_of", mode="exact")["n_relations_a"] == 1
    text = CliRunner().invoke(main, ["--root", str(tmp_path), "agreement", "--from-export", str(export),
                                     "--bootstrap", "0"])
    assert "Relation F1 between annotators" in text.stdout and "n_relations_a" in text.stdout
