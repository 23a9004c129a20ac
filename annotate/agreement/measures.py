"""The agreement sections of the report, each a list of rows stating the tasks and annotators it rests on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .. import scoring
from . import tables as t
from .coefficients import (
    NOT_PAIRABLE,
    binary_coincidences,
    cohen_kappa,
    coincidences_by_group,
    estimate,
    nominal_alpha,
    value_counts,
)
from .spans import counts_of, f1_from_counts, match_counts
from .tokens import TokenCoding
from .unitizing import Units, unitizing_alpha

ALL = "all"  # the label (or annotator pair) value that means "pooled over all of them"


@dataclass(frozen=True)
class PairCounts:
    """Span match counts per document and label for every annotator pair that shares a task."""

    pairs: list[tuple[int, int]]
    counts: np.ndarray  # (n_pairs, n_docs, n_labels, 4)
    shared: np.ndarray  # (n_pairs, n_docs) bool


def shared_docs(tables: t.Tables) -> np.ndarray:
    """Coders x docs: did this annotator complete this task?"""
    done = np.zeros((len(tables.annotators), len(tables.texts)), dtype=bool)
    done[tables.annotations[t.CODER].to_numpy(), tables.annotations[t.DOC].to_numpy()] = True
    return done


def resample(per_doc: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
    """Bootstrap sums of per-document statistics (n_docs, ...) -> (replicates, ...)."""
    if weights is None:
        return None
    return (weights @ per_doc.reshape(per_doc.shape[0], -1)).reshape(weights.shape[0], *per_doc.shape[1:])


def token_alpha_rows(coding: TokenCoding, n_docs: int, weights: np.ndarray | None, n_tasks: int,
                     n_annotators: int) -> tuple[list[dict], np.ndarray]:
    """Nominal alpha over all labels and per label (this label / not); also the per-document coincidences."""
    counts = value_counts(coding.codes, len(coding.values))
    per_doc = coincidences_by_group(counts, coding.doc, n_docs)
    boot = resample(per_doc, weights)
    total = per_doc.sum(axis=0)
    base = {"n_tasks": n_tasks, "n_annotators": n_annotators, "n_tokens": int((counts.sum(axis=1) >= 2).sum())}
    rows = [{t.LABEL: ALL, **base, **_alpha(total, boot, None).to_dict()}]
    for value, label in enumerate(coding.values[1:], start=1):
        binary = binary_coincidences(total, value)
        reason = f"no annotator used {label} on a task shared with another annotator" \
            if total.sum() > 0 and binary[0].sum() == 0 else None
        boot_binary = binary_coincidences(boot, value) if boot is not None else None
        rows.append({t.LABEL: label, **base, **_alpha(binary, boot_binary, reason).to_dict()})
    return rows, per_doc


def _alpha(o: np.ndarray, boot: np.ndarray | None, reason: str | None):
    if o.sum() <= 0:
        return estimate(np.nan, None, NOT_PAIRABLE)
    return estimate(float(nominal_alpha(o)), nominal_alpha(boot) if boot is not None else None, reason)


def kappa_rows(coding: TokenCoding, annotators: Sequence[str]) -> list[dict]:
    """Cohen's kappa on tokens for every annotator pair, on the tokens both coded."""
    n_values = len(coding.values)
    rows = []
    for i, j in combinations(range(len(annotators)), 2):
        both = (coding.codes[i] >= 0) & (coding.codes[j] >= 0)
        pair = coding.codes[i][both].astype(np.int64) * n_values + coding.codes[j][both]
        confusion = np.bincount(pair, minlength=n_values**2).reshape(n_values, n_values)
        kappa, observed, expected, reason = cohen_kappa(confusion)
        rows.append({"annotator_a": annotators[i], "annotator_b": annotators[j],
                     "n_tasks": int(np.unique(coding.doc[both]).size), "n_annotators": 2,
                     "n_tokens": int(both.sum()), "value": kappa, "observed_agreement": _num(observed),
                     "expected_agreement": _num(expected), "reason": reason})
    return rows


def pair_counts(tables: t.Tables, labels: Sequence[str], done: np.ndarray) -> PairCounts:
    """Span match counts for every annotator pair, on the tasks the two share."""
    n_docs = len(tables.texts)
    stride = int(tables.tasks[t.TEXT_LENGTH].max()) + 1 if n_docs else 1
    spans = tables.spans
    pairs, counts, shared = [], [], []
    for i, j in combinations(range(len(tables.annotators)), 2):
        both = done[i] & done[j]
        if not both.any():
            continue
        in_shared = both[spans[t.DOC].to_numpy()]
        a = spans[in_shared & (spans[t.CODER] == i).to_numpy()]
        b = spans[in_shared & (spans[t.CODER] == j).to_numpy()]
        pairs.append((i, j))
        counts.append(match_counts(a, b, labels, n_docs, stride))
        shared.append(both)
    shape = (0, n_docs, len(labels), 4)
    return PairCounts(pairs, np.stack(counts) if counts else np.zeros(shape),
                      np.stack(shared) if shared else np.zeros((0, n_docs), dtype=bool))


