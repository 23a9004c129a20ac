"""Model-vs-human outcomes on hand-built cases of each kind, time per task and the rubber-stamp flag."""

from __future__ import annotations

import pandas as pd
import pytest
from agreement_fixtures import ACTOR, ALEPPO, IDLIB, KILLING, SEIZED, SOLDIERS, annotation, span, task

from annotate.agreement import tables as t
from annotate.agreement.annotators import rubber_stamping, time_per_task
from annotate.agreement.model_vs_human import OUTCOME, classify, outcome_table
from annotate.records import Prediction

LABELS = ["ACTOR", "LOCATION", "OUTCOME"]


def outcomes_for(predicted, final, parent=None, predictions=None) -> pd.DataFrame:
    preds = predictions or (Prediction("v1", tuple(predicted), prediction_id=1),)
    tables = t.build_tables([task(1, (annotation(1, "ann", tuple(final), parent=parent),), preds)])
    return classify(tables, LABELS)


@pytest.mark.parametrize(("predicted", "final", "expected"), [
    (ACTOR, ACTOR, "accepted"),
    (IDLIB, span(14, 22, "LOCATION"), "boundary_changed"),  # "Idlib on"
    (SOLDIERS, span(43, 51, "OUTCOME"), "relabelled"),
    (SOLDIERS, span(40, 51, "OUTCOME"), "relabelled"),  # relabelled and re-bounded: the label change wins
    (ALEPPO, None, "deleted"),
])
def test_each_predicted_outcome(predicted, final, expected):
    out = outcomes_for([predicted], [final] if final else [])
    assert out[OUTCOME].tolist() == [expected]


def test_human_span_without_prediction_is_added():
    out = outcomes_for([ACTOR], [ACTOR, KILLING])
    assert sorted(out[OUTCOME]) == ["accepted", "added"]
    assert out.loc[out[OUTCOME] == "added", t.LABEL].tolist() == ["OUTCOME"]


def test_parent_prediction_selects_the_prediction_compared():
    preds = (Prediction("v1", (ACTOR,), prediction_id=1), Prediction("v2", (SEIZED,), prediction_id=2))
    out = outcomes_for(None, [ACTOR], parent=2, predictions=preds)
    assert out[[t.MODEL_VERSION, OUTCOME]].values.tolist() == [["v2", "deleted"], ["v2", "added"]]


def test_without_parent_every_prediction_is_compared():
    preds = (Prediction("v1", (ACTOR,), prediction_id=1), Prediction("v2", (SEIZED,), prediction_id=2))
    out = outcomes_for(None, [ACTOR], predictions=preds)
    assert sorted(out[[t.MODEL_VERSION, OUTCOME]].values.tolist()) == [["v1", "accepted"], ["v2", "added"],
                                                                       ["v2", "deleted"]]


def test_breakdown_by_source_counts_and_rates():
    pred = Prediction("v1", (span(0, 6, "ACTOR", "rule"), span(57, 63, "LOCATION", "ner")), prediction_id=1)
    tables = t.build_tables([task(1, (annotation(1, "ann", (ACTOR,)),), (pred,))])
    table = outcome_table(classify(tables, LABELS), t.SOURCE).set_index("group")
    assert table.loc["rule", ["accepted", "deleted", "n_predicted", "accepted_rate"]].tolist() == [1, 0, 1, 1.0]
    assert table.loc["ner", ["accepted", "deleted", "accepted_rate"]].tolist() == [0, 1, 0.0]


def _team(fast_accepts: bool) -> t.Tables:
    """Six tasks; 'quick' accepts everything in 5 s when fast_accepts, the peers edit in 60 s."""
    pred = Prediction("v1", (ACTOR, IDLIB), prediction_id=1)
    tasks = []
    for i in range(6):
        quick = (ACTOR, IDLIB) if fast_accepts else (ACTOR,)
        tasks.append(task(i, (annotation(i, "quick", quick, lead_time=5.0 if fast_accepts else 60.0),
                              annotation(i, "slow", (ACTOR, span(14, 22, "LOCATION")), lead_time=60.0),
                              annotation(i, "slower", (ACTOR,), lead_time=70.0)), (pred,)))
    return t.build_tables(tasks)


def test_rubber_stamper_is_flagged_with_figures():
    tables = _team(fast_accepts=True)
    flags = rubber_stamping(tables, classify(tables, LABELS)).set_index(t.ANNOTATOR)
    assert flags.loc["quick", "flagged"] == True  # noqa: E712 (numpy/pandas bool)
    assert flags.loc["quick", ["accepted_rate", "median_seconds", "peer_median_seconds"]].tolist() == [1.0, 5.0, 65.0]
    assert flags.loc["slow", "flagged"] == False  # noqa: E712


def test_careful_annotator_is_not_flagged():
    tables = _team(fast_accepts=False)
    flags = rubber_stamping(tables, classify(tables, LABELS)).set_index(t.ANNOTATOR)
    assert not flags["flagged"].any()


def test_too_few_tasks_gives_reason_not_flag():
    tables = t.build_tables([task(1, (annotation(1, "ann", (ACTOR,)),), (Prediction("v1", (ACTOR,), 1),))])
    row = rubber_stamping(tables, classify(tables, LABELS)).iloc[0]
    assert row["flagged"] is None and "at least" in row["reason"]


def test_time_per_task_from_lead_time():
    tables = t.build_tables([task(i, (annotation(i, "ann", (), lead_time=lt),)) for i, lt in
                             enumerate([10.0, 20.0, None, 40.0])])
    row = time_per_task(tables).iloc[0]
    assert row[["n_tasks", "n_timed", "median_seconds", "total_seconds"]].tolist() == [4, 3, 20.0, 70.0]
