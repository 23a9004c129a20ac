"""Near-duplicates, one definition for ingest and the train/dev split (stdlib only).

Two texts are near-duplicates when the Jaccard similarity of their sets of lower-cased word 5-grams
(shingles) is at least a threshold; the thresholds are settings (config.py): `near_duplicate_threshold`
for ingest's report and `split_near_duplicate_threshold` for the split. Each shingle is hashed once
(64-bit blake2b, so the same in every process and run). The signature is one-permutation MinHash (Li, Owen
& Zhang 2012) with rotation densification (Shrivastava & Li 2014): 64 bins, each keeping its smallest
hash. Ingest streams and keeps only signatures, so it reports their estimate (standard error about 0.06);
the split has every text at hand and checks the exact similarity of the candidates the bands give.
"""

from __future__ import annotations

import hashlib
import math
import re
from array import array
from collections.abc import Mapping

from ..errors import ConfigError

SHINGLE_WORDS = 5
BINS = 64
# A band is 2 bins: a pair becomes a candidate when both agree in some band. One shared bin would do for
# recall, but then a shingle every article carries (a dateline, a sign-off) with a small hash puts them
# all in one bucket and the comparisons grow with the square of the articles.
ROWS = 2
# Share of the pairs at the threshold that may never be compared (see bands): one in ten thousand.
MISSED_PAIRS = 1e-4
_BIN_BITS = BINS.bit_length() - 1
_MASK32 = (1 << 32) - 1
_EMPTY = 1 << 64
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


def signature(grams: frozenset[int]) -> bytes:
    """One-permutation MinHash of a non-empty shingle set: BINS 32-bit minima, packed."""
    mins = [_EMPTY] * BINS
    for h in grams:
        b, v = h & (BINS - 1), h >> _BIN_BITS
        if v < mins[b]:
            mins[b] = v
    # Densify: an empty bin borrows the next non-empty bin's value, offset by the distance, so two
    # texts agree on an empty bin exactly when they agree on the bin it borrows from.
    filled = [i for i, v in enumerate(mins) if v != _EMPTY]
    out = array("I", bytes(4 * BINS))
    for i, v in enumerate(mins):
        if v == _EMPTY:
            dist = next(((j - i) % BINS for j in filled if j > i), (filled[0] - i) % BINS)
            v = mins[(i + dist) % BINS] + dist * 0x9E3779B1
        out[i] = v & _MASK32
    return out.tobytes()


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity: the share of bins whose minima agree."""
    a, b = array("I", sig_a), array("I", sig_b)
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def bands(threshold: float) -> int:
    """How many bands of ROWS bins to index so that a pair at `threshold` is missed at most MISSED_PAIRS
    of the time: a pair at Jaccard j agrees on a band with probability j**ROWS, so it is missed with
    (1 - j**ROWS)**bands. 14 at 0.7, 32 (all 64 bins) at 0.5 and below."""
    check_threshold(threshold)
    if threshold == 1.0:
        return 1
    needed = math.ceil(math.log(MISSED_PAIRS) / math.log(1.0 - threshold**ROWS))
    return min(BINS // ROWS, needed)


class _Candidates:
    """Band keys -> the texts that had them: two texts sharing a key are a candidate pair."""

    def __init__(self, threshold: float):
        self._bands = bands(threshold)
        self._count = 0
        # key -> text number, or a list of numbers once a bucket is shared (rare; saves memory)
        self._buckets: dict[int, int | list[int]] = {}

    def add(self, sig: bytes) -> list[int]:
        """Index `sig` as the next text; return the numbers of the earlier texts it shares a band with."""
        number, found = self._count, set()
        width = ROWS * 4
        for band in range(self._bands):
            key = int.from_bytes(hashlib.blake2b(sig[band * width : (band + 1) * width], digest_size=8,
                                                 person=bytes([band])).digest(), "little")
            hit = self._buckets.get(key)
            if hit is None:
                self._buckets[key] = number
            elif isinstance(hit, int):
                found.add(hit)
                self._buckets[key] = [hit, number]
            else:
                found.update(hit)
                hit.append(number)
        self._count += 1
        return sorted(found)


class NearDuplicateIndex:
    """Streaming (ingest): for each added text, the earlier ones whose estimated similarity reaches `threshold`.

    Only a 256-byte signature and `bands(threshold)` index entries are kept per text, never the text.
    """

    def __init__(self, threshold: float):
        self._candidates = _Candidates(threshold)  # checks the threshold
        self.threshold = threshold
        self._ids: list[str] = []
        self._signatures: list[bytes] = []

    def add(self, article_id: str, text: str) -> list[tuple[str, float]]:
        """Index `text` under `article_id`; return (earlier id, estimated similarity) pairs at the threshold or over."""
        grams = shingles(text)
        if not grams:
            return []
        sig = signature(grams)
        found = []
        for j in self._candidates.add(sig):
            score = similarity(sig, self._signatures[j])
            if score >= self.threshold:
                found.append((self._ids[j], round(score, 3)))
        self._ids.append(article_id)
        self._signatures.append(sig)
        return found


def group_near_duplicates(texts: Mapping[str, str], threshold: float) -> dict[str, str]:
    """Map each id to its group: the smallest id among the texts linked to it by exact similarity >= threshold."""
    candidates = _Candidates(threshold)  # checks the threshold
    ids = sorted(texts)  # sorted, so groups and their names do not depend on the input order
    sets = [shingles(texts[i]) for i in ids]
    indexed: list[int] = []  # candidate number -> position in ids (texts without words are not indexed)
    parent = list(range(len(ids)))
    for n, grams in enumerate(sets):
        if grams:
            for j in candidates.add(signature(grams)):
                if jaccard(grams, sets[indexed[j]]) >= threshold:
                    _union(parent, indexed[j], n)
            indexed.append(n)
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
