"""What the dashboard shows, computed once per data version: tasks from the newest raw archive, the
agreement report, the gold (with the decision log applied) and the document index.

A data version is the archive's path, mtime and size; the gold also depends on the decision log's
mtime and size. Nothing here talks to Label Studio: the pull writes the archive, the dashboard reads it.
"""

from __future__ import annotations

import logging
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..archive import latest_raw_export
from ..config import Settings
from ..decisions import DECISIONS_FILE, AnyDecision, assign_decisions, load_decisions
from ..errors import AnnotateError
from ..gold import TaskGold, build_gold, status_text
from ..labelstudio.convert import Quarantined, read_export, tasks_from_export
from ..records import Task
from ..schema import Schema, load_schema

log = logging.getLogger(__name__)
REPORT_BOOTSTRAP = 200  # replicates for the dashboard's CIs: 1,000 would take minutes on 10k tasks
_PROJECT = re.compile(r"project-(\d+)-")
FileKey = tuple[str, int, int] | None


def file_key(path: Path | None) -> FileKey:
    """(path, mtime in ns, size) of a file, or None when it does not exist."""
    if path is None:
        return None
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (str(path), stat.st_mtime_ns, stat.st_size)


class DataLoading(AnnotateError):
    """The pulled data is still being read; the page asks the browser to come back shortly."""

    status = 503


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


