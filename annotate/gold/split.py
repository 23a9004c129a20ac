"""Deterministic train/dev split that keeps near-duplicate articles on the same side (stdlib only).

Near-duplicates (the same wire story republished, a corrected version) would leak between train and dev
and inflate dev scores, so they are grouped first, by the one definition in neardup.py at the
`split_near_duplicate_threshold` setting. Its default (0.5) is below ingest's (0.7) on purpose: ingest
reports pairs for a person to look at, the split must not let a rewritten copy leak.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ..config import Settings
from ..ingest.neardup import group_near_duplicates


def _score(group: str) -> float:
    """A stable pseudo-random number in [0, 1) from the group id (blake2b: the same in every process)."""
    return int.from_bytes(hashlib.blake2b(("split:" + group).encode("utf-8"), digest_size=8).digest(), "big") / 2**64


def assign_split(texts: Mapping[str, str], dev_ratio: float,
                 threshold: float = Settings.split_near_duplicate_threshold) -> dict[str, str]:
    """Map each article id to "train" or "dev": by the hash of its near-duplicate group's id.

    Hashing (rather than sorting and cutting) keeps an article on the same side as the dataset grows. If the
    hash sends every group to one side although both are wanted, the group nearest the cut moves over, so
    a small dataset still gets a dev set.
    """
    groups = group_near_duplicates(texts, threshold)
    scores = {g: _score(g) for g in set(groups.values())}
    dev = {g for g, s in scores.items() if s < dev_ratio}
    if dev_ratio > 0 and len(scores) >= 2:
        if not dev:
            dev = {min(scores, key=lambda g: (scores[g], g))}
        elif dev == set(scores):
            dev.discard(max(scores, key=lambda g: (scores[g], g)))
    return {doc_id: "dev" if group in dev else "train" for doc_id, group in groups.items()}
