"""Coefficients against published worked examples and against the `krippendorff` package."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from annotate.agreement.coefficients import (
    MISSING,
    binary_coincidences,
    bootstrap_weights,
    cohen_kappa,
    coincidences_by_group,
    nominal_alpha,
    value_counts,
)

# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units,
# values 1-5, '.' = missing. Published nominal alpha = 0.743 (ordinal 0.815, interval 0.849).
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _codes(rows: list[list[int | None]]) -> np.ndarray:
    """Value v -> code v - 1; missing -> MISSING."""
    return np.array([[MISSING if v is None else v - 1 for v in row] for row in rows], dtype=np.int8)


def _alpha(codes: np.ndarray, n_values: int) -> float:
    counts = value_counts(codes, n_values)
    o = coincidences_by_group(counts, np.zeros(codes.shape[1], dtype=np.int64), 1)[0]
    return float(nominal_alpha(o))


def test_nominal_alpha_reproduces_krippendorff_2011_example():
    assert _alpha(_codes(KRIPPENDORFF_2011), 5) == pytest.approx(0.743, abs=5e-4)


def test_coincidence_matrix_of_krippendorff_2011_example():
    # Published coincidence matrix row for value 1: o_11 = 7, o_12 = 4/3, o_13 = 1/3, o_14 = 1/3, n_1 = 9.
    counts = value_counts(_codes(KRIPPENDORFF_2011), 5)
    o = coincidences_by_group(counts, np.zeros(12, dtype=np.int64), 1)[0]
    assert o[0] == pytest.approx([7, 4 / 3, 1 / 3, 1 / 3, 0])
    assert o.sum() == pytest.approx(40)  # n = number of pairable values


@pytest.mark.parametrize("seed", range(5))
def test_nominal_alpha_matches_krippendorff_package_on_random_data_with_missing(seed):
    rng = np.random.default_rng(seed)
    codes = rng.choice(4, size=(4, 300), p=[0.6, 0.2, 0.1, 0.1]).astype(np.int8)
    codes[rng.random(codes.shape) < 0.3] = MISSING
    data = np.where(codes == MISSING, np.nan, codes.astype(float))
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal", value_domain=[0, 1, 2, 3])
    assert _alpha(codes, 4) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("value", [1, 2, 3])
def test_binary_alpha_matches_package_on_recoded_data(value):
    rng = np.random.default_rng(value)
    codes = rng.choice(4, size=(3, 200)).astype(np.int8)
    codes[rng.random(codes.shape) < 0.2] = MISSING
    o = coincidences_by_group(value_counts(codes, 4), np.zeros(200, dtype=np.int64), 1)[0]
    recoded = np.where(codes == MISSING, np.nan, (codes == value).astype(float))
    expected = krippendorff.alpha(reliability_data=recoded, level_of_measurement="nominal")
    assert float(nominal_alpha(binary_coincidences(o, value))) == pytest.approx(expected, abs=1e-12)


def test_per_group_coincidences_sum_to_the_whole():
    rng = np.random.default_rng(7)
    codes = rng.choice(3, size=(3, 100)).astype(np.int8)
    groups = np.repeat(np.arange(10), 10)
    counts = value_counts(codes, 3)
    whole = coincidences_by_group(counts, np.zeros(100, dtype=np.int64), 1)[0]
    assert coincidences_by_group(counts, groups, 10).sum(axis=0) == pytest.approx(whole)


def test_alpha_is_nan_without_variation():
    codes = np.zeros((2, 5), dtype=np.int8)
    assert np.isnan(_alpha(codes, 3))


def test_cohen_1960_example():
    # Cohen (1960), "A coefficient of agreement for nominal scales", p. 45: 200 units, 3 categories;
    # p_o = .70, p_c = .41, kappa = .492.
    table = np.array([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
    kappa, observed, expected, reason = cohen_kappa(table)
    assert (round(observed, 2), round(expected, 2), round(kappa, 3), reason) == (0.70, 0.41, 0.492, None)


@pytest.mark.parametrize("table", [np.zeros((2, 2)), np.array([[5, 0], [0, 0]])])
def test_cohen_kappa_undefined_gives_reason(table):
    kappa, _, _, reason = cohen_kappa(table)
    assert kappa is None and reason


def test_bootstrap_weights_are_seeded_and_draw_n_documents():
    a, b = bootstrap_weights(20, 50, seed=3), bootstrap_weights(20, 50, seed=3)
    assert np.array_equal(a, b)
    assert (a.sum(axis=1) == 20).all()
    assert not np.array_equal(a, bootstrap_weights(20, 50, seed=4))
