"""Near-duplicates, one definition for ingest and the train/dev split (stdlib only).

Two texts are near-duplicates when the Jaccard similarity of their sets of lower-cased word 5-grams
(shingles) is at least a threshold; the thresholds are settings (config.py): `near_duplicate_threshold`
for ingest's report and `split_near_duplicate_threshold` for the split. Each shingle is hashed once
(64-bit blake2b, so the same in every process); a text's 64 smallest hashes are its bottom-k sketch
(Broder 1997). Ingest streams and keeps only sketches, so it reports the sketch's estimate (standard
error about 0.06, exact below 64 shingles); the split has every text at hand and checks the exact value.
"""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from collections.abc import Mapping, Sequence

from .errors import ConfigError

SHINGLE_WORDS = 5
SKETCH_SIZE = 64
# Share of the pairs at the threshold that may never be compared (see probes): one in a million.
MISSED_PAIRS = 1e-6
_WORD = re.compile(r"\w+")


def check_threshold(threshold: float) -> None:
    """Refuse a threshold outside (0, 1]: 0 would make every pair of articles near-duplicates."""
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"near-duplicate threshold must be in (0, 1] (Jaccard similarity of word "
                          f"{SHINGLE_WORDS}-gram sets; 1: the same wording only), got {threshold}")


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """Hashes of the text's lower-cased word n-grams; fewer words than `size` are one shingle, no words none."""
    words = _WORD.findall(text.lower())
    grams = [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    if not grams and words:
        grams = [" ".join(words)]
    return frozenset(int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "big")
                     for g in grams)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """|a & b| / |a | b|, 0.0 for two empty sets (texts without words are nobody's near-duplicate)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def sketch(grams: frozenset[int]) -> tuple[int, ...]:
    """The SKETCH_SIZE smallest shingle hashes, ascending (the whole set when it is smaller)."""
    return tuple(sorted(grams)[:SKETCH_SIZE])  # faster than heapq.nsmallest at a few hundred shingles


def estimate(a: Sequence[int], b: Sequence[int]) -> float:
    """Jaccard similarity estimated from two sketches: the share of the union's smallest hashes in both."""
    set_a, set_b = set(a), set(b)
    if len(set_a) < SKETCH_SIZE and len(set_b) < SKETCH_SIZE:
        return jaccard(frozenset(set_a), frozenset(set_b))  # both sketches are whole sets
    union = sorted(set_a | set_b)[:SKETCH_SIZE]
    both = set_a & set_b
    return sum(h in both for h in union) / len(union)


def probes(threshold: float) -> int:
    """How many of each text's smallest hashes to index so that a pair at `threshold` is missed at most
    MISSED_PAIRS of the time.

    The smallest hash of A | B that lies in A & B is among the m smallest of both A and B whenever it is
    among the m smallest of A | B; that fails only if those m all lie outside A & B, with probability at
    most (1 - J)**m. So 12 at 0.7, 20 at 0.5, and the whole sketch below about 0.2.
    """
    check_threshold(threshold)
    if threshold == 1.0:
        return 1
    return min(SKETCH_SIZE, math.ceil(math.log(MISSED_PAIRS) / math.log(1.0 - threshold)))


class _Candidates:
    """Inverted index of each text's `probes` smallest hashes: two texts sharing one are a candidate pair."""

    def __init__(self, threshold: float):
        self._probes = probes(threshold)
        self._count = 0
        # hash -> text number, or a list of numbers once a bucket is shared (rare; saves memory)
        self._buckets: dict[int, int | list[int]] = {}

    def add(self, sk: Sequence[int]) -> list[int]:
        """Index `sk` as the next text; return the numbers of the earlier texts it shares a probe with."""
        number, found = self._count, set()
        for h in sk[: self._probes]:
            hit = self._buckets.get(h)
            if hit is None:
                self._buckets[h] = number
            elif isinstance(hit, int):
                found.add(hit)
                self._buckets[h] = [hit, number]
            else:
                found.update(hit)
                hit.append(number)
        self._count += 1
        return sorted(found)


class NearDuplicateIndex:
    """Streaming (ingest): for each added text, the earlier ones whose estimated similarity reaches `threshold`.

    Only a 512-byte sketch and `probes(threshold)` index entries are kept per text, never the text.
    """

    def __init__(self, threshold: float):
        check_threshold(threshold)
        self.threshold = threshold
        self._ids: list[str] = []
        self._sketches: list[array] = []
        self._candidates = _Candidates(threshold)

    def add(self, article_id: str, text: str) -> list[tuple[str, float]]:
        """Index `text` under `article_id`; return (earlier id, estimated similarity) pairs at the threshold or over."""
        sk = array("Q", sketch(shingles(text)))
        found = []
        for j in self._candidates.add(sk):
            score = estimate(sk, self._sketches[j])
            if score >= self.threshold:
                found.append((self._ids[j], round(score, 3)))
        self._ids.append(article_id)
        self._sketches.append(sk)
        return found


def group_near_duplicates(texts: Mapping[str, str], threshold: float) -> dict[str, str]:
    """Map each id to its group: the smallest id among the texts linked to it by exact similarity >= threshold."""
    check_threshold(threshold)
    ids = sorted(texts)  # sorted, so groups and their names do not depend on the input order
    sets = [shingles(texts[i]) for i in ids]
    candidates = _Candidates(threshold)
    parent = list(range(len(ids)))
    for n, grams in enumerate(sets):
        for j in candidates.add(sketch(grams)):
            if jaccard(grams, sets[j]) >= threshold:
                _union(parent, j, n)
    return {doc_id: ids[_find(parent, n)] for n, doc_id in enumerate(ids)}


def _find(parent: list[int], item: int) -> int:
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = parent[item]
    return item


def _union(parent: list[int], a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        # The smaller number (the smaller id) becomes the root: it names the group.
        parent[max(ra, rb)] = min(ra, rb)
