"""The dashboard's data store: each data version read once in the background, then the gold, the agreement report
and the views the pages derive from them, cached until the version changes.

A data version is the newest raw archive's path, mtime and size; the gold also depends on the decision log's.
Every version is read by one future and its report computed by another; a page that would wait for either says
so and reloads itself instead. Nothing here talks to Label Studio: the pull writes the archive, the store reads it.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import AnnotateError
from ..gold.adjudicate import TaskGold, build_gold
from ..gold.decisions import DECISIONS_FILE, AnyDecision, assign_decisions, load_decisions
from ..labelstudio.archive import latest_raw_export
from ..labelstudio.store import read_archive_tasks
from ..schema import load_schema
from .background import DaemonExecutor, Job
from .data import DocRow, Snapshot, build_rows

log = logging.getLogger(__name__)
REPORT_BOOTSTRAP = 200  # replicates for the dashboard's CIs: 1,000 would take minutes on 10k tasks
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
class Loaded:
    """One data version read completely: its tasks and their gold with the decision log as it was then."""

    snapshot: Snapshot
    gold: dict[int, TaskGold]
    decided: dict[int, list[AnyDecision]]
    gold_key: tuple[int, FileKey]


def read_snapshot(settings: Settings, archive: Path | None, generation: int) -> Snapshot:
    """The tasks of one raw archive (an empty snapshot when nothing has been pulled yet)."""
    schema = load_schema(settings.guidelines_dir)
    if archive is None:
        return Snapshot(None, (), 0, schema, {}, generation)
    tasks, quarantine = read_archive_tasks(settings, archive, schema)  # the local store's parse when it matches
    log.info("dashboard: %d tasks from %s (%d quarantined)", len(tasks), archive, len(quarantine))
    return Snapshot(archive, tuple(tasks), len(quarantine), schema, {t.task_id: t for t in tasks}, generation,
                    tuple(quarantine))


class DataStore:
    """The pages' data: `snapshot`, `gold`, `report` and the cached views, each for the newest data read."""

    def __init__(self, settings: Settings, bootstrap: int = REPORT_BOOTSTRAP, wait: bool = False,
                 report_wait: bool = False, executor: Executor | None = None):
        self.settings, self.bootstrap = settings, bootstrap
        self.wait, self.report_wait = wait, report_wait  # True: pages wait instead of saying "being read"
        self.decisions_path = settings.exports_dir / DECISIONS_FILE
        self._executor = executor or DaemonExecutor()  # nothing starts before the first page asks
        self._lock = threading.RLock()
        self._generations = itertools.count(1)
        self._load: Job | None = None  # reading the newest archive version
        self._shown: Snapshot | None = None  # the newest version read completely: what the pages show
        self._report: Job | None = None  # the agreement report of the newest shown version
        self._gold_key: tuple[int, FileKey] | None = None
        self._gold: dict[int, TaskGold] = {}
        self._decided: dict[int, list[AnyDecision]] = {}
        self._rows: tuple[Any, list[DocRow]] = (None, [])
        self._memo: dict[str, tuple[Any, Any]] = {}

    def snapshot(self) -> Snapshot:
        """The tasks of the newest raw archive, read in the background once per archive version.

        Until the read is done the previous version keeps being shown, or DataLoading (503) is raised when there
        is none yet (unless `wait`); a read that failed raises its error until the archive changes.
        """
        job = self._current_load()
        if self.wait:
            job.future.result()
        with self._lock:
            if job.future.done():
                self._adopt(job.future.result())
            if self._shown is not None:
                return self._shown  # stale while a newer version is read, but consistent: pages say so
        archive = Path(job.version[0]).name if job.version else "the data"
        raise DataLoading(f"Reading {archive} (started {job.seconds:.0f} s ago; about 30 s for 10,000 documents).")

    def warm(self) -> None:
        """Wait until the newest data is read (raising its error), then start its agreement report."""
        loaded = self._current_load().future.result()
        with self._lock:
            self._adopt(loaded)
        self.rows()

    def loading(self) -> float | None:
        """Seconds since newer data started loading while older data is shown (None when current)."""
        with self._lock:
            job, shown = self._load, self._shown
        return job.seconds if job is not None and shown is not None and not job.future.done() else None

    def _current_load(self) -> Job:
        """The read of the newest archive version, started on first ask; reads of older versions are dropped."""
        archive = latest_raw_export(self.settings)
        key = file_key(archive)
        with self._lock:
            if self._load is None or self._load.version != key:
                self._load = Job(key, self._executor.submit(self._read, archive, next(self._generations)))
            return self._load

    def _read(self, archive: Path | None, generation: int) -> Loaded:
        try:
            snap = read_snapshot(self.settings, archive, generation)
            decisions_key = file_key(self.decisions_path)
            entries = load_decisions(self.decisions_path)
            decided, _ = assign_decisions(snap.tasks, entries)
            gold = build_gold(snap.tasks, entries, snap.schema, self.settings.leads)
        except AnnotateError as exc:
            log.error("dashboard: cannot read %s: %s", archive, exc)
            raise
        except Exception:
            log.exception("dashboard: reading %s failed", archive)
            raise
        return Loaded(snap, {g.task_id: g for g in gold.tasks}, decided, (generation, decisions_key))

    def _adopt(self, loaded: Loaded) -> None:
        # Under the lock. Generations only go forward: a slower read of an older version never replaces a newer one.
        if self._shown is None or loaded.snapshot.generation > self._shown.generation:
            self._shown = loaded.snapshot
            self._gold, self._decided, self._gold_key = loaded.gold, loaded.decided, loaded.gold_key

    def report(self, wait: bool | None = None) -> dict[str, Any] | None:
        """The agreement report for the shown data (None without tasks, or while it is being computed).

        It is computed once per data version in the background, so pages never wait for it unless `wait`
        (default: the store's `report_wait`) asks them to; `report_started()` says since when it runs.
        """
        return self._report_for(self.snapshot(), self.report_wait if wait is None else wait)

    def _report_for(self, snap: Snapshot, wait: bool) -> dict[str, Any] | None:
        with self._lock:
            if self._report is None or self._report.version < snap.generation:
                self._report = Job(snap.generation, self._executor.submit(self._compute_report, snap))
            job = self._report
        if job.version != snap.generation or not (wait or job.future.done()):
            return None  # (a page still on the previous version, while a newer one's report runs, has none)
        return job.future.result()

    def report_started(self) -> float | None:
        """Seconds since the report being computed was started (None when none is running)."""
        with self._lock:
            job = self._report
        return job.seconds if job is not None and not job.future.done() else None

    def _compute_report(self, snap: Snapshot) -> dict[str, Any] | None:
        from ..agreement import agreement_report  # pandas and spaCy's tokenizer: only when a report is needed

        if not snap.tasks:
            return None
        try:
            return agreement_report(snap.tasks, snap.schema, bootstrap=self.bootstrap, seed=0)
        except Exception:
            log.exception("agreement report failed for %s", snap.archive)
            raise

    def _report_ready(self, generation: int) -> bool:
        with self._lock:
            job = self._report
        return job is not None and job.version == generation and job.future.done()

    def _current(self) -> tuple[Snapshot, dict[int, TaskGold], Any]:
        """The shown snapshot, its gold with the decision log as it is now, and what views of both depend on."""
        self.snapshot()
        with self._lock:
            snap = self._shown
            assert snap is not None  # snapshot() returned
            key = (snap.generation, file_key(self.decisions_path))
            if key != self._gold_key:
                self._update_gold(snap, key)
            return snap, self._gold, (key, self._report_ready(snap.generation))

    def _update_gold(self, snap: Snapshot, key: tuple[int, FileKey]) -> None:
        # Under the lock. After a new decision only the tasks whose decisions changed are rebuilt.
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
                    one = build_gold([snap.by_id[task_id]], decided.get(task_id, []), snap.schema, self.settings.leads)
                    self._gold[task_id] = one.tasks[0]
        self._decided, self._gold_key = decided, key

    @property
    def version(self) -> tuple[Any, bool]:
        """What derived views depend on: the gold version and whether the report is in."""
        return self._current()[2]

    def gold(self) -> dict[int, TaskGold]:
        """task id -> gold with every decision applied; after a new decision only the tasks it touches are redone."""
        return self._current()[1]

    def decisions_for(self, task_id: int) -> list[AnyDecision]:
        """The log's span and relation decisions on this task's article, oldest first (old lines: on its task id)."""
        with self._lock:
            self._current()
            return list(self._decided.get(task_id, []))

    def rows(self) -> list[DocRow]:
        """One row per task for the documents page (rebuilt when the archive, the log or the report changes)."""
        snap, gold, key = self._current()
        report = self._report_for(snap, wait=False)  # also starts it; the key was taken first, so never stale
        with self._lock:
            if self._rows[0] != key:
                self._rows = (key, build_rows(snap, gold, report))
            return self._rows[1]

    def memo(self, name: str, compute: Callable[[Snapshot, dict[int, TaskGold]], Any]) -> Any:
        """`compute(snapshot, gold)`, kept until the archive, the decision log or the report changes."""
        snap, gold, key = self._current()
        with self._lock:
            hit = self._memo.get(name)
            if hit is None or hit[0] != key:
                if len(self._memo) > 64:  # filter combinations come from the query string: keep the memo bounded
                    self._memo.clear()
                hit = (key, compute(snap, gold))
                self._memo[name] = hit
            return hit[1]
