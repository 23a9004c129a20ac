"""scoring: the one definition of span matching, counts, P/R/F1 and the empty case, against hand-computed figures."""

from __future__ import annotations

import pytest

from annotate.records import Span
from annotate.scoring import (
    NA,
    Counts,
    count_matches,
    empty_reason,
    f1,
    match_spans,
    precision,
    prf,
    recall,
    show,
    undefined_reason,
)

TEXT = "ISIL fighters seized Saraqeb and killed 11 people in Idlib province."
#       0         1         2         3         4         5         6
#       0123456789012345678901234567890123456789012345678901234567890123456789


def sp(start: int, end: int, label: str = "ACTOR") -> Span:
    return Span(start, end, label, TEXT[start:end])


@pytest.mark.parametrize(
    ("gold", "pred", "mode", "expected"),
    [
        pytest.param([sp(0, 4), sp(21, 28, "LOCATION"), sp(33, 49, "OUTCOME")],
                     [sp(0, 4), sp(21, 27, "LOCATION"), sp(5, 13)], "exact",
                     {"ACTOR": Counts(1, 1, 0), "LOCATION": Counts(0, 1, 1), "OUTCOME": Counts(0, 0, 1)},
                     id="exact-per-label"),
        pytest.param([sp(0, 13)], [sp(0, 4, "LOCATION")], "overlap",
                     {"ACTOR": Counts(0, 0, 1), "LOCATION": Counts(0, 1, 0)}, id="overlap-needs-the-label"),
        pytest.param([sp(0, 4)], [sp(4, 13)], "overlap", {"ACTOR": Counts(0, 1, 1)}, id="touching-is-not-overlap"),
        pytest.param([sp(0, 13)], [sp(0, 4), sp(5, 13)], "overlap", {"ACTOR": Counts(1, 1, 0)},
                     id="overlap-one-to-one"),
        # A [0,30) overlaps X [0,4) and Y [21,28); B [20,29) only Y. Greedy A-Y leaves B out; the largest is A-X, B-Y.
        pytest.param([sp(0, 4), sp(21, 28)], [sp(0, 30), sp(20, 29)], "overlap", {"ACTOR": Counts(2, 0, 0)},
                     id="overlap-largest-not-greedy"),
        pytest.param([sp(0, 4)], [sp(0, 4), sp(0, 4)], "exact", {"ACTOR": Counts(1, 0, 0)}, id="duplicate-pred-exact"),
        pytest.param([sp(0, 4), sp(0, 4)], [sp(0, 4)], "exact", {"ACTOR": Counts(1, 0, 0)}, id="duplicate-gold-exact"),
        pytest.param([sp(0, 13)], [sp(0, 4), sp(0, 4)], "overlap", {"ACTOR": Counts(1, 0, 0)},
                     id="duplicate-pred-overlap"),
        pytest.param([sp(0, 4)], [], "exact", {"ACTOR": Counts(0, 0, 1)}, id="empty-pred"),
        pytest.param([], [sp(0, 4)], "overlap", {"ACTOR": Counts(0, 1, 0)}, id="empty-gold"),
        pytest.param([], [], "exact", {}, id="empty-both-exact"),
        pytest.param([], [], "overlap", {}, id="empty-both-overlap"),
    ],
)
def test_match_spans(gold: list[Span], pred: list[Span], mode: str, expected: dict[str, Counts]) -> None:
    assert match_spans(gold, pred, mode) == expected  # type: ignore[arg-type]
    assert count_matches(gold, pred, mode) == sum(expected.values(), Counts())  # type: ignore[arg-type]


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="exact"):
        match_spans([], [], "fuzzy")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("counts", "expected", "reason"),
    [
        # P = 2/3 = 0.6667, R = 2/4 = 0.5, F1 = 2*2 / (2*2 + 1 + 2) = 4/7 = 0.5714
        (Counts(2, 1, 2), (0.6667, 0.5, 0.5714), None),
        (Counts(4, 0, 0), (1.0, 1.0, 1.0), None),
        (Counts(0, 2, 2), (0.0, 0.0, 0.0), None),  # both sides have spans, none match: real disagreement, 0
        (Counts(0, 0, 3), (None, 0.0, 0.0), "no predicted span, so precision is n/a"),  # empty pred side
        (Counts(0, 3, 0), (0.0, None, 0.0), "no gold span, so recall is n/a"),  # empty gold side
        (Counts(0, 0, 0), (None, None, None), "neither side has any span, so F1 is n/a (undefined: neither 1 nor 0)"),
    ],
)
def test_prf(counts: Counts, expected: tuple, reason: str | None) -> None:
    r = prf(counts)
    assert (r["precision"], r["recall"], r["f1"], r["reason"]) == (*expected, reason)


def test_empty_case_is_none_not_one_zero_or_nan() -> None:
    empty = Counts()
    assert f1(empty) is None and precision(empty) is None and recall(empty) is None
    assert undefined_reason(empty, "relation", " on the shared tasks") == empty_reason("relation",
                                                                                         " on the shared tasks")
    assert empty_reason("ACTOR span") == "neither side has any ACTOR span, so F1 is n/a (undefined: neither 1 nor 0)"
    assert (show(None), show(0.5), show(None, 1)) == (NA, "0.500", "n/a")


@pytest.mark.parametrize(("tp", "n_gold", "n_pred"), [(0, 0, 0), (1, 2, 3), (2, 2, 2), (0, 4, 0)])
def test_f1_is_two_tp_over_both_sizes(tp: int, n_gold: int, n_pred: int) -> None:
    counts = Counts.from_sizes(tp, n_gold, n_pred)
    assert counts == Counts(tp, n_pred - tp, n_gold - tp)
    assert f1(counts) == (2 * tp / (n_gold + n_pred) if n_gold + n_pred else None)
