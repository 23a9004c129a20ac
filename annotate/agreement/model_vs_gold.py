"""Precision, recall and F1 of each model version's predictions against a gold standard."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import scoring
from ..errors import InputError
from ..gold.provenance import ACCEPTED, inflation_caveat
from ..records import Document, Span
from . import tables as t
from .coefficients import bootstrap_weights, percentile_interval
from .spans import counts_of, f1_from_counts, match_counts

Gold = Sequence[Document] | Mapping[str, Sequence[Span]]
GOLD_COLUMNS = [t.MODEL_VERSION, t.LABEL, "mode", "n_tasks", "n_gold", "n_predicted", "tp", "precision", "recall",
                "f1", "f1_ci_low", "f1_ci_high", "reason"]


def gold_origins(path: Path | str) -> dict[str, int]:
    """Gold spans per `origin` (gold.jsonl's provenance: prediction, corrected, hand; "unknown" where absent)."""
    counts: Counter[str] = Counter()
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                counts.update(str(s.get("origin") or "unknown") for s in json.loads(line).get("spans") or ())
    return dict(sorted(counts.items()))


def gold_provenance(origins: Mapping[str, int] | None, gold_spans: int) -> dict[str, Any]:
    """How much of the gold is predictions accepted unchanged, and the one-line caveat to show beside the scores."""
    total = sum(origins.values()) if origins else gold_spans
    known = bool(origins) and not (origins or {}).get("unknown")
    accepted = origins.get(ACCEPTED, 0) if origins and known else None
    return {"n_spans": total, "origins": dict(origins or {}), "accepted_unchanged": accepted,
            "accepted_share": None if accepted is None or not total else accepted / total,
            "caveat": inflation_caveat(accepted, total)}


def gold_table(tables: t.Tables, gold: Gold) -> tuple[pd.DataFrame, np.ndarray]:
    """Gold spans (doc, start, end, label) of the tasks whose article is in `gold`, and those tasks' docs."""
    by_article = dict(gold) if isinstance(gold, Mapping) else {d.id: d for d in gold}
    rows: list[tuple[int, int, int, str]] = []
    covered: list[int] = []
    for doc, (article, text) in enumerate(zip(tables.tasks[t.ARTICLE_ID], tables.texts, strict=True)):
        entry = by_article.get(article)
        if entry is None:
            continue
        if isinstance(entry, Document):
            if entry.text != text:
                raise InputError(f"gold document {article!r} has a different text from Label Studio task "
                                 f"{tables.tasks[t.TASK_ID].iloc[doc]}; gold must come from the same articles")
            entry = entry.spans
        covered.append(doc)
        rows.extend((doc, s.start, s.end, s.label) for s in entry)
    frame = pd.DataFrame.from_records(rows, columns=[t.DOC, t.START, t.END, t.LABEL])
    return frame.astype({t.DOC: np.int64, t.START: np.int64, t.END: np.int64}), np.array(covered, dtype=np.int64)


def score_models(tables: t.Tables, gold: Gold, labels: Sequence[str], replicates: int, seed: int) -> pd.DataFrame:
    """One row per model version x (all labels, each label) x matching mode, with a bootstrap CI for F1."""
    gold_spans, covered = gold_table(tables, gold)
    n_docs = len(tables.texts)
    stride = int(tables.tasks[t.TEXT_LENGTH].max()) + 1 if n_docs else 1
    rows = []
    for version, sets in tables.prediction_sets.groupby(t.MODEL_VERSION, sort=True):
        latest = sets.sort_values(t.PREDICTION_ID).drop_duplicates(t.DOC, keep="last")
        docs = np.intersect1d(latest[t.DOC].to_numpy(np.int64), covered)
        pred = tables.predictions.merge(latest[latest[t.DOC].isin(docs)][[t.DOC, t.PREDICTION_ID]])
        counts = match_counts(gold_spans[gold_spans[t.DOC].isin(docs)], pred, labels, n_docs, stride)[docs]
        weights = bootstrap_weights(len(docs), replicates, seed) if replicates and len(docs) >= 2 else None
        for index, label in [(None, "all"), *enumerate(labels)]:
            per_doc = counts.sum(axis=1) if index is None else counts[:, index]
            rows.extend(_rows(str(version), label, per_doc, weights))
    return pd.DataFrame(rows, columns=GOLD_COLUMNS)


def _rows(version: str, label: str, per_doc: np.ndarray, weights: np.ndarray | None) -> list[list]:
    total = per_doc.sum(axis=0)
    out = []
    for mode in scoring.MODES:
        counts = counts_of(total, mode)
        f1 = scoring.f1(counts)
        low, high = (None, None)
        if f1 is not None and weights is not None:
            low, high = percentile_interval(f1_from_counts(weights @ per_doc, mode))
        # The undefined ones are null in the report, shown n/a beside this reason (model_vs_gold's P, R and F1).
        reason = scoring.undefined_reason(counts, "span" if label == "all" else f"{label} span")
        out.append([version, label, mode, len(per_doc), int(total[0]), int(total[1]), counts.tp,
                    scoring.precision(counts), scoring.recall(counts), f1, low, high, reason])
    return out