class DataStore:
    """Caches the parsed archive, the report and the gold; every getter checks the data version first."""

    def __init__(self, settings: Settings, bootstrap: int = REPORT_BOOTSTRAP, wait: bool = False,
                 report_wait: bool = False):
        self.settings = settings
        self.bootstrap = bootstrap
        self.decisions_path = settings.exports_dir / DECISIONS_FILE
        self._lock = threading.RLock()
        self._snap_key: Any = None
        self._loading: tuple[FileKey, threading.Thread, float] | None = None
        self._load_error: Exception | None = None
        self._generation = 0
        self._snapshot: Snapshot | None = None
        self._report: tuple[int, dict[str, Any] | None] = (-1, None)
        self._report_error: Exception | None = None
        self._job: tuple[int, threading.Thread, float] | None = None
        self.wait, self.report_wait = wait, report_wait
        self._gold_key: Any = None
        self._gold: dict[int, TaskGold] = {}
        self._decided: dict[int, list[AnyDecision]] = {}
        self._rows: tuple[Any, list[DocRow]] = (None, [])
        self._memo: dict[str, tuple[Any, Any]] = {}

    def snapshot(self) -> Snapshot:
        """The tasks of the newest raw archive under exports/raw/, parsed once per archive version.

        A new archive is parsed (and its gold built) in a background thread; until it is ready the previous
        data keeps being served, or DataLoading (503) is raised when there is none yet (unless `wait`).
        """
        archive = latest_raw_export(self.settings)
        key = file_key(archive)
        with self._lock:
            if self._snapshot is not None and key == self._snap_key:
                return self._snapshot
            if self._loading is None or self._loading[0] != key:
                self._generation += 1
                thread = threading.Thread(target=self._load_version, args=(archive, key, self._generation),
                                          name="dashboard-load", daemon=True)
                self._loading = (key, thread, time.monotonic())
                self._load_error = None
                thread.start()
            _, thread, started = self._loading
            if self._load_error is not None:
                raise self._load_error
            if self._snapshot is not None and not self.wait:
                return self._snapshot  # stale but consistent; pages say newer data is loading
        if not self.wait:
            raise DataLoading(f"Reading {archive.name if archive else 'the data'} (started "
                              f"{time.monotonic() - started:.0f} s ago; about 30 s for 10,000 documents).")
        thread.join()
        return self.snapshot()

    def warm(self) -> None:
        """Read the current data and start the agreement report (for a server that has just started)."""
        try:
            self.snapshot()
        except DataLoading:
            with self._lock:
                thread = self._loading[1] if self._loading else None
            if thread is not None:
                thread.join()
        self.rows()  # also starts the report in the background

    def loading(self) -> float | None:
        """Seconds since newer data started loading while older data is shown (None when current)."""
        with self._lock:
            if self._loading is None or self._loading[0] == self._snap_key or self._load_error is not None:
                return None
            return time.monotonic() - self._loading[2]

    def _load_version(self, archive: Path | None, key: FileKey, generation: int) -> None:
        try:
            snap = self._load(archive, generation)
            decisions_key = file_key(self.decisions_path)
            entries = load_decisions(self.decisions_path)
            decided, _ = assign_decisions(snap.tasks, entries)
            gold = build_gold(snap.tasks, entries, snap.schema, self.settings.leads)
        except Exception as exc:  # noqa: BLE001 - a thread boundary: keep the error for the page that asks
            log.exception("dashboard: loading %s failed", archive)
            with self._lock:
                if self._loading is not None and self._loading[0] == key:
                    self._load_error = exc
            return
        with self._lock:
            if self._loading is None or self._loading[0] != key:
                return  # an even newer archive arrived meanwhile
            self._snapshot, self._snap_key = snap, key
            self._gold = {g.task_id: g for g in gold.tasks}
            self._decided, self._gold_key = decided, (generation, decisions_key)

    def _load(self, archive: Path | None, generation: int) -> Snapshot:
        schema = load_schema(self.settings.guidelines_dir)
        if archive is None:
            return Snapshot(None, (), 0, schema, {}, generation)
        tasks, quarantine = tasks_from_export(read_export(archive), schema)
        log.info("dashboard: %d tasks from %s (%d quarantined)", len(tasks), archive, len(quarantine))
        return Snapshot(archive, tuple(tasks), len(quarantine), schema, {t.task_id: t for t in tasks}, generation,
                        tuple(quarantine))

    def report(self, wait: bool | None = None) -> dict[str, Any] | None:
        """The agreement report for the current archive (None without tasks, or while it is being computed).

        It is computed once per archive version in a background thread, so pages never wait for it unless
        `wait` (default: the store's `report_wait`) asks them to; `report_started()` says since when it runs.
        """
        snap = self.snapshot()
        with self._lock:
            if self._report[0] == snap.generation:
                if self._report_error is not None:
                    raise self._report_error
                return self._report[1]
            if self._job is None or self._job[0] != snap.generation:
                thread = threading.Thread(target=self._compute_report, args=(snap,), name="agreement-report",
                                          daemon=True)
                self._job = (snap.generation, thread, time.monotonic())
                thread.start()
            thread = self._job[1]
        if not (self.report_wait if wait is None else wait):
            return None
        thread.join()
        return self.report(wait=False)

    def report_started(self) -> float | None:
        """Seconds since the report being computed was started (None when none is running)."""
        with self._lock:
            job = self._job
            running = job is not None and self._report[0] != job[0]
            return time.monotonic() - job[2] if running and job else None

    def _compute_report(self, snap: Snapshot) -> None:
        from ..agreement import agreement_report  # pandas and spaCy's tokenizer: only when a report is needed

        error: Exception | None = None
        report = None
        try:
            if snap.tasks:
                report = agreement_report(snap.tasks, snap.schema, bootstrap=self.bootstrap, seed=0)
        except Exception as exc:  # noqa: BLE001 - a thread boundary: keep the error for the page that asks
            log.exception("agreement report failed for %s", snap.archive)
            error = exc
        with self._lock:
            if self._snapshot is not None and self._snapshot.generation == snap.generation:
                self._report, self._report_error = (snap.generation, report), error

    @property
    def version(self) -> tuple[Any, bool]:
        """What derived views depend on: the gold version and whether the report is in."""
        self.gold()
        return (self._gold_key, self._report[0] == self._gold_key[0])

    def gold(self) -> dict[int, TaskGold]:
        """task id -> gold with every decision applied; after a new decision only the tasks it touches are redone."""
        with self._lock:
            snap = self.snapshot()
            key = (snap.generation, file_key(self.decisions_path))
            if key == self._gold_key:
                return self._gold
            entries = load_decisions(self.decisions_path)
            # Keyed as the gold is: on the article, so a re-created project's task ids do not mislead.
            decided, _ = assign_decisions(snap.tasks, entries)
            if self._gold_key is None or self._gold_key[0] != snap.generation:
                gold = build_gold(snap.tasks, entries, snap.schema, self.settings.leads)
                self._gold = {g.task_id: g for g in gold.tasks}
            else:
                self._gold = dict(self._gold)
                for task_id in set(decided) | set(self._decided):
                    if decided.get(task_id) != self._decided.get(task_id) and task_id in snap.by_id:
                        one = build_gold([snap.by_id[task_id]], decided.get(task_id, []), snap.schema,
                                         self.settings.leads)
                        self._gold[task_id] = one.tasks[0]
            self._decided, self._gold_key = decided, key
            return self._gold

    def decisions_for(self, task_id: int) -> list[AnyDecision]:
        """The log's span and relation decisions on this task's article, oldest first (old lines: on its task id)."""
        self.gold()
        return list(self._decided.get(task_id, []))

    def rows(self) -> list[DocRow]:
        """One row per task for the documents page (rebuilt when the archive or the decision log changes)."""
        with self._lock:
            gold = self.gold()
            report = self.report(wait=False)
            key = self.version
            if self._rows[0] != key:
                self._rows = (key, self._build_rows(self.snapshot(), gold, report))
            return self._rows[1]

    def memo(self, name: str, compute: Callable[[Snapshot, dict[int, TaskGold]], Any]) -> Any:
        """`compute(snapshot, gold)`, kept until the archive or the decision log changes."""
        with self._lock:
            gold = self.gold()
            key = self.version
            hit = self._memo.get(name)
            if hit is None or hit[0] != key:
                if len(self._memo) > 64:  # filter combinations come from the query string: keep the memo bounded
                    self._memo.clear()
                hit = (key, compute(self.snapshot(), gold))
                self._memo[name] = hit
            return hit[1]

    @staticmethod
    def _build_rows(snap: Snapshot, gold: dict[int, TaskGold], report: dict[str, Any] | None) -> list[DocRow]:
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
