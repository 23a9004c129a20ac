"""The all-pairs oracle for near-duplicate grouping (test and benchmark code, not the product).

It compares every pair with the exact Jaccard similarity of annotate.ingest.neardup's shingles, so the indexed
grouping must give the same groups; quadratic, so it stays out of annotate/.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

from annotate.ingest.neardup import jaccard, shingles


def group_near_duplicates_naive(texts: Mapping[str, str], threshold: float) -> dict[str, str]:
    """Map each id to the smallest id it is linked to through pairs with Jaccard >= threshold."""
    sets = {doc_id: shingles(text) for doc_id, text in texts.items()}
    group = {doc_id: doc_id for doc_id in texts}
    for a, b in combinations(sorted(sets), 2):
        if jaccard(sets[a], sets[b]) >= threshold:
            old, new = max(group[a], group[b]), min(group[a], group[b])
            group = {k: new if g == old else g for k, g in group.items()}  # relabel: slow and obviously right
    return {doc_id: group[doc_id] for doc_id in sorted(texts)}
