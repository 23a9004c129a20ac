"""Relation agreement between annotators: per-document, per-type match counts of (from span, to span, type).

A relation of A matches one of B when both have the same type and both ends match under the span agreement's
rule for the mode: exact (same start, end and label) or overlap (same label, sharing a character). Each relation
is matched at most once and tp is the largest one-to-one matching (augmenting paths), so it does not depend on
order. The counts have the span counts' shape (spans.COUNT_FIELDS), so `measures.f1_rows` turns them into F1
with the same bootstrap as span F1. An annotation's relations are a set: one drawn twice counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from ..gold.relations import relation_keys
from ..records import RelationKey, SpanKey, Task
from .measures import PairCounts
from .spans import COUNT_FIELDS


def relation_sets(tasks: Sequence[Task], annotators: Sequence[str]) -> list[dict[int, set[RelationKey]]]:
    """Per task (in order): coder index -> the relations of that annotator's final annotation."""
    coder = {name: i for i, name in enumerate(annotators)}
    return [{coder[a.annotator]: relation_keys(a) for a in task.final} for task in tasks]


def _overlaps(a: SpanKey, b: SpanKey) -> bool:
    return a[2] == b[2] and a[0] < b[1] and b[0] < a[1]


def overlap_tp(a: Sequence[RelationKey], b: Sequence[RelationKey]) -> int:
    """Largest one-to-one matching of same-type relations whose ends overlap pairwise (same labels)."""
    edges = [[j for j, y in enumerate(b) if x[2] == y[2] and _overlaps(x[0], y[0]) and _overlaps(x[1], y[1])]
             for x in a]
    owner: dict[int, int] = {}  # index in b -> index in a

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(1 for i in range(len(a)) if edges[i] and augment(i, set()))


def _counts(a: set[RelationKey], b: set[RelationKey], types: Sequence[str]) -> np.ndarray:
    """(n_types, COUNT_FIELDS) for one document and pair; relations of other types are ignored."""
    out = np.zeros((len(types), len(COUNT_FIELDS)))
    for index, name in enumerate(types):
        side_a, side_b = sorted(r for r in a if r[2] == name), sorted(r for r in b if r[2] == name)
        out[index] = (len(side_a), len(side_b), len(set(side_a) & set(side_b)), overlap_tp(side_a, side_b))
    return out


def relation_pair_counts(tasks: Sequence[Task], annotators: Sequence[str], types: Sequence[str],
                         done: np.ndarray) -> PairCounts:
    """Relation match counts for every annotator pair, on the tasks the two share (`done`: coders x docs)."""
    sets = relation_sets(tasks, annotators)
    pairs, counts, shared = [], [], []
    for i, j in combinations(range(len(annotators)), 2):
        both = done[i] & done[j]
        if not both.any():
            continue
        per_doc = np.zeros((len(tasks), len(types), len(COUNT_FIELDS)))
        for doc in np.flatnonzero(both):
            per_doc[doc] = _counts(sets[doc].get(i, set()), sets[doc].get(j, set()), types)
        pairs.append((i, j))
        counts.append(per_doc)
        shared.append(both)
    shape = (0, len(tasks), len(types), len(COUNT_FIELDS))
    return PairCounts(pairs, np.stack(counts) if counts else np.zeros(shape),
                      np.stack(shared) if shared else np.zeros((0, len(tasks)), dtype=bool))
