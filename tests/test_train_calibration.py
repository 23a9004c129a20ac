"""Reliability of span scores and the isotonic mapping (training/calibration.py): stdlib maths, no training."""

from __future__ import annotations

import math
import random

import pytest

from annotate.records import Document, Span
from annotate.training.calibration import (
    apply_mapping,
    calibrate,
    fit_isotonic,
    fit_temperature,
    format_calibration,
    log_loss,
    ranking_auc,
    reliability,
    scored_pairs,
)


def test_reliability_bins_and_ece_by_hand():
    pairs = [(0.95, True), (0.95, False), (0.15, False), (0.15, False)]
    result = reliability(pairs, bins=10)
    assert [(b["low"], b["spans"], b["mean_score"], b["correct"]) for b in result["bins"]] == [
        (0.1, 2, 0.15, 0.0), (0.9, 2, 0.95, 0.5)]
    # ECE = 2/4 * |0.15 - 0| + 2/4 * |0.95 - 0.5| = 0.075 + 0.225
    assert result["ece"] == pytest.approx(0.3)
    assert result["brier"] == pytest.approx((0.05**2 + 0.95**2 + 2 * 0.15**2) / 4, abs=1e-4)
    assert reliability([(1.0, True)])["bins"][-1]["high"] == 1.0  # a score of exactly 1 lands in the last bin
    assert reliability([])["ece"] is None


def test_isotonic_pools_adjacent_violators():
    mapping = fit_isotonic([(0.1, True), (0.2, False), (0.3, True), (0.4, True)])
    assert mapping == {"method": "isotonic", "x": [0.15, 0.35], "y": [0.5, 1.0]}
    assert mapping["y"] == sorted(mapping["y"])


def test_mapping_interpolates_and_is_flat_outside():
    mapping = {"x": [0.2, 0.6], "y": [0.1, 0.5]}
    assert [apply_mapping(mapping, s) for s in (0.0, 0.2, 0.4, 0.6, 0.9)] == pytest.approx([0.1, 0.1, 0.3, 0.5, 0.5])
    assert apply_mapping(None, 0.7) == 0.7


def test_scored_pairs_mark_exact_matches_only():
    text = "Rebels seized Kidal."
    gold = [Document("a", text, (Span(14, 19, "LOCATION", "Kidal"),))]
    pred = [Document("a", text, (Span(14, 19, "LOCATION", "Kidal", 0.9, "model"),
                                 Span(7, 19, "LOCATION", "seized Kidal", 0.4, "model"),
                                 Span(0, 6, "ACTOR", "Rebels", None, "model")))]
    assert scored_pairs(gold, pred) == [(0.9, True), (0.4, False)]
    assert scored_pairs(gold, pred, sources=["rule:x"]) == []


def test_overconfident_scores_get_a_mapping_that_helps_out_of_sample():
    rng = random.Random(3)
    # Scores near 0.9 that are right only half the time: the mapping should bring them down.
    groups = [[(0.85 + 0.1 * rng.random(), rng.random() < 0.5) for _ in range(20)] for _ in range(6)]
    result = calibrate(groups)
    assert result["applied"] and result["isotonic_cross_fitted"]["ece"] < result["raw"]["ece"]
    assert 0.3 < apply_mapping(result["mapping"], 0.9) < 0.7


def test_calibrated_scores_keep_their_values():
    rng = random.Random(5)
    groups = []
    for _ in range(6):
        scores = [rng.random() for _ in range(60)]
        groups.append([(s, rng.random() < s) for s in scores])
    result = calibrate(groups)
    assert result["raw"]["ece"] < 0.1
    assert result["applied"] is (result["isotonic_cross_fitted"]["ece"] < result["raw"]["ece"])


def test_too_few_spans_fit_nothing():
    result = calibrate([[(0.9, True)], [(0.2, False)]])
    assert result["mapping"] is None and not result["applied"] and "needs 2 dev documents" in result["note"]


def test_ranking_auc_counts_right_over_wrong_with_ties_half():
    assert ranking_auc([(0.9, True), (0.2, False)]) == 1.0
    assert ranking_auc([(0.2, True), (0.9, False)]) == 0.0
    assert ranking_auc([(0.5, True), (0.5, False), (0.9, True)]) == 0.75
    assert ranking_auc([(0.5, True)]) is None


def test_log_loss_keeps_scores_of_0_and_1_finite():
    assert log_loss([(0.5, True), (0.5, False)]) == pytest.approx(math.log(2))
    assert 7 < log_loss([(1.0, False)]) < 8 and log_loss([]) is None


def test_fit_temperature_takes_the_grid_value_with_the_lowest_log_loss():
    # an overconfident score (0.99 at temperature 1) for spans right half the time: a higher temperature fits
    fit = fit_temperature(lambda t: [(0.99 ** (1 / t) if t < 4 else 0.5, c) for c in (True, False) * 10],
                          grid=(1.0, 4.0))
    assert fit["temperature"] == 4.0 and fit["log_loss"]["4.0"] == pytest.approx(math.log(2), abs=1e-4)


def test_too_few_dev_spans_leave_the_temperature_at_1():
    few = fit_temperature(lambda t: [(0.99 ** (1 / t) if t < 4 else 0.5, c) for c in (True, False) * 9],
                          grid=(1.0, 4.0))
    assert few["temperature"] == 1.0 and "needs 20 scored dev spans, dev has 18" in few["note"]
    assert fit_temperature(lambda t: [], grid=(2.0,))["temperature"] == 1.0


def test_the_calibration_line_names_the_temperature_and_why_nothing_was_fitted():
    result = {"raw": {"spans": 5, "ece": 0.2, "brier": 0.3}, "untempered": {"ece": 0.5, "brier": 0.4},
              "temperature": 1.0, "temperature_note": "temperature left at 1: too few", "note": "no mapping fitted"}
    line = format_calibration("model", result)
    assert line == ("calibration of model scores on dev: 5 spans, ECE 0.2, Brier 0.3 at temperature 1 "
                    "(at 1: ECE 0.5, Brier 0.4) (temperature left at 1: too few; no mapping fitted)")
