"""Krippendorff's unitizing alpha (u-alpha) on a character continuum.

Follows Krippendorff (1995) "On the reliability of unitizing continuous data", Sociological Methodology 25,
and Content Analysis, 2nd ed. (2004), section 12.4: each coder's units of category c and the gaps between
them partition the continuum of length L; the squared distance between two overlapping sections g (coder i)
and h (coder j) is

    (b_g - b_h)^2 + (e_g - e_h)^2   both units of c that overlap
    l_g^2                           g a unit, h a gap that contains it (and symmetrically)
    0                               otherwise

D_o(c) = sum over ordered coder pairs and sections / (m (m - 1) L^2), and

D_e(c) = 2/L * sum_g [ (N_c - 1)(2 l_g^3 - 3 l_g^2 + l_g)/3 + l_g^2 sum_{gaps h, l_h >= l_g} (l_h - l_g + 1) ]
         / ( m L (m L - 1) - sum_g l_g (l_g - 1) )

over all units g of c (all coders), N_c their number. u-alpha(c) = 1 - D_o(c)/D_e(c); over all categories,
1 - sum D_o / sum D_e. Tasks are laid end to end to form the continuum. Krippendorff et al. (2016) revised
the coefficient for more than two coders; this module implements the 1995/2004 definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .intervals import merge_overlapping


@dataclass(frozen=True)
class Units:
    """One coder's units on the continuum: category index, start, end (end exclusive)."""

    category: np.ndarray
    start: np.ndarray
    end: np.ndarray


@dataclass(frozen=True)
class UnitizingResult:
    """Observed and expected disagreement per category, and the alphas they give (NaN where undefined)."""

    observed: np.ndarray
    expected: np.ndarray

    @property
    def per_category(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.expected > 0, 1.0 - self.observed / self.expected, np.nan)

    @property
    def overall(self) -> float:
        total = self.expected.sum()
        return float(1.0 - self.observed.sum() / total) if total > 0 else float("nan")


def _sections(start: np.ndarray, end: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Partition [0, length) into the given (sorted, non-overlapping) units and the gaps between them."""
    points = np.unique(np.concatenate([[0], start, end]))
    points = points[points < length]
    stops = np.append(points[1:], length)
    is_unit = np.isin(points, start)
    return points, stops, is_unit


def _pair_distance(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> float:
    """Sum of squared section distances between two coders' partitions of one continuum."""
    a_s, a_e, a_u = a
    b_s, b_e, b_u = b
    points = np.union1d(a_s, b_s)  # each elementary interval belongs to exactly one (g, h) section pair
    g = np.searchsorted(a_s, points, side="right") - 1
    h = np.searchsorted(b_s, points, side="right") - 1
    gs, ge, gu, hs, he, hu = a_s[g], a_e[g], a_u[g], b_s[h], b_e[h], b_u[h]
    both = gu & hu
    unit_in_gap = gu & ~hu & (hs <= gs) & (ge <= he)
    gap_around_unit = ~gu & hu & (gs <= hs) & (he <= ge)
    dist = np.where(both, (gs - hs) ** 2 + (ge - he) ** 2, 0.0)
    dist += np.where(unit_in_gap, (ge - gs) ** 2, 0.0) + np.where(gap_around_unit, (he - hs) ** 2, 0.0)
    return float(dist.sum())


def _expected(lengths: np.ndarray, gaps: np.ndarray, m: int, length: int) -> float:
    """Krippendorff's expected disagreement for one category from all its unit and gap lengths."""
    if len(lengths) == 0:
        return 0.0
    n_units = len(lengths)
    lengths = lengths.astype(np.float64)
    gaps = np.sort(gaps.astype(np.float64))
    suffix = np.append(np.cumsum(gaps[::-1])[::-1], 0.0)  # sum of gaps from index i on
    first = np.searchsorted(gaps, lengths, side="left")  # gaps at or above each unit length
    count = len(gaps) - first
    fits = suffix[first] - (lengths - 1) * count  # sum over gaps >= l of (gap - l + 1)
    within = (n_units - 1) * (2 * lengths**3 - 3 * lengths**2 + lengths) / 3
    numerator = (within + lengths**2 * fits).sum()
    denominator = m * length * (m * length - 1.0) - (lengths * (lengths - 1)).sum()
    return float(2.0 / length * numerator / denominator) if denominator > 0 else 0.0


def unitizing_alpha(coders: Sequence[Units], n_categories: int, length: int) -> UnitizingResult:
    """u-alpha of m >= 2 coders who each unitized the whole continuum [0, length)."""
    m = len(coders)
    observed, expected = np.zeros(n_categories), np.zeros(n_categories)
    if m < 2 or length <= 0:
        return UnitizingResult(observed, expected)
    for c in range(n_categories):
        partitions, lengths, gaps = [], [], []
        for units in coders:
            chosen = units.category == c
            # A coder's overlapping units of one category are merged: the definition needs a partition.
            _, start, end = merge_overlapping(np.zeros(chosen.sum(), np.int64), units.start[chosen], units.end[chosen])
            part = _sections(start, end, length)
            partitions.append(part)
            section_lengths = part[1] - part[0]
            lengths.append(section_lengths[part[2]])
            gaps.append(section_lengths[~part[2]])
        total = sum(_pair_distance(partitions[i], partitions[j]) for i in range(m) for j in range(i + 1, m))
        observed[c] = 2.0 * total / (m * (m - 1) * float(length) ** 2)
        expected[c] = _expected(np.concatenate(lengths), np.concatenate(gaps), m, length)
    return UnitizingResult(observed, expected)
