"""The callers of annotate.scoring agree: the same two annotations give evaluate, the export gate and the agreement
report the same span F1, and the same n/a (the empty case used to be 0.0, 1.0 and NaN in these three places)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agreement_fixtures import ACTOR, ALEPPO, IDLIB, KILLING, SEIZED, SOLDIERS, TEXT, annotation, span, task

from annotate.agreement import agreement_report
from annotate.evaluate import score_documents
from annotate.export import pooled_span_f1
from annotate.records import Document
from annotate.schema import load_schema
from annotate.training.compare import compare_systems, format_comparison

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    # a: 4 spans, b: 3, exact tp 2 -> 2*2/7; overlap adds "Rebels" [0,6) ~ "Rebels seized" [0,13) ACTOR -> 2*3/7
    "partial": ((ACTOR, SEIZED, IDLIB, KILLING), (span(0, 13, "ACTOR"), IDLIB, KILLING), 4 / 7, 6 / 7),
    "duplicate": ((ACTOR, ACTOR, IDLIB), (ACTOR, IDLIB), 1.0, 1.0),  # a span drawn twice is one span
    "disjoint": ((ACTOR,), (SOLDIERS, ALEPPO), 0.0, 0.0),
    "one side empty": ((ACTOR, IDLIB), (), 0.0, 0.0),
    "nothing marked": ((), (), None, None),  # n/a everywhere: was 0.0 (evaluate), 1.0 (gate), NaN (agreement)
}


@pytest.fixture(scope="module")
def schema():
    return load_schema(ROOT / "guidelines")


def three_ways(a: tuple, b: tuple, schema) -> dict[str, tuple]:
    """(exact, overlap) F1 and the exact reason from evaluate (a as gold), the gate, and the agreement report."""
    scores = score_documents([Document("art1", TEXT, a)], [Document("art1", TEXT, b)])
    tasks = [task(1, (annotation(1, "a", a), annotation(1, "b", b)))]
    report = agreement_report(tasks, schema, bootstrap=0)
    rows = {r["mode"]: r for r in report["span_f1"] if r["label"] == "all"}
    gate, gate_reason = pooled_span_f1(tasks)
    return {
        "evaluate": (scores["exact"]["overall"]["f1"], scores["overlap"]["overall"]["f1"],
                     scores["exact"]["overall"]["reason"]),
        "gate": (gate, None, gate_reason),
        "agreement": (rows["exact"]["value"], rows["overlap"]["value"], rows["exact"]["reason"]),
    }


@pytest.mark.parametrize("case", CASES)
def test_evaluate_gate_and_agreement_give_the_same_f1(case, schema):
    a, b, exact, overlap = CASES[case]
    got = three_ways(a, b, schema)
    for caller in got:
        assert got[caller][0] == (None if exact is None else pytest.approx(exact, abs=1e-4)), caller
    for caller in ("evaluate", "agreement"):
        assert got[caller][1] == (None if overlap is None else pytest.approx(overlap, abs=1e-4)), caller


def test_nothing_marked_is_na_with_the_one_reason_everywhere(schema):
    got = three_ways((), (), schema)
    reasons = {caller: value[2] for caller, value in got.items()}
    assert reasons == {
        "evaluate": "neither side has any span, so F1 is n/a (undefined: neither 1 nor 0)",
        "gate": "neither side has any span on the 1 task(s) with two or more annotations, so F1 is n/a (undefined: "
                "neither 1 nor 0)",
        "agreement": "neither side has any span on the shared tasks, so F1 is n/a (undefined: neither 1 nor 0)",
    }


def test_training_comparison_shows_na_with_the_reason():
    # The rules predicted nothing: their precision is n/a (None, it was 0.00), and the table must not format it.
    gold = [Document("d", TEXT, (ACTOR,))]
    scores = compare_systems(gold, {"trained": [Document("d", TEXT, (ACTOR,))], "rules": [Document("d", TEXT, ())]})
    table = format_comparison(scores)
    assert "0.000 (n/a/0.00)" in table and "1.000 (1.00/1.00)" in table
    assert "  ACTOR, rules: no predicted span, so precision is n/a" in table.splitlines()
