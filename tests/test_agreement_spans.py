"""Vectorised span matching gives exactly annotate.scoring.match_spans' counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from annotate import scoring
from annotate.agreement import tables as t
from annotate.agreement.spans import counts_of, f1_from_counts, match_counts
from annotate.records import Span

LABELS = ["ACTOR", "LOCATION", "OUTCOME"]


def frame(rows: list[tuple[int, int, int, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[t.DOC, t.START, t.END, t.LABEL]).astype({t.DOC: np.int64, t.START: np.int64,
                                                                                t.END: np.int64})


def random_spans(rng: np.random.Generator, n_docs: int, n: int) -> list[tuple[int, int, int, str]]:
    starts = rng.integers(0, 80, n)
    return [(int(rng.integers(n_docs)), int(s), int(s + rng.integers(1, 12)), str(rng.choice(LABELS))) for s in starts]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("mode", ["exact", "overlap"])
def test_counts_equal_match_spans_on_random_overlapping_spans(seed, mode):
    rng = np.random.default_rng(seed)
    a, b = random_spans(rng, 4, 40), random_spans(rng, 4, 40)
    a += a[:3]  # duplicates within one side
    b += [a[5]]  # an exact match
    counts = match_counts(frame(a), frame(b), LABELS, 4, 200)
    for doc in range(4):
        gold = [Span(s, e, lab, "") for d, s, e, lab in a if d == doc]
        pred = [Span(s, e, lab, "") for d, s, e, lab in b if d == doc]
        expected = scoring.match_spans(gold, pred, mode)
        for li, label in enumerate(LABELS):
            tp = expected[label].tp if label in expected else 0
            assert counts[doc, li, 2 if mode == "exact" else 3] == tp, (doc, label)
            assert counts[doc, li, 0] == len({s.key for s in gold if s.label == label})  # a duplicate is one span


def test_one_long_span_against_two_short_ones_matches_once():
    counts = match_counts(frame([(0, 0, 20, "ACTOR")]), frame([(0, 0, 5, "ACTOR"), (0, 10, 15, "ACTOR")]),
                          LABELS, 1, 100)
    assert counts[0, 0].tolist() == [1, 2, 0, 1]
    assert f1_from_counts(counts[0, 0], "overlap") == pytest.approx(2 * 1 / 3)


def test_labels_outside_the_schema_are_ignored():
    counts = match_counts(frame([(0, 0, 5, "WEAPON")]), frame([(0, 0, 5, "WEAPON")]), LABELS, 1, 100)
    assert counts.sum() == 0


@pytest.mark.parametrize("mode", ["exact", "overlap"])
def test_vectorised_f1_is_scoring_f1_with_nan_for_none(mode):
    # Every small count combination, the empty one included: NaN exactly where scoring.f1 says None (n/a).
    grid = np.array([(a, b, e, o) for a in range(4) for b in range(4) for e in range(min(a, b) + 1)
                     for o in range(e, min(a, b) + 1)], dtype=np.float64)
    got = f1_from_counts(grid, mode)
    for row, value in zip(grid, got, strict=True):
        expected = scoring.f1(counts_of(row, mode))
        assert (np.isnan(value) if expected is None else value == pytest.approx(expected)), row


def test_a_span_drawn_twice_is_one_span():
    counts = match_counts(frame([(0, 0, 5, "ACTOR"), (0, 0, 5, "ACTOR")]), frame([(0, 0, 5, "ACTOR")]), LABELS, 1, 100)
    assert counts[0, 0].tolist() == [1, 1, 1, 1]  # n_a, n_b, tp exact, tp overlap: F1 1.0, not 2/3
