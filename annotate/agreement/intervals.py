"""Vectorised interval tests over many documents at once (numpy only).

Spans from different documents (and labels) are moved apart onto one number line, `group * stride + offset`,
so one sorted search answers "does this span overlap any span of that set" for every document together.
"""

from __future__ import annotations

import numpy as np


def overlaps_any(a_group: np.ndarray, a_start: np.ndarray, a_end: np.ndarray,
                 b_group: np.ndarray, b_start: np.ndarray, b_end: np.ndarray, stride: int) -> np.ndarray:
    """For each interval of A: does it share a character with some interval of B in the same group?"""
    if len(a_start) == 0 or len(b_start) == 0:
        return np.zeros(len(a_start), dtype=bool)
    bs = b_group * stride + b_start
    order = np.argsort(bs, kind="stable")
    bs = bs[order]
    # Running maximum of ends: the latest-starting B interval may be short while an earlier one still covers.
    be = np.maximum.accumulate((b_group * stride + b_end)[order])
    a_s, a_e = a_group * stride + a_start, a_group * stride + a_end
    last = np.searchsorted(bs, a_e, side="left") - 1
    return (last >= 0) & (be[np.maximum(last, 0)] > a_s)


def exact_keys(group: np.ndarray, start: np.ndarray, end: np.ndarray, stride: int) -> np.ndarray:
    """One integer per (group, start, end), for exact matching with np.isin."""
    return (group * stride + start) * stride + end


def merge_overlapping(group: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """Union overlapping intervals within each group; returns sorted (group, start, end)."""
    if len(start) == 0:
        return group, start, end
    order = np.lexsort((start, group))
    group, start, end = group[order], start[order], end[order]
    # Offset by group so the running maximum never carries across groups.
    offset = group.astype(np.int64) * (int(end.max()) + 1)
    reach = np.maximum.accumulate(end + offset)
    new = np.ones(len(start), dtype=bool)
    new[1:] = (start[1:] + offset[1:]) >= reach[:-1]
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(start) - 1)
    return group[first], start[first], reach[last] - offset[last]
