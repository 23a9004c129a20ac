"""The shapes of what the dashboard pages show: the data version on screen (View: its summary, an index of every
task's sortable values as arrays, the tasks themselves on demand), the document rows and their orderings, and the
overview's counts. Nothing here holds every task: a listing is sorted on the index and only its page is read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..gold.adjudicate import status_text
from ..gold.summary import COLUMNS, Summary, annotator_stats, daily_progress, title_of
from ..labelstudio.archive import archive_project
from ..labelstudio.convert import Quarantined
from ..records import Task
from ..schema import Schema

__all__ = ["DocRow", "Index", "View", "annotator_stats", "daily_progress", "progress", "title_of"]
FileKey = tuple[str, int, int] | None
# Each ordering as the row fields it sorts on, in priority; "-" sorts descending; a measure that is missing
# (None) sorts after every value (Index.select).
SORTS: dict[str, tuple[str, ...]] = {
    "worst": ("exact_f1", "-n_open", "task_id"),  # lowest exact span F1 first, then most open disagreements
    "open": ("-n_open", "task_id"),
    "alpha": ("token_alpha", "task_id"),
    "id": ("task_id",),
}
MEASURES = ("exact_f1", "token_alpha")


@dataclass(frozen=True)
class DocRow:
    """One line of the documents page."""

    task_id: int
    article_id: str
    title: str
    annotators: tuple[str, ...]
    labels: frozenset[str]
    token_alpha: float | None
    exact_f1: float | None
    n_open: int
    status: str

    @property
    def status_text(self) -> str:
        return status_text(self.status, self.n_open)

    @classmethod
    def from_summary(cls, row: dict[str, Any]) -> DocRow:
        return cls(row["task_id"], row["article_id"], row["title"], tuple(row["annotators"]), frozenset(row["labels"]),
                   row["token_alpha"], row["exact_f1"], row["n_open"], row["status"])


def _masks(lists: Sequence[Sequence[str]], n: int) -> dict[str, np.ndarray]:
    """name -> which rows list it."""
    where: dict[str, list[int]] = {}
    for i, names in enumerate(lists):
        for name in names:
            where.setdefault(name, []).append(i)
    masks = {}
    for name, rows in where.items():
        masks[name] = np.zeros(n, dtype=bool)
        masks[name][rows] = True
    return masks


class Index:
    """Every task's sortable and filterable values as arrays, in task id order (a few MB for 100,000 tasks)."""

    def __init__(self, columns: dict[str, list[Any]]):
        self.task_id = np.asarray(columns["task_id"], dtype=np.int64)
        self.completed = np.asarray(columns["completed"], dtype=np.int64)
        self.status = np.asarray(columns["status"], dtype="<U32")
        self.n_open = np.asarray(columns["n_open"], dtype=np.int64)
        self.overlapping = np.asarray(columns["overlapping"], dtype=np.int64)
        self.set_measures(columns)
        self.labels = _masks(columns["labels"], len(self.task_id))
        self.annotators = _masks(columns["annotators"], len(self.task_id))

    def set_measures(self, columns: dict[str, list[Any]]) -> None:
        """Take the per-task agreement measures (NaN where missing), e.g. once the report is in."""
        for name in MEASURES:
            setattr(self, name, np.array([np.nan if v is None else v for v in columns[name]], dtype=np.float64))

    def position(self, task_id: int) -> int | None:
        at = int(np.searchsorted(self.task_id, task_id))
        return at if at < len(self.task_id) and self.task_id[at] == task_id else None

    def set_gold(self, task_id: int, status: str, n_open: int, overlapping: int) -> None:
        at = self.position(task_id)
        if at is not None:
            self.status[at], self.n_open[at], self.overlapping[at] = status, n_open, overlapping

    def select(self, label: str = "", annotator: str = "", open_only: bool = False, sort: str = "worst") -> np.ndarray:
        """Task ids having `label` and `annotator` (when given), only open ones if asked, in the chosen order."""
        keep = np.ones(len(self.task_id), dtype=bool)
        none = np.zeros(len(self.task_id), dtype=bool)
        if label:
            keep &= self.labels.get(label, none)
        if annotator:
            keep &= self.annotators.get(annotator, none)
        if open_only:
            keep &= self.n_open > 0
        rows = np.flatnonzero(keep)
        keys: list[np.ndarray] = []
        for name in SORTS.get(sort, SORTS["worst"]):
            values = getattr(self, name.lstrip("-"))[rows]
            keys += [np.isnan(values), np.nan_to_num(values)] if name in MEASURES else \
                [-values if name[0] == "-" else values]
        return self.task_id[rows[np.lexsort(keys[::-1])]]  # lexsort: the last key is the primary one


def progress(index: Index, per_task: int) -> dict[str, int]:
    """Task counts for the overview: total, annotated once, fully annotated, adjudicated (nothing open left), in
    adjudication (decided in part), remaining, open disagreements and the overlapping span pairs (within one
    annotation) reported."""
    done = np.minimum(index.completed, per_task)
    full = int((done == per_task).sum())
    return {"total": len(index.task_id), "annotated_once": int((done >= 1).sum()), "fully_annotated": full,
            "adjudicated": int((index.status == "adjudicated").sum()),
            "in_adjudication": int((index.status == "in_adjudication").sum()),
            "remaining": len(index.task_id) - full, "open_tasks": int((index.n_open > 0).sum()),
            "open_disagreements": int(index.n_open.sum()), "overlapping_spans": int(index.overlapping.sum()),
            "overlapping_tasks": int((index.overlapping > 0).sum())}


class Tasks:
    """Where a view's tasks come from, one at a time for a page, all at once for a gold build or a report."""

    def get(self, task_id: int) -> tuple[Task, list[Quarantined]] | None:
        raise NotImplementedError

    def all(self) -> tuple[list[Task], list[Quarantined]]:
        raise NotImplementedError


@dataclass
class View:
    """One data version as the pages see it (archive None: nothing pulled yet, no summary)."""

    archive: Path | None
    schema: Schema
    summary: Summary | None
    index: Index
    tasks: Tasks | None
    generation: int = 0  # bumped for every data version read, so caches can tell versions apart
    quarantined: int = 0
    _lock: Any = field(default=None, repr=False)

    @property
    def n_tasks(self) -> int:
        return len(self.index.task_id)

    @property
    def project_id(self) -> int | None:
        return archive_project(self.archive) if self.archive else None

    def rows(self, task_ids: Sequence[int] | np.ndarray) -> list[DocRow]:
        """The document rows of these tasks, in this order."""
        if self.summary is None or not len(task_ids):
            return []
        with self._lock:
            found = self.summary.docs([int(t) for t in task_ids])
        return [DocRow.from_summary(found[int(t)]) for t in task_ids if int(t) in found]

    def task(self, task_id: int) -> tuple[Task, list[Quarantined]] | None:
        """One task and what parsing left out of it (None when this version has no such task)."""
        if self.tasks is None or self.index.position(task_id) is None:
            return None
        return self.tasks.get(task_id)

    def meta(self, key: str, default: Any = None) -> Any:
        if self.summary is None:
            return default
        with self._lock:
            return self.summary.meta(key, default)


def empty_index() -> Index:
    return Index({name: [] for name in COLUMNS})