def span_f1_rows(pc: PairCounts, labels: Sequence[str], annotators: Sequence[str],
                 weights: np.ndarray | None) -> list[dict]:
    """Exact and overlap span F1 per annotator pair and pooled over pairs, over all labels and per label."""
    return f1_rows(pc, labels, annotators, weights, "span")


def f1_rows(pc: PairCounts, labels: Sequence[str], annotators: Sequence[str], weights: np.ndarray | None,
            unit: str) -> list[dict]:
    """Exact and overlap F1 (scoring.f1) of `unit`s (span, relation) per annotator pair and pooled over pairs, over
    all labels (types) and per label; where neither side has one the value is None with scoring.empty_reason."""
    rows = []
    groups = [((annotators[i], annotators[j]), pc.counts[k], pc.shared[k], 2) for k, (i, j) in enumerate(pc.pairs)]
    if len(pc.pairs) > 1:
        coders = {c for pair in pc.pairs for c in pair}
        groups.append(((ALL, ALL), pc.counts.sum(axis=0), pc.shared.any(axis=0), len(coders)))
    for (name_a, name_b), per_doc, shared, n_people in groups:
        boot = resample(per_doc, weights)
        for index, label in [(None, ALL), *enumerate(labels)]:
            doc_counts = per_doc.sum(axis=1) if index is None else per_doc[:, index]
            boot_counts = None if boot is None else (boot.sum(axis=1) if index is None else boot[:, index])
            total = doc_counts.sum(axis=0)
            for mode in scoring.MODES:
                counts = counts_of(total, mode)
                point = scoring.f1(counts)
                what = unit if label == ALL else f"{label} {unit}"
                reason = None if point is not None else scoring.empty_reason(what, " on the shared tasks")
                samples = None if boot_counts is None else f1_from_counts(boot_counts, mode)
                rows.append({"annotator_a": name_a, "annotator_b": name_b, t.LABEL: label, "mode": mode,
                             "n_tasks": int(shared.sum()), "n_annotators": n_people,
                             f"n_{unit}s_a": int(total[0]), f"n_{unit}s_b": int(total[1]), "tp": counts.tp,
                             **estimate(point, samples, reason).to_dict()})
    return rows


def unitizing_rows(tables: t.Tables, labels: Sequence[str], done: np.ndarray) -> list[dict]:
    """u-alpha per annotator pair on shared tasks, and over all annotators on tasks every one of them did."""
    rows: list[dict] = []
    groups = [([i, j], done[i] & done[j]) for i, j in combinations(range(len(tables.annotators)), 2)]
    if len(tables.annotators) > 2:
        groups.append((list(range(len(tables.annotators))), done.all(axis=0)))
    for coders, docs in groups:
        names = [tables.annotators[c] for c in coders]
        pair = (names[0], names[1]) if len(coders) == 2 else (ALL, ALL)
        base = {"annotator_a": pair[0], "annotator_b": pair[1], "n_tasks": int(docs.sum()), "n_annotators": len(coders)}
        if not docs.any():
            reason = f"no task was completed by all of: {', '.join(names)}"
            rows.extend({**base, t.LABEL: label, "observed_disagreement": None, "expected_disagreement": None,
                         "value": None, "reason": reason} for label in (ALL, *labels))
            continue
        units, length = _continuum(tables, coders, docs, labels)
        result = unitizing_alpha(units, len(labels), length)
        values = [(ALL, result.observed.sum(), result.expected.sum(), result.overall)]
        values += list(zip(labels, result.observed, result.expected, result.per_category, strict=True))
        for label, observed, expected, value in values:
            why = None if np.isfinite(value) else f"no {'unit' if label == ALL else label + ' unit'} on these tasks"
            rows.append({**base, t.LABEL: label, "observed_disagreement": float(observed),
                         "expected_disagreement": float(expected), "value": _num(value), "reason": why})
    return rows


def _continuum(tables: t.Tables, coders: list[int], docs: np.ndarray, labels: Sequence[str]):
    """Lay the chosen tasks end to end; return each coder's units on that continuum and its length."""
    lengths = tables.tasks[t.TEXT_LENGTH].to_numpy(np.int64) * docs
    base = np.cumsum(lengths) - lengths
    spans = tables.spans[docs[tables.spans[t.DOC].to_numpy()] & tables.spans[t.LABEL].isin(labels).to_numpy()]
    code = {label: i for i, label in enumerate(labels)}
    units = []
    for coder in coders:
        mine = spans[spans[t.CODER] == coder]
        shift = base[mine[t.DOC].to_numpy()]
        units.append(Units(mine[t.LABEL].map(code).to_numpy(np.int64), mine[t.START].to_numpy(np.int64) + shift,
                           mine[t.END].to_numpy(np.int64) + shift))
    return units, int(lengths.sum())


def _num(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None
