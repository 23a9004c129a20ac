"""Where a gold span came from: a model prediction accepted unchanged, a corrected prediction, or by hand."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .records import Annotation, Prediction, Task

SpanKey = tuple[int, int, str]

ACCEPTED = "prediction"  # a predicted span kept exactly (start, end, label)
CORRECTED = "corrected"  # a predicted span whose boundaries and/or label an annotator changed
HAND = "hand"  # no prediction overlaps it: drawn by hand


@dataclass(frozen=True)
class Origin:
    """How a span relates to the model's predictions; `predicted` is the predicted span it corrects."""

    origin: str
    correction: str | None = None  # "boundary", "label" or "boundary+label" when corrected
    model_version: str | None = None
    predicted: SpanKey | None = None


def parent_predictions(task: Task, annotations: Iterable[Annotation]) -> tuple[Prediction, ...]:
    """Predictions the annotations started from (their parent_prediction), else all of the task's."""
    by_id = {p.prediction_id: p for p in task.predictions if p.prediction_id is not None}
    chosen: list[Prediction] = []
    for ann in annotations:
        parent = by_id.get(ann.parent_prediction) if ann.parent_prediction is not None else None
        # Without a known parent we cannot tell which prediction the editor showed, so compare with all.
        if parent is None:
            return task.predictions
        if parent not in chosen:
            chosen.append(parent)
    return tuple(chosen) or task.predictions


def classify_span(key: SpanKey, predictions: Sequence[Prediction]) -> Origin:
    """Compare one span with the predictions: exact match, same range, overlap, or none."""
    start, end, label = key
    best: tuple[int, Origin] | None = None
    for pred in predictions:
        for span in pred.spans:
            if span.end <= start or span.start >= end:
                continue
            same_range = (span.start, span.end) == (start, end)
            if same_range and span.label == label:
                return Origin(ACCEPTED, None, pred.model_version, span.key)
            # Prefer the closest prediction: a pure label change, then a pure boundary change, then both.
            rank, kind = (0, "label") if same_range else (1, "boundary") if span.label == label else (2, "boundary+label")
            if best is None or rank < best[0]:
                best = (rank, Origin(CORRECTED, kind, pred.model_version, span.key))
    return best[1] if best else Origin(HAND)
