"""Tasks -> pandas tables, built once; every agreement measure reads these, never the Task objects.

Column names are defined here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..records import Task

TASK_ID = "task_id"
ARTICLE_ID = "article_id"
ANNOTATOR = "annotator"
ANNOTATION_ID = "annotation_id"
PREDICTION_ID = "prediction_id"
PARENT_PREDICTION = "parent_prediction"
MODEL_VERSION = "model_version"
LEAD_TIME = "lead_time"
TEXT_LENGTH = "text_length"
N_ANNOTATORS = "n_annotators"
N_SPANS = "n_spans"
START = "start"
END = "end"
LABEL = "label"
SOURCE = "source"
SCORE = "score"
DOC = "doc"  # position of the task in Tables.tasks: the integer every numpy array is indexed by
CODER = "coder"  # position of the annotator in Tables.annotators

TASK_COLUMNS = [DOC, TASK_ID, ARTICLE_ID, TEXT_LENGTH, N_ANNOTATORS]
ANNOTATION_COLUMNS = [DOC, TASK_ID, ARTICLE_ID, ANNOTATOR, CODER, ANNOTATION_ID, LEAD_TIME, N_SPANS, PARENT_PREDICTION]
SPAN_COLUMNS = [DOC, TASK_ID, ANNOTATOR, CODER, START, END, LABEL, SOURCE]
PREDICTION_COLUMNS = [DOC, TASK_ID, PREDICTION_ID, MODEL_VERSION, START, END, LABEL, SOURCE, SCORE]
PREDICTION_SET_COLUMNS = [DOC, TASK_ID, PREDICTION_ID, MODEL_VERSION, N_SPANS]
UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True)
class Tables:
    """The tables every measure uses, plus the task texts (indexed by `doc`) and annotator names (by `coder`)."""

    tasks: pd.DataFrame
    annotations: pd.DataFrame  # one row per annotator per task: the final, non-cancelled annotation
    spans: pd.DataFrame  # spans of those annotations
    predictions: pd.DataFrame  # predicted spans
    prediction_sets: pd.DataFrame  # one row per prediction (also those with no spans)
    texts: tuple[str, ...]
    annotators: tuple[str, ...]


def build_tables(tasks: Sequence[Task]) -> Tables:
    """Flatten tasks into task, annotation, span and prediction tables (one row per thing)."""
    finals = [task.final for task in tasks]
    annotators = tuple(sorted({ann.annotator for anns in finals for ann in anns}))
    coder_of = {name: i for i, name in enumerate(annotators)}
    task_rows: list[tuple[Any, ...]] = []
    ann_rows: list[tuple[Any, ...]] = []
    span_rows: list[tuple[Any, ...]] = []
    pred_rows: list[tuple[Any, ...]] = []
    set_rows: list[tuple[Any, ...]] = []
    for doc, (task, anns) in enumerate(zip(tasks, finals, strict=True)):
        task_rows.append((doc, task.task_id, task.article_id, len(task.text), len(anns)))
        for ann in anns:
            coder = coder_of[ann.annotator]
            ann_rows.append((doc, task.task_id, task.article_id, ann.annotator, coder, ann.annotation_id,
                             ann.lead_time, len(ann.spans), ann.parent_prediction))
            span_rows.extend((doc, task.task_id, ann.annotator, coder, s.start, s.end, s.label, s.source)
                             for s in ann.spans)
        for number, pred in enumerate(task.predictions):
            # Predictions without a Label Studio id still need a key that is unique within the task.
            pid = pred.prediction_id if pred.prediction_id is not None else -1 - number
            set_rows.append((doc, task.task_id, pid, pred.model_version, len(pred.spans)))
            pred_rows.extend((doc, task.task_id, pid, pred.model_version, s.start, s.end, s.label,
                              s.source or UNKNOWN_SOURCE, s.score) for s in pred.spans)
    return Tables(
        tasks=_frame(task_rows, TASK_COLUMNS, {TEXT_LENGTH: np.int64, N_ANNOTATORS: np.int64}),
        annotations=_frame(ann_rows, ANNOTATION_COLUMNS, {LEAD_TIME: np.float64}),
        spans=_frame(span_rows, SPAN_COLUMNS, {START: np.int64, END: np.int64}),
        predictions=_frame(pred_rows, PREDICTION_COLUMNS, {START: np.int64, END: np.int64, SCORE: np.float64}),
        prediction_sets=_frame(set_rows, PREDICTION_SET_COLUMNS, {PREDICTION_ID: np.int64, N_SPANS: np.int64}),
        texts=tuple(task.text for task in tasks),
        annotators=annotators,
    )


def _frame(rows: list[tuple], columns: list[str], dtypes: dict[str, type]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in (DOC, CODER, PREDICTION_ID):
        if column in frame:
            frame[column] = frame[column].astype(np.int64)
    return frame.astype({k: v for k, v in dtypes.items() if k in frame})
