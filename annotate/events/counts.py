"""Casualty counts read from text: numbers in digits and words, vague quantities and qualifiers (stdlib only).

The conventions (documented for users in guidelines/rules/README.md, "Events export"):
- a vague plural is one unit of itself, as ACLED codes "tens" 10, "dozens" 12, "hundreds" 100 "and so on":
  "scores" 20, "thousands" 1,000, "tens of thousands" 10,000; qualifier "at least";
- a range, or several figures for the same victims, gives the lowest ("between 30 and 40": 30, "range");
- figures for separate groups joined by "and" add up ("twelve soldiers and three civilians": 15, "sum");
- a quantity word with no number in it ("several", "many", "multiple") gives no value (how "vague").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

QUALIFIERS = ("exact", "at least", "about", "at most", "range")
_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
ONES = {w: n for n, w in enumerate(_ONES)}
TENS = {w: 10 * n for n, w in enumerate(("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
                                         "ninety"), 2)}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
GROUPS = {"dozen": 12, "score": 20}  # "two dozen" is 24, "a score" 20
VAGUE_PLURALS = {"tens": 10, "dozens": 12, "scores": 20, "hundreds": 100, "thousands": 1_000,
                 "millions": 1_000_000}
VAGUE = (("an", "unknown", "number", "of"), ("a", "number", "of"), ("a", "handful", "of"), ("a", "few"),
         ("several",), ("many",), ("multiple",), ("numerous",), ("countless",), ("some",), ("few",), ("unknown",))
QUALIFIER_WORDS = {
    "at least": (("at", "least"), ("more", "than"), ("over",), ("upwards", "of"), ("in", "excess", "of"),
                 ("no", "fewer", "than"), ("no", "less", "than"), ("not", "less", "than"), ("a", "minimum", "of"),
                 ("well", "over"), ("just", "over")),
    "about": (("nearly",), ("about",), ("around",), ("approximately",), ("roughly",), ("some",), ("almost",),
              ("close", "to"), ("an", "estimated"), ("estimated",), ("just", "under")),
    "at most": (("up", "to"), ("as", "many", "as"), ("at", "most"), ("fewer", "than"), ("less", "than"),
                ("no", "more", "than"), ("a", "maximum", "of"), ("under",)),
}
RANGE_JOINS = {"to", "-", "–", "—", "or"}
# A figure followed by one of these measures something else: distance, time, a share, a date.
NOT_PEOPLE = {"km", "kilometres", "kilometers", "mile", "miles", "metres", "meters", "hour", "hours", "day", "days",
              "week", "weeks", "month", "months", "year", "years", "minute", "minutes", "percent", "%", "am", "pm",
              "gmt", "st", "nd", "rd", "th", "year-old", "years-old"}
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
# Words that may stand between a count and its victims' name: "Dozens of his fighters", "11 of the soldiers".
TAIL_WORDS = {"of", "the", "his", "her", "their", "its", "our", "my", "your", "these", "those", "them", "other"}
_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+(?:-[a-z]+)*|[^\sa-z\d]")


@dataclass(frozen=True)
class Count:
    """A count: its value (None when the text gives none), qualifier (one of QUALIFIERS) and how it was read."""

    value: int | None
    qualifier: str | None
    how: str  # digits, words, vague_plural, range, sum, vague


@dataclass(frozen=True)
class _Quantity:
    count: Count
    start: int  # token indices
    end: int


def tokens_of(text: str) -> list[str]:
    """Lower-cased word, number and punctuation tokens ("1,100" and "thirty-one" stay one token)."""
    return _TOKEN.findall(text.lower())


def _match(tokens: Sequence[str], i: int, phrases: Sequence[tuple[str, ...]]) -> int:
    """The end of the longest phrase of `phrases` at `i`, or `i` when none matches."""
    ends = [i + len(p) for p in phrases if tuple(tokens[i:i + len(p)]) == p]
    return max(ends, default=i)


def _word_parts(token: str) -> list[str] | None:
    parts = token.split("-")
    known = ONES.keys() | TENS.keys() | SCALES.keys() | GROUPS.keys()
    return parts if all(p in known for p in parts) else None


def _words_number(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """A number in words at `i` ("two hundred and five", "thirty-one", "a dozen"): (value, end) or None."""
    total = current = 0
    j, seen = i, False
    if j < len(tokens) and tokens[j] in ("a", "an") and j + 1 < len(tokens) and tokens[j + 1] in SCALES | GROUPS:
        current, j = 1, j + 1
    while j < len(tokens):
        if tokens[j] == "and" and seen and j + 1 < len(tokens) and _word_parts(tokens[j + 1]):
            j += 1
            continue
        parts = _word_parts(tokens[j])
        if not parts:
            break
        for part in parts:
            if part in ONES or part in TENS:
                current += ONES.get(part, TENS.get(part, 0))
            elif part in GROUPS:
                current = max(current, 1) * GROUPS[part]
            elif part == "hundred":
                current = max(current, 1) * 100
            else:  # thousand, million, billion
                total, current = total + max(current, 1) * SCALES[part], 0
        seen, j = True, j + 1
    return (total + current, j) if seen else None


def _number(tokens: Sequence[str], i: int) -> tuple[int, int, str] | None:
    """A number at `i`, in digits (with a scale word: "1.5 million") or words: (value, end, how)."""
    if i >= len(tokens):
        return None
    token = tokens[i]
    if token[0].isdigit():
        value, j = float(token.replace(",", "")), i + 1
        if j < len(tokens) and tokens[j] in SCALES | GROUPS:
            value, j = value * (SCALES | GROUPS)[tokens[j]], j + 1
        if j < len(tokens) and tokens[j] in NOT_PEOPLE:
            return None
        year_like = "," not in token and "." not in token and 1800 <= value <= 2100 and j == i + 1
        if year_like and i > 0 and tokens[i - 1] in MONTHS | {"in", "since", "from", "until", "by", "of"}:
            return None
        return round(value), j, "digits"
    if token in VAGUE_PLURALS:
        value, j = VAGUE_PLURALS[token], i + 1
        # "tens of thousands", "hundreds of thousands": one unit of each.
        while j + 1 < len(tokens) and tokens[j] == "of" and tokens[j + 1] in VAGUE_PLURALS:
            value, j = value * VAGUE_PLURALS[tokens[j + 1]], j + 2
        return value, j, "vague_plural"
    found = _words_number(tokens, i)
    if found is None or (j := found[1]) < len(tokens) and tokens[j] in NOT_PEOPLE:
        return None
    return found[0], found[1], "words"


def _quantity_at(tokens: Sequence[str], i: int) -> _Quantity | None:
    """A quantity starting at `i`: optional qualifier, a number (or range), or a vague quantity word."""
    qualifier, k = None, i
    for name, phrases in QUALIFIER_WORDS.items():
        if (end := _match(tokens, i, phrases)) > k and _number(tokens, end):
            qualifier, k = name, end
    if k < len(tokens) and tokens[k] == "between" and (a := _number(tokens, k + 1)) and a[1] < len(tokens) and tokens[a[1]] == "and" \
            and (b := _number(tokens, a[1] + 1)):
        return _Quantity(Count(min(a[0], b[0]), "range", "range"), i, b[1])
    found = _number(tokens, k)
    if found is None:
        end = _match(tokens, i, VAGUE)
        return _Quantity(Count(None, None, "vague"), i, end) if end > i else None
    value, end, how = found
    if end + 1 < len(tokens) and tokens[end] in RANGE_JOINS and (other := _number(tokens, end + 1)):
        return _Quantity(Count(min(value, other[0]), "range", "range"), i, other[1])
    if tuple(tokens[end:end + 2]) == ("or", "so"):
        qualifier, end = "about", end + 2
    default = "at least" if how == "vague_plural" else "exact"
    return _Quantity(Count(value, qualifier or default, how), i, end)


def _quantities(tokens: Sequence[str]) -> list[_Quantity]:
    found, i = [], 0
    while i < len(tokens):
        quantity = _quantity_at(tokens, i)
        if quantity is None:
            i += 1
        else:
            found.append(quantity)
            i = quantity.end
    return found


def parse_number(text: str) -> int | None:
    """The number that is the whole of `text` ("1,100", "twelve", "two dozen", "1.5 million"), else None."""
    tokens = tokens_of(text)
    found = _number(tokens, 0) if tokens else None
    return found[0] if found and found[1] == len(tokens) else None


def combine(counts: Sequence[Count | None]) -> Count | None:
    """Counts of separate victim groups added up; a group without a number makes the total "at least"."""
    numeric = [c for c in counts if c is not None and c.value is not None]
    if not numeric:
        return next((c for c in counts if c is not None), None)
    if len(counts) == 1:
        return numeric[0]
    qualifiers = {c.qualifier for c in numeric}
    if len(numeric) < len(counts) or qualifiers & {"at least", "range"}:
        qualifier = "at least"
    else:
        qualifier = "about" if qualifiers & {"about", "at most"} else "exact"
    how = numeric[0].how if len(numeric) == 1 else "sum"
    return Count(sum(c.value for c in numeric if c.value is not None), qualifier, how)


def _separate_groups(tokens: Sequence[str], found: Sequence[_Quantity]) -> bool:
    """True when each figure names its own victims, joined by "and": "twelve soldiers and three civilians"."""
    for a, b in zip(found, found[1:], strict=False):
        gap = tokens[a.end:b.start]
        if not gap or gap[-1] not in ("and", ",", "plus") or not any(t.isalpha() and t != "and" for t in gap):
            return False
    return True


def read_count(text: str) -> Count | None:
    """The count stated in `text` (None when it states none); several figures add up or give the lowest."""
    tokens = tokens_of(text)
    found = _quantities(tokens)
    numeric = [q for q in found if q.count.value is not None]
    if len(numeric) <= 1:
        return numeric[0].count if numeric else (found[0].count if found else None)
    if _separate_groups(tokens, numeric):
        return combine([q.count for q in numeric])
    low = min(numeric, key=lambda q: q.count.value or 0)
    return Count(low.count.value, "range", "range")


def count_before(text: str) -> Count | None:
    """The quantity that ends `text` (the words before a victims' name): "It said 31 " gives 31, "Dozens of " 12."""
    tokens = tokens_of(text)
    end = len(tokens)
    while end and tokens[end - 1] in TAIL_WORDS:
        end -= 1
    tokens = tokens[:end]
    found = [q for q in _quantities(tokens) if q.end == len(tokens)]
    return found[-1].count if found else None
