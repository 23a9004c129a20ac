"""The shapes of what the dashboard pages show, computed from the data store's snapshot and gold: the tasks of
one archive, the document rows and their orderings, the overview's counts, annotators and progress."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gold.adjudicate import TaskGold, status_text
from ..labelstudio.convert import Quarantined
from ..records import Task
from ..schema import Schema

_PROJECT = re.compile(r"project-(\d+)-")
FileKey = tuple[str, int, int] | None


@dataclass(frozen=True)
class Snapshot:
    """The tasks of one raw archive (empty when nothing has been pulled yet)."""

    archive: Path | None
    tasks: tuple[Task, ...]
    quarantined: int
    schema: Schema
    by_id: dict[int, Task] = field(repr=False)
    generation: int = 0  # bumped for every archive version parsed, so caches can tell versions apart
    quarantine: tuple[Quarantined, ...] = field(default=(), repr=False)  # what convert left out, for the pages

    def quarantined_in(self, task_id: int) -> list[Quarantined]:
        """What was left out of one task (whole annotations, relations, predictions), for its page."""
        return [q for q in self.quarantine if q.task_id == task_id]

    @property
    def project_id(self) -> int | None:
        match = _PROJECT.match(self.archive.name) if self.archive else None
        return int(match.group(1)) if match else None


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


def build_rows(snap: Snapshot, gold: dict[int, TaskGold], report: dict[str, Any] | None) -> list[DocRow]:
    """One row per task for the documents page: its labels, annotators, agreement (once the report is in) and status."""
    measures = {r["task_id"]: r for r in (report or {}).get("documents", [])}
    rows = []
    for task in snap.tasks:
        done = task.completed
        labels = frozenset(s.label for a in done for s in a.spans) | \
            frozenset(s.label for p in task.predictions for s in p.spans)
        m, g = measures.get(task.task_id, {}), gold.get(task.task_id)
        rows.append(DocRow(task.task_id, task.article_id, title_of(task), tuple(sorted({a.annotator for a in done})),
                           labels, m.get("token_alpha"), m.get("exact_f1"),
                           len(g.disagreements) if g else 0, g.status if g else "unannotated"))
    return rows


def title_of(task: Task, width: int = 90) -> str:
    """The article's title from its metadata, else the start of its text."""
    title = task.meta.get("title") if isinstance(task.meta, dict) else None
    text = str(title or task.text).strip().replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def worst_first(row: DocRow) -> tuple:
    """Sort key: lowest exact span F1 first, unmeasured tasks last, then most open disagreements."""
    return (row.exact_f1 is None, row.exact_f1 if row.exact_f1 is not None else 0.0, -row.n_open, row.task_id)


SORTS = {
    "worst": worst_first,
    "open": lambda r: (-r.n_open, r.task_id),
    "alpha": lambda r: (r.token_alpha is None, r.token_alpha or 0.0, r.task_id),
    "id": lambda r: r.task_id,
}


def filter_rows(rows: Sequence[DocRow], label: str = "", annotator: str = "", open_only: bool = False,
                sort: str = "worst") -> list[DocRow]:
    """Rows having `label` and `annotator` (when given), only open ones if asked, in the chosen order."""
    kept = [r for r in rows if (not label or label in r.labels) and (not annotator or annotator in r.annotators)
            and (not open_only or r.n_open)]
    return sorted(kept, key=SORTS.get(sort, worst_first))


def progress(tasks: Sequence[Task], per_task: int, gold: dict[int, TaskGold]) -> dict[str, int]:
    """Task counts for the overview: total, annotated once, fully annotated, adjudicated (nothing open left), in
    adjudication (decided in part), remaining, and the
    overlapping span pairs (within one annotation) reported."""
    done = Counter(min(len(t.completed), per_task) for t in tasks)
    full = done.get(per_task, 0)
    once = sum(n for k, n in done.items() if k >= 1)
    adjudicated = sum(g.status == "adjudicated" for g in gold.values())
    in_adjudication = sum(g.status == "in_adjudication" for g in gold.values())
    open_tasks = sum(bool(g.disagreements) for g in gold.values())
    overlapping = [sum(p.kind == "overlapping_spans" for p in g.problems) for g in gold.values()]
    return {"total": len(tasks), "annotated_once": once, "fully_annotated": full, "adjudicated": adjudicated,
            "in_adjudication": in_adjudication, "remaining": len(tasks) - full, "open_tasks": open_tasks,
            "open_disagreements": sum(len(g.disagreements) for g in gold.values()),
            "overlapping_spans": sum(overlapping), "overlapping_tasks": sum(bool(n) for n in overlapping)}


def annotator_stats(tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Per annotator: tasks done and median seconds per task (Label Studio's lead_time)."""
    done: Counter[str] = Counter()
    times: dict[str, list[float]] = {}
    for task in tasks:
        for ann in task.completed:
            done[ann.annotator] += 1
            if ann.lead_time is not None:
                times.setdefault(ann.annotator, []).append(float(ann.lead_time))
    return [{"annotator": who, "tasks": n, "median_seconds": statistics.median(times[who]) if who in times else None}
            for who, n in sorted(done.items(), key=lambda kv: (-kv[1], kv[0]))]


def daily_progress(tasks: Sequence[Task]) -> list[tuple[str, int]]:
    """(day, completed annotations up to and including that day), from each annotation's created_at."""
    per_day = Counter((a.created_at or "")[:10] for t in tasks for a in t.completed if a.created_at)
    total, out = 0, []
    for day in sorted(per_day):
        total += per_day[day]
        out.append((day, total))
    return out
