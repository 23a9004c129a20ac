"""Span scoring, defined once: matching, tp/fp/fn counts, precision, recall, F1 and the empty case (stdlib only).

Every span (and relation) F1 in annotate comes from here: `annotate evaluate`, the agreement report, the
`--min-agreement` export gate. "Gold" and "predicted" are the two sides; for agreement they are annotator A and B.

- Sets, not multisets. A side's spans are the set of their (start, end, label) keys: a span drawn twice is one
  span, neither a second hit nor a false positive. The key is what a span *is* everywhere else (records.SpanKey):
  gold adjudication votes with key sets, relation agreement uses sets, a DocBin cannot tell two copies apart, and
  spaCy's Scorer (score_spans) scores sets of (label, start, end) too. Counting copies would let a duplicate
  double a tp in one place and cost a fp in another.
- exact: a true positive is a key on both sides.
- overlap: a gold and a predicted span can pair when they have the same label and share at least one character
  (`p.start < g.end and g.start < p.end`; touching spans do not). Each span pairs at most once and tp is the size
  of the LARGEST one-to-one pairing (augmenting paths, per label), so the figure does not depend on span order.
  Why this rule (evaluate and agreement/spans.py both used it already): a greedy pass undercounts when one long
  span overlaps two (it depends on order), and "any overlap counts" (many-to-one) lets one long span score
  several hits, so tp could exceed either side's size and precision or recall pass 1. Exact pairs are seeded
  first, so a span keeps its identical partner where that costs nothing (the relation scoring relies on it).
- fp = predicted - tp, fn = gold - tp; F1 = 2 tp / (2 tp + fp + fn) = 2 tp / (n_gold + n_pred).
- The empty case: with no span on either side F1 is undefined, and is None (shown "n/a") with `empty_reason`:
  not 1.0 (two people who marked nothing have not shown they agree on anything), not 0.0 (they did not disagree
  either), not NaN (which JSON cannot carry and tables print as "nan"). Precision is None only without a
  predicted span, recall only without a gold span; F1 is 0.0 as soon as one side has a span and nothing matches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple, Protocol

from .records import SpanKey

Mode = Literal["exact", "overlap"]
MODES: tuple[Mode, ...] = ("exact", "overlap")
NA = "n/a"  # how an undefined score is shown, in every table, page and card
EMPTY_REASON = "neither side has any {unit}{where}, so F1 is n/a (undefined: neither 1 nor 0)"
NO_PREDICTED = "no predicted {unit}{where}, so precision is n/a"
NO_GOLD = "no gold {unit}{where}, so recall is n/a"


class SpanLike(Protocol):
    """Anything with (start, end, label): records.Span and gold spans (read-only properties, so frozen ones fit)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def label(self) -> str: ...


class Counts(NamedTuple):
    """True positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: object) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @classmethod
    def from_sizes(cls, tp: float, n_gold: float, n_pred: float) -> Counts:
        """Counts from matches and side sizes (the agreement count arrays hold these)."""
        return cls(int(tp), int(n_pred - tp), int(n_gold - tp))


def span_keys(spans: Iterable[SpanLike]) -> set[SpanKey]:
    """The set a side is scored as: one (start, end, label) per distinct span."""
    return {(s.start, s.end, s.label) for s in spans}


def match_spans(gold: Iterable[SpanLike], pred: Iterable[SpanLike], mode: Mode = "exact") -> dict[str, Counts]:
    """Per-label (tp, fp, fn) of `pred` against `gold` under the module's exact or overlap rule."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    by_label: dict[str, tuple[list[SpanKey], list[SpanKey]]] = defaultdict(lambda: ([], []))
    for key in sorted(span_keys(gold)):
        by_label[key[2]][0].append(key)
    for key in sorted(span_keys(pred)):
        by_label[key[2]][1].append(key)
    result: dict[str, Counts] = {}
    for label in sorted(by_label):
        g, p = by_label[label]
        tp = len(set(g) & set(p)) if mode == "exact" else len(overlap_pairs(g, p))
        result[label] = Counts(tp, len(p) - tp, len(g) - tp)
    return result


def count_matches(gold: Iterable[SpanLike], pred: Iterable[SpanLike], mode: Mode = "exact") -> Counts:
    """(tp, fp, fn) over all labels (micro: summed per-label counts)."""
    return sum(match_spans(gold, pred, mode).values(), Counts())


def overlap_pairs(gold: Sequence[SpanKey], pred: Sequence[SpanKey]) -> dict[int, int]:
    """Gold index -> pred index of a largest one-to-one overlap pairing of distinct spans of one label."""
    edges = [[gi for gi, g in enumerate(gold) if p[0] < g[1] and g[0] < p[1]] for p in pred]
    owner: dict[int, int] = {}  # gold index -> pred index
    for pi, p in enumerate(pred):
        same = [gi for gi in edges[pi] if gold[gi][:2] == p[:2] and gi not in owner]
        if same:
            owner[same[0]] = pi
    paired = set(owner.values())

    def augment(pi: int, seen: set[int]) -> bool:
        for gi in edges[pi]:
            if gi in seen:
                continue
            seen.add(gi)
            if gi not in owner or augment(owner[gi], seen):
                owner[gi] = pi
                return True
        return False

    for pi in range(len(pred)):
        if pi not in paired and edges[pi]:
            augment(pi, set())
    return owner


def precision(counts: Counts) -> float | None:
    """tp / predicted; None without a predicted span."""
    return counts.tp / (counts.tp + counts.fp) if counts.tp + counts.fp else None


def recall(counts: Counts) -> float | None:
    """tp / gold; None without a gold span."""
    return counts.tp / (counts.tp + counts.fn) if counts.tp + counts.fn else None


def f1(counts: Counts) -> float | None:
    """2 tp / (2 tp + fp + fn); None (n/a) when neither side has a span."""
    total = 2 * counts.tp + counts.fp + counts.fn
    return 2 * counts.tp / total if total else None


def empty_reason(unit: str = "span", where: str = "") -> str:
    """Why F1 is n/a: no `unit` (e.g. "span", "ACTOR span", "relation") on either side; `where` e.g. " on this task"."""
    return EMPTY_REASON.format(unit=unit, where=where)


def undefined_reason(counts: Counts, unit: str = "span", where: str = "") -> str | None:
    """Why F1, precision or recall of these counts is n/a (F1's reason first), or None when all three are defined."""
    if f1(counts) is None:
        return empty_reason(unit, where)
    if precision(counts) is None:
        return NO_PREDICTED.format(unit=unit, where=where)
    if recall(counts) is None:
        return NO_GOLD.format(unit=unit, where=where)
    return None


def prf(counts: Counts, unit: str = "span") -> dict[str, Any]:
    """Counts plus precision, recall, F1 (4 decimals; None where undefined) and the reason for any None."""
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {"tp": counts.tp, "fp": counts.fp, "fn": counts.fn, "precision": rounded(precision(counts)),
            "recall": rounded(recall(counts)), "f1": rounded(f1(counts)), "reason": undefined_reason(counts, unit)}


def show(value: float | None, digits: int = 3) -> str:
    """A score for a text table: fixed decimals, or "n/a"."""
    return NA if value is None else f"{value:.{digits}f}"
