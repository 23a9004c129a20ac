"""annotate.events.counts: numbers in digits and words, vague quantities, qualifiers, ranges and sums."""

from __future__ import annotations

import pytest

from annotate.events.counts import Count, combine, count_before, parse_number, read_count


@pytest.mark.parametrize(("text", "value"), [
    ("11", 11), ("1,100", 1100), ("130,000", 130000), ("1.5 million", 1_500_000), ("2 million", 2_000_000),
    ("one", 1), ("eight", 8), ("Ten", 10), ("twelve", 12), ("nineteen", 19), ("twenty", 20), ("thirty-one", 31),
    ("ninety nine", 99), ("a hundred", 100), ("one hundred", 100), ("two hundred and five", 205),
    ("three thousand", 3000), ("four thousand two hundred", 4200), ("a dozen", 12), ("two dozen", 24),
    ("half", None), ("a", None), ("people", None), ("11 people", None), ("a score", 20), ("three score", 60),
    ("dozens", 12), ("tens", 10), ("scores", 20), ("hundreds", 100), ("thousands", 1000),
    ("tens of thousands", 10_000), ("hundreds of thousands", 100_000),
])
def test_parse_number(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(("text", "count"), [
    # exact figures in digits and words
    ("killed 11 people", Count(11, "exact", "digits")),
    ("killing 11 people", Count(11, "exact", "digits")),
    ("Ten dead", Count(10, "exact", "words")),
    ("eight fighters were killed", Count(8, "exact", "words")),
    ("killed thirty-one soldiers", Count(31, "exact", "words")),
    ("killed a dozen civilians", Count(12, "exact", "words")),
    ("two dozen", Count(24, "exact", "words")),
    ("killed 1.5 million people", Count(1_500_000, "exact", "digits")),
    # qualifiers
    ("at least 39 fighters dead", Count(39, "at least", "digits")),
    ("killed more than 130,000 people", Count(130000, "at least", "digits")),
    ("killed over 1,000 people", Count(1000, "at least", "digits")),
    ("no fewer than 7 were killed", Count(7, "at least", "digits")),
    ("killed nearly 1,100 people", Count(1100, "about", "digits")),
    ("about 40 dead", Count(40, "about", "digits")),
    ("some two dozen", Count(24, "about", "words")),
    ("around fifty people were killed", Count(50, "about", "words")),
    ("20 or so were killed", Count(20, "about", "digits")),
    ("up to 40 people were killed", Count(40, "at most", "digits")),
    ("as many as 300 dead", Count(300, "at most", "digits")),
    # vague plurals: one unit, at least (ACLED: tens 10, dozens 12, hundreds 100; scores 20 by the same rule)
    ("dozens of people were killed", Count(12, "at least", "vague_plural")),
    ("tens killed", Count(10, "at least", "vague_plural")),
    ("Scores died", Count(20, "at least", "vague_plural")),
    ("hundreds were killed", Count(100, "at least", "vague_plural")),
    ("thousands dead", Count(1000, "at least", "vague_plural")),
    ("killed tens of thousands of people", Count(10_000, "at least", "vague_plural")),
    # ranges and several figures: the lowest
    ("between 30 and 40 were killed", Count(30, "range", "range")),
    ("30 to 40 people dead", Count(30, "range", "range")),
    ("30-40 people dead", Count(30, "range", "range")),
    ("killed 10 or 12 people", Count(10, "range", "range")),
    ("killed twelve or fifteen people", Count(12, "range", "range")),
    ("killed 15 people, the Observatory said, while activists said 12", Count(12, "range", "range")),
    # separate groups add up
    ("twelve soldiers and three civilians", Count(15, "exact", "sum")),
    ("31 rebel fighters and eight Islamic State fighters", Count(39, "exact", "sum")),
    ("at least 5 soldiers and 2 civilians", Count(7, "at least", "sum")),
    ("dozens of soldiers and three civilians", Count(15, "at least", "sum")),
    # vague without a number, and no count at all
    ("many others wounded", Count(None, None, "vague")),
    ("multiple casualties", Count(None, None, "vague")),
    ("several people were killed", Count(None, None, "vague")),
    ("a number of fighters died", Count(None, None, "vague")),
    ("killing", None),
    ("killed", None),
    ("were killed or injured", None),
    # figures that count something else
    ("killed in 2014", None),
    ("killed since March 2011", None),
    ("killed two weeks ago", None),
    ("20km away", None),
])
def test_read_count(text, count):
    assert read_count(text) == count


@pytest.mark.parametrize(("text", "count"), [
    ("It said 31 ", Count(31, "exact", "digits")),
    ("It said 31 rebel fighters and eight ", Count(8, "exact", "words")),
    ("Dozens of ", Count(12, "at least", "vague_plural")),
    ("Dozens of his ", Count(12, "at least", "vague_plural")),
    ("Scores of ", Count(20, "at least", "vague_plural")),
    ("summarily executed several ", Count(None, None, "vague")),
    ("at least 20 ", Count(20, "at least", "digits")),
    ("killing 11 of the ", Count(11, "exact", "digits")),
    ("Scores of rebels and ", None),
    ("including ", None),
    ("the clashes killed ", None),
    ("", None),
])
def test_count_before(text, count):
    assert count_before(text) == count


@pytest.mark.parametrize(("counts", "total"), [
    ([Count(31, "exact", "digits"), Count(8, "exact", "words")], Count(39, "exact", "sum")),
    ([Count(20, "at least", "vague_plural"), None], Count(20, "at least", "vague_plural")),
    ([Count(5, "exact", "digits"), None], Count(5, "at least", "digits")),
    ([Count(5, "about", "digits"), Count(3, "exact", "digits")], Count(8, "about", "sum")),
    ([Count(None, None, "vague"), None], Count(None, None, "vague")),
    ([None, None], None),
    ([Count(7, "exact", "digits")], Count(7, "exact", "digits")),
])
def test_combine_victim_groups(counts, total):
    assert combine(counts) == total
