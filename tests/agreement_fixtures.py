"""Hand-built tasks for the agreement tests."""

from __future__ import annotations

from annotate.records import Annotation, Prediction, Span, Task

TEXT = "Rebels seized Idlib on Tuesday, killing 11 soldiers near Aleppo."
#       0     6 7    13 14  19 20 22 23    30 32   39 40 42 43   51 52  56 57   63


def span(start: int, end: int, label: str, source: str | None = None, text: str = TEXT) -> Span:
    """A span whose text is cut from `text`."""
    return Span(start, end, label, text[start:end], source=source)


def annotation(task_id: int, annotator: str, spans: tuple[Span, ...], lead_time: float | None = 20.0,
               parent: int | None = None, cancelled: bool = False) -> Annotation:
    return Annotation(task_id, f"art{task_id}", annotator, spans, lead_time=lead_time, parent_prediction=parent,
                      cancelled=cancelled)


def task(task_id: int, annotations: tuple[Annotation, ...], predictions: tuple[Prediction, ...] = (),
         text: str = TEXT) -> Task:
    return Task(task_id, f"art{task_id}", text, predictions=predictions, annotations=annotations)


ACTOR = span(0, 6, "ACTOR")  # Rebels
SEIZED = span(7, 13, "OUTCOME")  # seized
IDLIB = span(14, 19, "LOCATION")  # Idlib
KILLING = span(32, 39, "OUTCOME")  # killing
SOLDIERS = span(43, 51, "ACTOR")  # soldiers
ALEPPO = span(57, 63, "LOCATION")  # Aleppo
