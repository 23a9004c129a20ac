"""Relations on the way to Label Studio (the config's type menu, pre-drawn arcs in predictions, the ML backend) and
back (a prediction's relations are read; every misfit, an annotation's or a prediction's, is quarantined alone)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from annotate.labelstudio.convert import tasks_from_export
from annotate.labelstudio.labelconfig import build_label_config
from annotate.labelstudio.payloads import prediction_result, task_payload
from annotate.mlbackend.app import prediction
from annotate.records import Document, Relation, Span, span_id
from annotate.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
# From seeds/000: "Abdel Rahman also said ISIL summarily executed several rebels captured during the fighting."
TEXT = "Abdel Rahman also said ISIL summarily executed several rebels captured during the fighting."


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def span(word: str, label: str) -> Span:
    start = TEXT.index(word)
    return Span(start, start + len(word), label, word, 0.9, "rule", span_id(start, start + len(word), label))


ISIL, EXECUTED, REBELS = span("ISIL", "ACTOR"), span("executed", "OUTCOME"), span("rebels", "ACTOR")
DOC = Document("seed-0", TEXT, (ISIL, EXECUTED, REBELS), {}, "rules-1",
               (Relation(ISIL.id, EXECUTED.id, "agent_of"), Relation(REBELS.id, EXECUTED.id, "target_of")))


def test_the_config_offers_each_schema_relation_type_in_a_single_choice_menu(schema):
    config = build_label_config(schema)
    assert '<Relations choice="single">' in config
    offered = re.findall(r'<Relation value="([^"]+)" background="(#[0-9a-f]{6})"/>', config)
    assert [name for name, _ in offered] == [r.name for r in schema.relations] == ["agent_of", "target_of", "located_at"]
    assert len({colour for _, colour in offered}) == len(offered)  # each type's menu option has its own colour


def test_a_schema_without_relation_types_gets_no_relations_tag(schema):
    from dataclasses import replace

    assert "<Relations" not in build_label_config(replace(schema, relations=()))


def test_a_prediction_carries_the_documents_relations_between_its_span_ids():
    result = prediction_result(DOC)
    regions = [r["id"] for r in result if r["type"] == "labels"]
    assert regions == ["23-27-ACTOR", "38-46-OUTCOME", "55-61-ACTOR"]
    assert [r for r in result if r["type"] == "relation"] == [
        {"type": "relation", "from_id": "23-27-ACTOR", "to_id": "38-46-OUTCOME", "direction": "right",
         "labels": ["agent_of"]},
        {"type": "relation", "from_id": "55-61-ACTOR", "to_id": "38-46-OUTCOME", "direction": "right",
         "labels": ["target_of"]},
    ]
    assert all("#" not in rid for rid in regions)  # Label Studio cuts a region id at "#" (AreaMixin.cleanId)


def test_a_document_without_relations_has_only_span_items():
    plain = Document("d", TEXT, (ISIL,), {}, "rules-1")
    assert [r["type"] for r in prediction_result(plain)] == ["labels"]


def test_the_ml_backend_returns_the_same_prediction_as_the_push():
    assert prediction(DOC) == task_payload(DOC)["predictions"][0]
    assert sum(r["type"] == "relation" for r in prediction(DOC)["result"]) == 2


def as_pulled(prediction_json: dict[str, Any], annotations: list[dict[str, Any]] = ()) -> dict[str, Any]:
    """A task as the pull archives it: the pushed data, the prediction with the id Label Studio gave it."""
    task = task_payload(DOC)
    return {"id": 7, "data": task["data"], "predictions": [{"id": 70, **prediction_json}],
            "annotations": list(annotations)}


def test_a_pushed_prediction_comes_back_with_its_relations(schema):
    (task,), quarantine = tasks_from_export([as_pulled(task_payload(DOC)["predictions"][0])], schema)
    assert quarantine == []
    (pred,) = task.predictions
    assert (pred.model_version, pred.relations) == ("rules-1", DOC.relations)
    assert [s.key for s in pred.spans] == [s.key for s in DOC.spans]


def link(a: str, b: str, labels: list[str] | None, direction: str = "right") -> dict[str, Any]:
    item = {"type": "relation", "from_id": a, "to_id": b, "direction": direction}
    return item if labels is None else {**item, "labels": labels}


# The four ways Label Studio can store a relation that does not fit, and what the quarantine says.
MISFITS = {
    "no type": (link(ISIL.id, EXECUTED.id, None), "has no type"),
    "several types": (link(ISIL.id, EXECUTED.id, ["agent_of", "target_of"]), "several types"),
    "disallowed direction": (link(ISIL.id, EXECUTED.id, ["agent_of"], "bi"), "is bidirectional"),
    "end not a span": (link(ISIL.id, "x9", ["agent_of"]), "'x9' is not a span"),
}


@pytest.mark.parametrize("case", sorted(MISFITS))
def test_a_predicted_relation_that_does_not_fit_is_quarantined_as_the_models_and_the_spans_count(schema, case):
    item, message = MISFITS[case]
    pred = task_payload(DOC)["predictions"][0]
    pred = {**pred, "result": [*pred["result"], item]}
    (task,), [q] = tasks_from_export([as_pulled(pred)], schema)
    assert (q.task_id, q.annotator, q.annotation_id, q.scope) == (7, "model:rules-1", 70, "relation")
    assert message in q.reason and "task 7 (article seed-0) prediction 70" in q.reason
    assert task.predictions[0].relations == DOC.relations and len(task.predictions[0].spans) == 3


def test_all_four_misfits_of_one_annotation_are_quarantined_with_task_and_annotator_and_the_pull_goes_on(schema):
    regions = [r for r in prediction_result(DOC) if r["type"] == "labels"]
    ann = {"id": 71, "completed_by": {"id": 3, "email": "anna@x"}, "result": [
        *regions, *(item for item, _ in MISFITS.values()), link(REBELS.id, EXECUTED.id, ["target_of"])]}
    (task,), quarantine = tasks_from_export([as_pulled(task_payload(DOC)["predictions"][0], [ann])], schema)
    assert [(q.task_id, q.annotator, q.annotation_id, q.scope) for q in quarantine] == [(7, "anna@x", 71, "relation")] * 4
    for q, (_, message) in zip(quarantine, MISFITS.values(), strict=True):
        assert message in q.reason and "task 7 (article seed-0) annotation 71 by anna@x" in q.reason
    (kept,) = task.annotations
    assert kept.relations == (Relation(REBELS.id, EXECUTED.id, "target_of"),) and len(kept.spans) == 3
