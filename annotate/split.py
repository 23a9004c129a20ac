"""Deterministic train/dev split that keeps near-duplicate articles on the same side (stdlib only).

Near-duplicates (the same wire story republished, a corrected version) would leak between train and dev
and inflate dev scores, so they are grouped first: word 5-gram shingles, a bottom-k sketch per article to
find candidate pairs cheaply, then the exact Jaccard similarity of the candidates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from itertools import combinations

SHINGLE_WORDS = 5
SKETCH_SIZE = 64
THRESHOLD = 0.5  # Jaccard similarity of shingle sets at which two articles count as near-duplicates
_WORD = re.compile(r"\w+")


def _hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Hashes of the text's overlapping word n-grams (lower-cased); a short text is one shingle."""
    words = _WORD.findall(text.lower())
    if len(words) <= size:
        return frozenset([_hash(" ".join(words))]) if words else frozenset()
    return frozenset(_hash(" ".join(words[i : i + size])) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """|a & b| / |a | b|, 0.0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _find(parent: dict[str, str], item: str) -> str:
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = parent[item]
    return item


def _union(parent: dict[str, str], a: str, b: str) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        # The smaller id becomes the root, so group names do not depend on input order.
        parent[max(ra, rb)] = min(ra, rb)


def group_near_duplicates(texts: Mapping[str, str], threshold: float = THRESHOLD) -> dict[str, str]:
    """Map each article id to its group id (the smallest id among its near-duplicates)."""
    sets = {doc_id: shingles(text) for doc_id, text in texts.items()}
    sketches = {doc_id: frozenset(sorted(s)[:SKETCH_SIZE]) for doc_id, s in sets.items()}
    index: dict[int, list[str]] = {}
    for doc_id in sorted(sketches):
        for value in sketches[doc_id]:
            index.setdefault(value, []).append(doc_id)
    candidates = {pair for ids in index.values() for pair in combinations(ids, 2)}
    parent = {doc_id: doc_id for doc_id in texts}
    for a, b in sorted(candidates):
        if jaccard(sets[a], sets[b]) >= threshold:
            _union(parent, a, b)
    return {doc_id: _find(parent, doc_id) for doc_id in sorted(texts)}


def group_near_duplicates_naive(texts: Mapping[str, str], threshold: float = THRESHOLD) -> dict[str, str]:
    """All-pairs baseline of group_near_duplicates (same result, quadratic); used by tests and the benchmark."""
    sets = {doc_id: shingles(text) for doc_id, text in texts.items()}
    parent = {doc_id: doc_id for doc_id in texts}
    for a, b in combinations(sorted(sets), 2):
        if jaccard(sets[a], sets[b]) >= threshold:
            _union(parent, a, b)
    return {doc_id: _find(parent, doc_id) for doc_id in sorted(texts)}


def _score(group: str) -> float:
    """A stable pseudo-random number in [0, 1) from the group id."""
    return _hash("split:" + group) / 2**64


def assign_split(texts: Mapping[str, str], dev_ratio: float) -> dict[str, str]:
    """Map each article id to "train" or "dev": by the hash of its near-duplicate group's id.

    Hashing (rather than sorting and cutting) keeps an article on the same side as the dataset grows. If the
    hash sends every group to one side although both are wanted, the group nearest the cut moves over, so
    a small dataset still gets a dev set.
    """
    groups = group_near_duplicates(texts)
    scores = {g: _score(g) for g in set(groups.values())}
    dev = {g for g, s in scores.items() if s < dev_ratio}
    if dev_ratio > 0 and len(scores) >= 2:
        if not dev:
            dev = {min(scores, key=lambda g: (scores[g], g))}
        elif dev == set(scores):
            dev.discard(max(scores, key=lambda g: (scores[g], g)))
    return {doc_id: "dev" if group in dev else "train" for doc_id, group in groups.items()}
