"""Span-level agreement: per-document, per-label match counts for two span sets, and F1 from them.

The matching rules are `annotate.scoring`'s (sets of (start, end, label): a duplicate is one span; exact, or
the largest one-to-one matching of same-label spans sharing a character). Counting is vectorised over all
documents; wherever a span overlaps two or more spans of the other side (the only case where one-to-one
matching needs a search), that document and label is handed to `scoring.match_spans` itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import scoring
from ..records import Span
from . import tables as t
from .intervals import exact_keys

# Order of the last axis of the per-document count array; tp is symmetric, so F1 = 2 tp / (n_a + n_b).
COUNT_FIELDS = ("n_a", "n_b", "tp_exact", "tp_overlap")


def _arrays(spans: pd.DataFrame, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    label_index = spans[t.LABEL].map({label: i for i, label in enumerate(labels)}).to_numpy(np.int64)
    group = spans[t.DOC].to_numpy(np.int64) * len(labels) + label_index
    return group, spans[t.START].to_numpy(np.int64), spans[t.END].to_numpy(np.int64)


def _partners(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], stride: int) -> np.ndarray:
    """For each A span: how many B spans of the same group share a character with it."""
    b_starts = np.sort(b[0] * stride + b[1])
    b_ends = np.sort(b[0] * stride + b[2])
    # B spans starting before A's end, minus those ending at or before A's start (they started earlier too).
    return np.searchsorted(b_starts, a[0] * stride + a[2], "left") - np.searchsorted(b_ends, a[0] * stride + a[1],
                                                                                        "right")


def _exact_tp(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], size: int, stride: int) -> np.ndarray:
    """Intersection size of (start, end) per group (the sides are already sets)."""
    keys_a, keys_b = exact_keys(a[0], a[1], a[2], stride), exact_keys(b[0], b[1], b[2], stride)
    common, count_a = np.unique(keys_a, return_counts=True)
    in_b, count_b = np.unique(keys_b, return_counts=True)
    shared, ia, ib = np.intersect1d(common, in_b, assume_unique=True, return_indices=True)
    return np.bincount(shared // stride // stride, weights=np.minimum(count_a[ia], count_b[ib]), minlength=size)


def _overlap_tp(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...], labels: Sequence[str], size: int,
                stride: int) -> np.ndarray:
    """Largest one-to-one overlap matching per group; simple groups counted directly, others by match_spans."""
    pa, pb = _partners(a, b, stride), _partners(b, a, stride)
    tp = np.bincount(a[0], weights=(pa == 1).astype(np.float64), minlength=size)
    tangled = np.union1d(a[0][pa > 1], b[0][pb > 1])
    for group in tangled:
        label = labels[group % len(labels)]
        side_a = [Span(int(s), int(e), label, "") for s, e in zip(a[1][a[0] == group], a[2][a[0] == group],
                                                                    strict=True)]
        side_b = [Span(int(s), int(e), label, "") for s, e in zip(b[1][b[0] == group], b[2][b[0] == group],
                                                                    strict=True)]
        tp[group] = scoring.match_spans(side_a, side_b, "overlap")[label].tp
    return tp


def match_counts(a: pd.DataFrame, b: pd.DataFrame, labels: Sequence[str], n_docs: int, stride: int) -> np.ndarray:
    """Counts per document and label, shape (n_docs, n_labels, len(COUNT_FIELDS)); other labels are ignored.

    `stride` must exceed every span end (e.g. the longest text length plus one).
    """
    key = [t.DOC, t.START, t.END, t.LABEL]
    a = a[a[t.LABEL].isin(labels)].drop_duplicates(key)  # sides are sets (scoring): a span drawn twice is one
    b = b[b[t.LABEL].isin(labels)].drop_duplicates(key)
    arr_a, arr_b = _arrays(a, labels), _arrays(b, labels)
    size = n_docs * len(labels)
    out = np.stack([
        np.bincount(arr_a[0], minlength=size).astype(np.float64),
        np.bincount(arr_b[0], minlength=size).astype(np.float64),
        _exact_tp(arr_a, arr_b, size, stride),
        _overlap_tp(arr_a, arr_b, labels, size, stride),
    ], -1)
    return out.reshape(n_docs, len(labels), len(COUNT_FIELDS))


def f1_from_counts(counts: np.ndarray, mode: str) -> np.ndarray:
    """scoring.f1 over arrays of summed counts (..., COUNT_FIELDS): 2 tp / (n_a + n_b), NaN where scoring.f1 is
    None (neither side has a span). NaN stays inside the report: report._clean turns it into null, beside the
    scoring.empty_reason that every row carrying it gets (tests/test_agreement_spans.py pins the two together)."""
    tp = counts[..., 2] if mode == "exact" else counts[..., 3]
    total = counts[..., 0] + counts[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, 2 * tp / total, np.nan)


def counts_of(total: np.ndarray, mode: str) -> scoring.Counts:
    """One summed count vector (COUNT_FIELDS) as scoring.Counts, A as gold and B as predicted."""
    return scoring.Counts.from_sizes(total[2] if mode == "exact" else total[3], total[0], total[1])
