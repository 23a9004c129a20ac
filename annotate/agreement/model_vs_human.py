"""What annotators did with the pre-annotation: accepted, re-bounded, relabelled, deleted, or added.

Each final annotation is compared with the prediction it was made from (`parent_prediction`) when Label
Studio recorded one, otherwise with every prediction on the task (one comparison per model version).
A predicted span is, in this order of precedence:
  accepted          the annotation has a span with the same start, end and label
  boundary_changed  ... else a span with the same label that shares a character with it
  relabelled        ... else a span with another label that shares a character with it
  deleted           ... else nothing overlaps it
A human span that overlaps no predicted span of that prediction is `added`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import tables as t
from .intervals import exact_keys, overlaps_any

OUTCOME = "outcome"
COMPARISON = "comparison"
ACCEPTED, BOUNDARY, RELABELLED, DELETED, ADDED = "accepted", "boundary_changed", "relabelled", "deleted", "added"
PREDICTED_OUTCOMES = (ACCEPTED, BOUNDARY, RELABELLED, DELETED)
OUTCOMES = (*PREDICTED_OUTCOMES, ADDED)
NO_SOURCE = "-"  # source of an added span: no rule or model proposed it
OUTCOME_COLUMNS = [t.DOC, t.TASK_ID, t.ANNOTATOR, t.MODEL_VERSION, t.SOURCE, t.LABEL, OUTCOME]


def comparisons(tables: t.Tables) -> pd.DataFrame:
    """One row per (final annotation, prediction it is compared with), numbered by COMPARISON."""
    anns = tables.annotations[[t.DOC, t.TASK_ID, t.ANNOTATOR, t.CODER, t.PARENT_PREDICTION]]
    sets = tables.prediction_sets[[t.DOC, t.PREDICTION_ID, t.MODEL_VERSION]]
    pairs = anns.merge(sets, on=t.DOC, how="inner")
    parent = pd.to_numeric(pairs[t.PARENT_PREDICTION], errors="coerce")
    # Keep the parent prediction when it is one of this task's predictions; otherwise keep them all.
    known = pairs.assign(_hit=(parent == pairs[t.PREDICTION_ID])).groupby([t.DOC, t.CODER])["_hit"].transform("any")
    pairs = pairs[~known | (parent == pairs[t.PREDICTION_ID])].reset_index(drop=True)
    return pairs.assign(**{COMPARISON: np.arange(len(pairs), dtype=np.int64)})


def classify(tables: t.Tables, labels: list[str]) -> pd.DataFrame:
    """One row per compared predicted span and per added human span, with its outcome (OUTCOME_COLUMNS)."""
    pairs = comparisons(tables)
    keys = [t.DOC, t.PREDICTION_ID]
    pred = tables.predictions.merge(pairs[[*keys, t.ANNOTATOR, t.CODER, COMPARISON]], on=keys)
    human = tables.spans.merge(pairs[[t.DOC, t.CODER, t.MODEL_VERSION, COMPARISON]], on=[t.DOC, t.CODER])
    stride = int(max(tables.tasks[t.TEXT_LENGTH].max(), 0) if len(tables.tasks) else 0) + 1
    code = {label: i for i, label in enumerate(sorted(set(labels) | set(pred[t.LABEL]) | set(human[t.LABEL])))}

    def cols(frame: pd.DataFrame, by_label: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        group = frame[COMPARISON].to_numpy(np.int64)
        if by_label:
            group = group * len(code) + frame[t.LABEL].map(code).to_numpy(np.int64)
        return group, frame[t.START].to_numpy(np.int64), frame[t.END].to_numpy(np.int64)

    p_lab, h_lab, p_any, h_any = cols(pred, True), cols(human, True), cols(pred, False), cols(human, False)
    exact = np.isin(exact_keys(*p_lab, stride), exact_keys(*h_lab, stride))
    same_label = overlaps_any(*p_lab, *h_lab, stride)
    any_label = overlaps_any(*p_any, *h_any, stride)
    outcome = np.select([exact, same_label, any_label], [ACCEPTED, BOUNDARY, RELABELLED], default=DELETED)
    added = ~overlaps_any(*h_any, *p_any, stride)
    rows_pred = pred.assign(**{OUTCOME: outcome})[OUTCOME_COLUMNS]
    rows_added = human[added].assign(**{t.SOURCE: NO_SOURCE, OUTCOME: ADDED})
    return pd.concat([rows_pred, rows_added[OUTCOME_COLUMNS]], ignore_index=True)


def outcome_table(outcomes: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Counts and rates of each outcome, overall (by=None) or per label / model_version / source / annotator."""
    keys = [by] if by else []
    frame = outcomes.assign(_all="all")
    counts = frame.groupby([*keys, OUTCOME] if keys else ["_all", OUTCOME]).size().unstack(OUTCOME, fill_value=0)
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0)
    counts["n_predicted"] = counts[list(PREDICTED_OUTCOMES)].sum(axis=1)
    tasks = frame.groupby(keys or ["_all"])[t.DOC].nunique().rename("n_tasks")
    people = frame.groupby(keys or ["_all"])[t.ANNOTATOR].nunique().rename(t.N_ANNOTATORS)
    table = counts.join(tasks).join(people).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        for name in PREDICTED_OUTCOMES:
            table[f"{name}_rate"] = np.where(table["n_predicted"] > 0, table[name] / table["n_predicted"], np.nan)
    table = table.rename(columns={by or "_all": "group"})
    table.insert(0, "group_by", by or "all")
    table.columns.name = None
    return table
