"""Benchmark: near-duplicates, annotate.ingest.neardup against datasketch and against same-run baselines.

1,000 synthetic articles of 500 words (quick: 300); every fifth is an earlier one with 0-6% of its words
replaced, so exact Jaccard similarities spread from 1.0 down to about 0.5 around both thresholds.
Baselines measured in the same run: shingling alone (the floor any method pays: every text is read and
hashed) and the all-pairs oracle (tests/neardup_oracle.py), which also gives the true pairs and groups.
- ingest: stream every text through NearDuplicateIndex at near_duplicate_threshold, against datasketch
  MinHash (64 permutations) + MinHashLSH at the same threshold, candidates checked on the MinHash estimate.
- split: group_near_duplicates at split_near_duplicate_threshold, against datasketch LSH candidates
  checked on the exact Jaccard (as the split does).
- the same with one wire sign-off appended to every article (5 shingles all of them share, one with a
  small hash): the time should not grow with the square of the articles (the split's former bottom-k
  index compared every pair there).
datasketch is optional (`pip install datasketch==2.0.0` to compare); without it its lines say so.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable, Mapping
from functools import partial
from itertools import combinations
from typing import Any

from annotate.config import Settings
from annotate.ingest.neardup import BINS, NearDuplicateIndex, group_near_duplicates, jaccard, shingles
from tests.neardup_oracle import group_near_duplicates_naive

_PHRASE = ("rebels seized the town of Idlib on Tuesday killing eleven soldiers near Aleppo said activists army forces "
           "withdrew from province after clashes with militants in northern Syria government troops shelled village")
WORDS = tuple(_PHRASE.split())
NUM_PERM = BINS  # the same signature size as annotate.ingest.neardup
SIGN_OFF = "Reporting by staff in Beirut; editing by desk 1404."  # as in tests/test_neardup.py


def make_texts(n: int) -> dict[str, str]:
    """n synthetic articles; every fifth copies one of the previous ten with 0-6% of its words replaced."""
    rng = random.Random(11)
    texts: dict[str, str] = {}
    for i in range(n):
        if i % 5 == 4:
            share = rng.choice((0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06))
            words = texts[f"a{max(0, i - rng.randint(1, 10)):05d}"].split()
            text = " ".join(f"w{rng.randrange(10**6)}" if rng.random() < share else w for w in words)
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(500))
        texts[f"a{i:05d}"] = text
    return texts


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """The best of `repeat` wall times of `fn` (the machine is shared), and its result."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _peak(fn: Callable[[], Any]) -> int:
    """tracemalloc peak of `fn` in bytes (a separate run: tracing slows Python down)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _ingest_ours(texts: Mapping[str, str], threshold: float) -> set[tuple[str, str]]:
    index = NearDuplicateIndex(threshold)
    return {(other, key) for key, text in texts.items() for other, _ in index.add(key, text)}


def _minhash(grams: frozenset[int], permutations: Any) -> Any:
    """datasketch's MinHash of annotate.ingest.neardup's own shingle hashes (one shingling; it permutes 64-bit values)."""
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, hashfunc=int, permutations=permutations, scheme="affine64")
    m.update_batch(grams)
    return m


def _ingest_datasketch(texts: Mapping[str, str], threshold: float) -> set[tuple[str, str]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    permutations = MinHash(num_perm=NUM_PERM, scheme="affine64").permutations  # shared, as MinHash.bulk does
    kept: dict[str, Any] = {}
    found = set()
    for key, text in texts.items():
        m = _minhash(shingles(text), permutations)
        found |= {(other, key) for other in lsh.query(m) if kept[other].jaccard(m) >= threshold}
        lsh.insert(key, m)
        kept[key] = m
    return found


def _split_datasketch(texts: Mapping[str, str], threshold: float) -> dict[str, str]:
    from datasketch import MinHash, MinHashLSH

    ids = sorted(texts)
    sets = {k: shingles(texts[k]) for k in ids}
    permutations = MinHash(num_perm=NUM_PERM, scheme="affine64").permutations
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    group = {k: k for k in ids}

    def find(k: str) -> str:
        while group[k] != k:
            k = group[k]
        return k

    for key in ids:
        m = _minhash(sets[key], permutations)
        for other in lsh.query(m):
            if jaccard(sets[key], sets[other]) >= threshold:
                a, b = find(key), find(other)
                group[max(a, b)] = min(a, b)
        lsh.insert(key, m)
    return {k: find(k) for k in ids}


def _both(ingest: Callable, grouping: Callable, texts: Mapping[str, str], near: float, split: float) -> None:
    ingest(texts, near)
    grouping(texts, split)


_INGEST = {"ours": _ingest_ours, "datasketch": _ingest_datasketch}
_SPLIT = {"ours": group_near_duplicates, "datasketch": _split_datasketch}


def _datasketch_available() -> bool:
    try:
        import datasketch  # noqa: F401
    except ImportError:
        return False
    return True


def run(quick: bool = False) -> dict[str, Any]:
    """Time and check both callers' paths, ours and datasketch's, against shingling and the all-pairs oracle."""
    texts = make_texts(300 if quick else 1000)
    near, split = Settings.near_duplicate_threshold, Settings.split_near_duplicate_threshold
    t_shingle, sets = _timed(lambda: {k: shingles(t) for k, t in texts.items()}, repeat=3)
    t_pairs, truth = _timed(lambda: {(a, b): jaccard(sets[a], sets[b]) for a, b in combinations(sorted(sets), 2)})
    true_near = {p for p, j in truth.items() if j >= near}
    t_oracle, oracle = _timed(lambda: group_near_duplicates_naive(texts, split))
    out: dict[str, Any] = {"articles": len(texts), "true_pairs_at_near_threshold": len(true_near),
                           "true_groups_at_split_threshold": len(set(oracle.values())),
                           "baseline_shingles_s": round(t_shingle, 3), "baseline_all_pairs_s": round(t_pairs, 2),
                           "baseline_oracle_groups_s": round(t_oracle, 2)}
    names = ["ours"]
    if _datasketch_available():
        from datasketch import MinHashLSH

        names.append("datasketch")
        # Its bands x rows, chosen by its own optimiser for each threshold (weights: false positives = negatives).
        out["datasketch_lsh_bands_rows"] = {t: (lsh.b, lsh.r) for t in (near, split)
                                            for lsh in [MinHashLSH(threshold=t, num_perm=NUM_PERM)]}
    else:
        out["datasketch"] = "not installed: pip install datasketch==2.0.0 to compare"
    signed = {k: f"{t} {SIGN_OFF}" for k, t in texts.items()}
    for name in names:
        ingest, grouping = _INGEST[name], _SPLIT[name]
        t_ingest, found = _timed(partial(ingest, texts, near), repeat=3)
        t_split, groups = _timed(partial(grouping, texts, split), repeat=3)
        t_signed, _ = _timed(partial(_both, ingest, grouping, signed, near, split))
        out |= {
            f"{name}_ingest_s": round(t_ingest, 3),
            f"{name}_ingest_vs_shingles": round(t_ingest / t_shingle, 2),
            f"{name}_ingest_recall": round(len(found & true_near) / len(true_near), 4) if true_near else None,
            f"{name}_ingest_precision": round(len(found & true_near) / len(found), 4) if found else None,
            f"{name}_ingest_peak_bytes_per_article": round(_peak(partial(ingest, texts, near)) / len(texts)),
            f"{name}_split_s": round(t_split, 3),
            f"{name}_split_speedup_vs_oracle": round(t_oracle / t_split, 1),
            f"{name}_split_groups_agree_with_oracle": groups == oracle,
            f"{name}_with_sign_off_vs_without_time": round(t_signed / (t_ingest + t_split), 2),
        }
    if "datasketch" in names:
        out["datasketch_vs_ours_ingest_time"] = round(out["datasketch_ingest_s"] / out["ours_ingest_s"], 2)
        out["datasketch_vs_ours_split_time"] = round(out["datasketch_split_s"] / out["ours_split_s"], 2)
    for key, value in out.items():
        print(f"  {key:44} {value}")
    return out


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
