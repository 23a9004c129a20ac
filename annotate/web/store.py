"""The dashboard's data store: the newest data version's summary (gold/summary.py), read once per version, the
agreement report, and single tasks on demand; never every task in memory when the task store holds the archive.

A data version is the newest raw archive's path, mtime and size; the gold rows also depend on the decision log's
digest. A version whose summary is on disk is opened at once (an index of every task's sortable values, a few MB
at 100,000 tasks). One without is summarised by one background job (from the local task store when it holds the
archive, else by parsing the archive, whose tasks are then kept for the pages, as before the store); its report
by another. A page that would wait for either says so and reloads itself instead. A decision rebuilds the gold
rows of the tasks it touches only. Nothing here talks to Label Studio: the pull writes the archive and the store.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import AnnotateError
from ..gold.adjudicate import TaskGold
from ..gold.decisions import DECISIONS_FILE, AnyDecision, assign_decisions, load_decisions
from ..gold.summary import (
    BOOTSTRAP,
    Summary,
    log_digest,
    make_report,
    open_summary,
    regold,
    report_into_summary,
    summarise,
    summarise_archive,
    summary_identity,
    summary_path,
    task_gold,
)
from ..labelstudio.archive import latest_raw_export
from ..labelstudio.convert import Quarantined
from ..labelstudio.store import read_archive_tasks, reading, store_path, stored_project
from ..records import Task
from ..schema import Schema, load_schema
from .background import DaemonExecutor, Job, WorkerStopped, run_in_child
from .data import Index, Tasks, View, empty_index

log = logging.getLogger(__name__)
REPORT_BOOTSTRAP = BOOTSTRAP
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


class StoredTasks(Tasks):
    """The tasks of an archive that the project's local store holds: one read from the store per page."""

    def __init__(self, settings: Settings, archive: Path, project: int, schema: Schema):
        self.settings, self.archive, self.schema = settings, archive, schema
        self.path = store_path(settings, project)
        self._lock = threading.Lock()

    def get(self, task_id: int) -> tuple[Task, list[Quarantined]] | None:
        # Opened per call: a pull replaces rows under us, and the next version's view takes over right after.
        with self._lock, reading(self.path) as store:
            return store.task(task_id, self.schema) if store is not None else None

    def all(self) -> tuple[list[Task], list[Quarantined]]:
        return read_archive_tasks(self.settings, self.archive, self.schema)


class ParsedTasks(Tasks):
    """The tasks of an archive that no store holds (put there by hand): parsed whole once, kept in memory."""

    def __init__(self, settings: Settings, archive: Path, schema: Schema):
        self.settings, self.archive, self.schema = settings, archive, schema
        self._parsed: tuple[list[Task], list[Quarantined]] | None = None
        self._by_id: dict[int, Task] = {}
        self._lock = threading.Lock()

    def fill(self, parsed: tuple[list[Task], list[Quarantined]]) -> None:
        self._parsed, self._by_id = parsed, {t.task_id: t for t in parsed[0]}

    def all(self) -> tuple[list[Task], list[Quarantined]]:
        with self._lock:
            if self._parsed is None:
                self.fill(read_archive_tasks(self.settings, self.archive, self.schema))
            assert self._parsed is not None
            return self._parsed

    def get(self, task_id: int) -> tuple[Task, list[Quarantined]] | None:
        quarantine = self.all()[1]
        found = self._by_id.get(task_id)
        if found is None:
            return None
        return found, [q for q in quarantine if q.task_id == task_id]


