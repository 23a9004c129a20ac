"""Deterministic train/dev split with near-duplicate grouping."""

from __future__ import annotations

import random

import pytest
from neardup_oracle import group_near_duplicates_naive

from annotate.config import Settings
from annotate.gold.split import assign_split
from annotate.ingest.neardup import group_near_duplicates

THRESHOLD = Settings.split_near_duplicate_threshold

WORDS = ["rebels", "army", "seized", "town", "village", "killed", "civilians", "withdrew", "province", "clashes", "near", "border", "troops", "militia", "shelling", "captured", "district", "officials", "said", "on", "monday", "after", "days", "of", "fighting"]


def article(seed: int, n: int = 80) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def test_republished_story_is_grouped_with_the_original():
    base = article(1)
    texts = {"x": base, "y": base.replace(".", " Reporting by staff."), "z": article(2)}
    groups = group_near_duplicates(texts, THRESHOLD)
    assert groups == {"x": "x", "y": "x", "z": "z"}


def test_sketch_grouping_matches_all_pairs_baseline():
    texts = {f"d{i:03d}": article(i % 40) + (" extra words here" if i >= 40 else "") for i in range(80)}
    assert group_near_duplicates(texts, THRESHOLD) == group_near_duplicates_naive(texts, THRESHOLD)


def test_near_duplicates_land_on_the_same_side():
    texts = {f"d{i:03d}": article(i) for i in range(60)}
    texts |= {f"copy{i:03d}": article(i) + " Updated." for i in range(60)}
    sides = assign_split(texts, 0.3)
    assert all(sides[f"d{i:03d}"] == sides[f"copy{i:03d}"] for i in range(60))


def test_split_is_deterministic_and_independent_of_input_order():
    texts = {f"d{i:03d}": article(i) for i in range(50)}
    reversed_texts = dict(reversed(list(texts.items())))
    assert assign_split(texts, 0.2) == assign_split(reversed_texts, 0.2)


def test_split_ratio_is_roughly_respected():
    texts = {f"d{i:04d}": article(i) for i in range(400)}
    share = sum(v == "dev" for v in assign_split(texts, 0.2).values()) / 400
    assert 0.14 < share < 0.26


@pytest.mark.parametrize("ratio", [0.01, 0.99])
def test_small_dataset_still_gets_both_sides(ratio):
    texts = {f"d{i}": article(i) for i in range(3)}
    assert set(assign_split(texts, ratio).values()) == {"train", "dev"}


def test_zero_ratio_means_no_dev():
    assert set(assign_split({f"d{i}": article(i) for i in range(5)}, 0.0).values()) == {"train"}
