"""Hand-built Tasks for the gold and export tests (no Label Studio needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

from annotate.config import Settings
from annotate.records import Annotation, Prediction, Relation, Span, Task

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Rebels seized Aleppo on Monday. Government troops withdrew from Idlib."
# offsets in TEXT:          0-6 Rebels, 7-13 seized, 14-20 Aleppo, 32-42 Government, 32-49 Government troops,
#                           50-58 withdrew, 64-69 Idlib


def span(start: int, end: int, label: str, text: str = TEXT, id: str | None = None) -> Span:
    """A span whose text is cut from `text`."""
    return Span(start, end, label, text[start:end], id=id)


def ann(task_id: int, who: str, spans: list[Span], *, gt: bool = False, cancelled: bool = False,
        relations: tuple[Relation, ...] = (), parent: int | None = None, aid: int | None = None,
        article: str | None = None) -> Annotation:
    return Annotation(task_id, article or f"art-{task_id}", who, tuple(spans), relations, annotation_id=aid,
                      ground_truth=gt, cancelled=cancelled, parent_prediction=parent)


def task(task_id: int, annotations: list[Annotation], text: str = TEXT, predictions: tuple[Prediction, ...] = (),
         article: str | None = None, meta: dict | None = None) -> Task:
    return Task(task_id, article or f"art-{task_id}", text, meta or {"source": "test"}, predictions,
                tuple(annotations))


def project(tmp_path: Path, **overrides) -> Settings:
    """Settings rooted in a temp folder holding a copy of the real guidelines (schema.toml, the events lexicon)."""
    (tmp_path / "guidelines" / "rules").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "guidelines" / "schema.toml", tmp_path / "guidelines" / "schema.toml")
    shutil.copy(ROOT / "guidelines" / "rules" / "events.toml", tmp_path / "guidelines" / "rules" / "events.toml")
    return Settings(root=tmp_path, **overrides)