class DataStore:
    """The pages' data: `snapshot` (the View), `report`, single tasks with their gold, each for the newest data."""

    def __init__(self, settings: Settings, bootstrap: int = REPORT_BOOTSTRAP, wait: bool = False,
                 report_wait: bool = False, executor: Executor | None = None, isolate: bool = False):
        self.settings, self.bootstrap = settings, bootstrap
        self.isolate = isolate  # True: work that reads every task runs in a child process (run_in_child)
        self.wait, self.report_wait = wait, report_wait  # True: pages wait instead of saying "being read"
        self.decisions_path = settings.exports_dir / DECISIONS_FILE
        self._executor = executor or DaemonExecutor()
        self._lock = threading.RLock()  # also serialises every use of a summary's SQLite connection
        self._opening = threading.Lock()
        self._generations = itertools.count(1)
        self._load: Job | None = None
        self._report: Job | None = None
        self._shown: View | None = None
        self._gold_key: tuple[int, FileKey] | None = None
        self._gold_version = 0  # bumped whenever a gold row changes
        self._entries: tuple[FileKey, list[AnyDecision]] = (None, [])
        self._golds: OrderedDict[tuple, TaskGold] = OrderedDict()
        self._memo: dict[str, tuple[Any, Any]] = {}

    # --- the data version shown ------------------------------------------------------------------------------

    def snapshot(self) -> View:
        """The newest data version, read once per archive version.

        Until a version without a summary is summarised the previous version keeps being shown, or DataLoading
        (503) is raised when there is none yet (unless `wait`); a read that failed raises its error until the
        archive changes.
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
        raise DataLoading(f"Reading {archive} (started {job.seconds:.0f} s ago; it is summarised once per pull).")

    def warm(self) -> None:
        """Wait until the newest data is read (raising its error), then start its agreement report."""
        loaded = self._current_load().future.result()
        with self._lock:
            self._adopt(loaded)
        self.report(wait=False)

    def loading(self) -> float | None:
        """Seconds since newer data started loading while older data is shown (None when current)."""
        with self._lock:
            job, shown = self._load, self._shown
        return job.seconds if job is not None and shown is not None and not job.future.done() else None

    def _current_load(self) -> Job:
        """The read of the newest archive version, started on first ask; reads of older versions are dropped.
        A version whose summary is on disk is opened here and now (under a second)."""
        archive = latest_raw_export(self.settings)
        key = file_key(archive)
        with self._lock:
            if self._load is not None and self._load.version == key:
                return self._load
        with self._opening:  # one opening at a time: concurrent first requests open the summary once
            with self._lock:
                if self._load is not None and self._load.version == key:
                    return self._load
            generation = next(self._generations)
            ready = self._open(archive, generation)
            with self._lock:
                if ready is not None:
                    future: Future = Future()
                    future.set_result(ready)
                    self._load = Job(key, future)
                else:
                    self._load = Job(key, self._executor.submit(self._read, archive, generation))
                return self._load

    def _open(self, archive: Path | None, generation: int) -> View | None:
        """The view of a version that needs no work: nothing pulled, or its summary already made (else None)."""
        schema = load_schema(self.settings.guidelines_dir)
        if archive is None:
            return View(None, schema, None, empty_index(), None, generation, _lock=self._lock)
        try:
            summary = open_summary(summary_path(self.settings, archive),
                                   summary_identity(archive, schema, self.settings.leads))
        except FileNotFoundError:  # the archive went away under us: the next ask sees the newer state
            return None
        return None if summary is None else self._view(archive, schema, summary, generation)

    def _view(self, archive: Path, schema: Schema, summary: Summary, generation: int,
              parsed: tuple[list[Task], list[Quarantined]] | None = None) -> View:
        project = stored_project(self.settings, archive)
        tasks: Tasks
        if project is not None:
            tasks = StoredTasks(self.settings, archive, project, schema)
        else:
            tasks = ParsedTasks(self.settings, archive, schema)
            if parsed is not None:
                tasks.fill(parsed)
        log.info("dashboard: %d tasks from %s (summary %s)", summary.meta("tasks"), archive.name, summary.path.name)
        return View(archive, schema, summary, Index(summary.columns()), tasks, generation,
                    summary.meta("quarantined", 0), _lock=self._lock)

    def _read(self, archive: Path | None, generation: int) -> View:
        """Summarise one version (a background job): its tasks read once, their gold rows and counts written."""
        assert archive is not None  # _open answers for "nothing pulled yet"
        try:
            schema = load_schema(self.settings.guidelines_dir)
            parsed = None
            if self.isolate:  # every task is read: in a child process, so its memory peak does not stay here
                run_in_child(summarise_archive, self.settings, archive, schema)
                summary = open_summary(summary_path(self.settings, archive),
                                       summary_identity(archive, schema, self.settings.leads))
                if summary is None:
                    raise AnnotateError(f"the summary of {archive.name} was made but cannot be read back (was the "
                                        "archive replaced meanwhile?)")
            else:
                parsed = read_archive_tasks(self.settings, archive, schema)  # the store's parse when it matches
                summary = summarise(self.settings, archive, parsed[0], schema, len(parsed[1]))
            return self._view(archive, schema, summary, generation, parsed)
        except AnnotateError as exc:
            log.error("dashboard: cannot read %s: %s", archive, exc)
            raise
        except WorkerStopped as exc:
            log.info("dashboard: %s", exc)
            raise
        except Exception:
            log.exception("dashboard: reading %s failed", archive)
            raise

    def _adopt(self, loaded: View) -> None:
        # Under the lock. Generations only go forward: a slower read of an older version never replaces a newer one.
        if self._shown is None or loaded.generation > self._shown.generation:
            self._shown = loaded

    # --- the agreement report ---------------------------------------------------------------------------------

    def report(self, wait: bool | None = None) -> dict[str, Any] | None:
        """The agreement report for the shown data (None without tasks, or while it is being computed).

        It is computed once per data version in the background and kept in the summary, so pages never wait for it
        unless `wait` (default: the store's `report_wait`) asks them to; `report_started()` says since when it runs.
        """
        return self._report_for(self.snapshot(), self.report_wait if wait is None else wait)

    def _report_for(self, view: View, wait: bool) -> dict[str, Any] | None:
        with self._lock:
            if self._report is None or self._report.version < view.generation:
                stored = self._stored_report(view)
                future: Future
                if stored is not None or view.n_tasks == 0:
                    future = Future()
                    future.set_result(stored)
                else:
                    future = self._executor.submit(self._compute_report, view)
                self._report = Job(view.generation, future)
            job = self._report
        if job.version != view.generation or not (wait or job.future.done()):
            return None  # (a page still on the previous version, while a newer one's report runs, has none)
        return job.future.result()

    def _stored_report(self, view: View) -> dict[str, Any] | None:
        report = view.meta("report")
        return report if report is not None and report["bootstrap"]["replicates"] == self.bootstrap else None

    def report_started(self) -> float | None:
        """Seconds since the report being computed was started (None when none is running)."""
        with self._lock:
            job = self._report
        return job.seconds if job is not None and not job.future.done() else None

    def _compute_report(self, view: View) -> dict[str, Any] | None:
        assert view.summary is not None and view.tasks is not None  # a view with tasks has both
        assert view.archive is not None
        try:
            if self.isolate:  # every task is read: in a child process, which writes the report into the summary
                run_in_child(report_into_summary, self.settings, view.archive, view.schema, self.bootstrap)
            else:
                report = make_report(view.tasks.all()[0], view.schema, bootstrap=self.bootstrap)  # minutes at 100k
                with self._lock:
                    view.summary.set_report(report)
            with self._lock:
                view.index.set_measures(view.summary.columns())
                return view.summary.report()
        except WorkerStopped as exc:
            log.info("agreement report: %s", exc)
            raise
        except Exception:
            log.exception("agreement report failed for %s", view.archive)
            raise

    def _report_ready(self, generation: int) -> bool:
        with self._lock:
            job = self._report
        return job is not None and job.version == generation and job.future.done()

    # --- the gold, kept up to the decision log -----------------------------------------------------------------

    def _decisions(self) -> list[AnyDecision]:
        key = file_key(self.decisions_path)
        with self._lock:
            if self._entries[0] != key or key is None:
                self._entries = (key, load_decisions(self.decisions_path))
            return self._entries[1]

    def current(self) -> tuple[View, Any]:
        """The shown view with its gold rows up to the decision log, and what derived views of it depend on."""
        view = self.snapshot()
        with self._lock:
            key = (view.generation, file_key(self.decisions_path))
            if key != self._gold_key and view.summary is not None:
                digest, entries = log_digest(self.decisions_path), self._decisions()
                changed = regold(view.summary, entries, digest, lambda tid: self._task(view, tid),
                                 view.schema, self.settings.leads)
                for task_id, values in changed:
                    view.index.set_gold(task_id, *values)
                self._gold_version += bool(changed)
            self._gold_key = key
            return view, (view.generation, self._gold_version, self._report_ready(view.generation))

    def _task(self, view: View, task_id: int) -> Task | None:
        found = view.task(task_id)
        return found[0] if found else None

    @property
    def version(self) -> Any:
        """What derived views depend on: the data version, the gold rows and whether the report is in."""
        return self.current()[1]

    def decisions_for(self, task: Task) -> list[AnyDecision]:
        """The log's span and relation decisions on this task's article, oldest first (old lines: on its task id)."""
        return assign_decisions([task], self._decisions())[0].get(task.task_id, [])

    def gold_of(self, task: Task) -> TaskGold:
        """One task's gold with every decision in the log applied (the last few kept)."""
        view, version = self.current()
        decisions = self.decisions_for(task)
        key = (version[0], self._entries[0], task.task_id)
        with self._lock:
            if key not in self._golds:
                self._golds[key] = task_gold(task, decisions, view.schema, self.settings.leads)
                while len(self._golds) > 32:
                    self._golds.popitem(last=False)
            return self._golds[key]

    def memo(self, name: str, compute: Callable[[View], Any]) -> Any:
        """`compute(view)`, kept until the archive, a gold row or the report changes."""
        view, key = self.current()
        with self._lock:
            hit = self._memo.get(name)
            if hit is None or hit[0] != key:
                if len(self._memo) > 32:  # filter combinations come from the query string: keep the memo bounded
                    self._memo.clear()
                hit = (key, compute(view))
                self._memo[name] = hit
            return hit[1]
