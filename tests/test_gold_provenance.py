"""Provenance of gold spans: prediction accepted unchanged, corrected (boundary/label), or drawn by hand."""

from __future__ import annotations

import pytest
from gold_fixtures import ROOT, ann, span, task

from annotate.gold.adjudicate import build_gold
from annotate.gold.provenance import Origin, classify_span, parent_predictions
from annotate.records import Prediction
from annotate.schema import load_schema

PRED = Prediction("model-1", (span(0, 6, "ACTOR"), span(32, 42, "ACTOR"), span(50, 58, "OUTCOME")), prediction_id=11)
OTHER = Prediction("model-2", (span(14, 20, "LOCATION"),), prediction_id=12)


@pytest.mark.parametrize(("key", "expected"), [
    ((0, 6, "ACTOR"), Origin("prediction", None, "model-1", (0, 6, "ACTOR"))),
    ((0, 6, "LOCATION"), Origin("corrected", "label", "model-1", (0, 6, "ACTOR"))),
    ((32, 49, "ACTOR"), Origin("corrected", "boundary", "model-1", (32, 42, "ACTOR"))),
    ((50, 63, "LOCATION"), Origin("corrected", "boundary+label", "model-1", (50, 58, "OUTCOME"))),
    ((64, 69, "LOCATION"), Origin("hand")),
])
def test_classify_span(key, expected):
    assert classify_span(key, [PRED]) == expected


def test_parent_prediction_limits_the_comparison():
    t = task(1, [], predictions=(PRED, OTHER))
    assert parent_predictions(t, [ann(1, "a", [], parent=12)]) == (OTHER,)


def test_unknown_parent_compares_with_all_predictions():
    t = task(1, [], predictions=(PRED, OTHER))
    assert parent_predictions(t, [ann(1, "a", [], parent=None)]) == (PRED, OTHER)


def test_gold_spans_carry_origin_and_model_version():
    t = task(1, [ann(1, "a", [span(0, 6, "ACTOR"), span(32, 49, "ACTOR"), span(64, 69, "LOCATION")], parent=11)],
             predictions=(PRED, OTHER))
    gold = build_gold([t], [], load_schema(ROOT / "guidelines")).tasks[0]
    assert [(s.origin.origin, s.origin.correction, s.origin.model_version) for s in gold.spans] == [
        ("prediction", None, "model-1"), ("corrected", "boundary", "model-1"), ("hand", None, None)]


def test_span_from_another_prediction_than_the_parent_counts_as_hand_drawn():
    # The editor showed model-1 (parent 11); model-2's LOCATION was never shown, so matching it is chance.
    t = task(1, [ann(1, "a", [span(14, 20, "LOCATION")], parent=11)], predictions=(PRED, OTHER))
    gold = build_gold([t], [], load_schema(ROOT / "guidelines")).tasks[0]
    assert gold.spans[0].origin == Origin("hand")
