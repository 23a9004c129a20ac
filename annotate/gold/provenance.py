"""Where a gold span came from: a model prediction accepted unchanged, a corrected prediction, or by hand."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..records import Annotation, Prediction, SpanKey, Task

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


def inflation_caveat(accepted: int | None, total: int) -> str:
    """One line on how far a score against this gold is inflated by accepted pre-fill (`accepted` None: unknown).

    A gold built by accepting the model's own predictions scores that model against its output: on the seeds the
    rules score exact F1 0.975 against a gold made from their pre-fill, 0.812 against the hand-made seed gold.
    """
    if accepted is None:
        return (f"Caveat: the gold records no provenance (span `origin`) for its {total} spans; if annotators built "
                "it from this model's pre-fill, these scores are inflated.")
    share = f"{accepted / total:.0%}" if total else "n/a"
    if not accepted:
        return f"None of the {total} gold spans is a prediction accepted unchanged: scores are not inflated by pre-fill."
    return (f"Caveat: {accepted} of {total} gold spans ({share}) are model predictions accepted unchanged, so scores "
            "against this gold are inflated (a model is partly scored against its own output); an independent, "
            "hand-made gold gives lower figures.")
