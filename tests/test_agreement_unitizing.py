"""Unitizing alpha against Krippendorff's published worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from annotate.agreement.unitizing import Units, unitizing_alpha


def units(items: list[tuple[int, int, int]], offset: int = 0) -> Units:
    """(category, begin, length) triples -> Units, shifting begins by -offset."""
    cat = np.array([c for c, _, _ in items], dtype=np.int64)
    start = np.array([b - offset for _, b, _ in items], dtype=np.int64)
    return Units(cat, start, start + np.array([n for _, _, n in items], dtype=np.int64))


# Krippendorff (2004), Content Analysis, 2nd ed., p. 254: continuum 150..450, observers i and j,
# categories c (0) and k (1). Published: D_o(c) = .0144, D_e(c) = .0532, alpha(c) = .7286, alpha(k) = 1,
# overall .8591 (from the rounded intermediates; exact arithmetic gives .8587). Values as reproduced by
# DKPro Statistics' Krippendorff2004Test.
OBSERVER_I = units([(0, 225, 70), (0, 370, 30), (1, 180, 60), (1, 300, 50)], offset=150)
OBSERVER_J = units([(0, 220, 80), (0, 355, 20), (0, 400, 20), (1, 180, 60), (1, 300, 50)], offset=150)


def test_krippendorff_2004_example_category_c():
    result = unitizing_alpha([OBSERVER_I, OBSERVER_J], 2, 300)
    assert result.observed[0] == pytest.approx(0.0144, abs=1e-4)
    assert result.expected[0] == pytest.approx(0.0532, abs=1e-4)
    assert result.per_category[0] == pytest.approx(0.7286, abs=1e-4)


def test_krippendorff_2004_example_category_k_and_overall():
    result = unitizing_alpha([OBSERVER_I, OBSERVER_J], 2, 300)
    assert result.observed[1] == 0
    assert result.expected[1] == pytest.approx(0.0490, abs=1e-4)
    assert result.per_category[1] == 1.0
    assert result.overall == pytest.approx(0.8591, abs=5e-4)


# Krippendorff (1995), "On the reliability of unitizing continuous data", p. 57: four pairs of observers
# unitizing a 24-point continuum. Published observed disagreements are exact; the expected ones carry a
# small error in the original (see DKPro Statistics' Krippendorff1995Test), so alphas are checked to .02.
EXAMPLE_1995 = {
    "A": ([(2, 8), (14, 6)], [(4, 4), (15, 2)], 0.03125, 0.553),
    "B": ([(0, 18)], [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 3), (9, 1)], 2.26736, -0.926),
    "C": ([(2, 6), (10, 2), (14, 4), (20, 2)], [(0, 2), (4, 4), (10, 4), (16, 2), (20, 2)], 0.02777, 0.679),
    "D": ([(0, 2), (2, 8), (10, 4), (14, 6), (20, 4)], [(0, 4), (4, 4), (8, 7), (15, 2), (17, 7)], 0.38715, 0.066),
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_1995))
def test_krippendorff_1995_observed_disagreement(name):
    first, second, observed, _ = EXAMPLE_1995[name]
    result = unitizing_alpha([units([(0, b, n) for b, n in first]), units([(0, b, n) for b, n in second])], 1, 24)
    assert result.observed[0] == pytest.approx(observed, abs=1e-5)


@pytest.mark.parametrize("name", sorted(EXAMPLE_1995))
def test_krippendorff_1995_alpha_on_fine_continuum(name):
    first, second, _, alpha = EXAMPLE_1995[name]
    s = 50_000  # the published expected values are for a continuum much finer than the 24 points drawn
    result = unitizing_alpha([units([(0, b * s, n * s) for b, n in first]),
                              units([(0, b * s, n * s) for b, n in second])], 1, 24 * s)
    assert result.per_category[0] == pytest.approx(alpha, abs=0.02)


def test_identical_coders_agree_perfectly():
    result = unitizing_alpha([OBSERVER_I, OBSERVER_I, OBSERVER_I], 2, 300)
    assert result.per_category.tolist() == [1.0, 1.0]


def test_category_nobody_used_is_undefined():
    result = unitizing_alpha([OBSERVER_I, OBSERVER_J], 3, 300)
    assert np.isnan(result.per_category[2])


def test_overlapping_units_of_one_coder_are_merged():
    merged = unitizing_alpha([units([(0, 10, 20)]), units([(0, 10, 20)])], 1, 100)
    split = unitizing_alpha([units([(0, 10, 15), (0, 20, 10)]), units([(0, 10, 20)])], 1, 100)
    assert split.per_category[0] == merged.per_category[0] == 1.0
