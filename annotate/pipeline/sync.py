"""The pulling side of the workflows: archive the project, read tasks for the read commands, build the gold from a
pull, and say what was written (the same lines for `annotate pull` and the dashboard's Pull button)."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from .. import locks
from ..config import Settings
from ..errors import AnnotateError, InputError, LabelStudioError, QualityGateError
from ..export import ExportResult, export_gold
from ..gold.summary import open_summary, summarise, summary_identity, summary_path
from ..labelstudio import server as ls_server
from ..labelstudio.archive import (
    archive_name,
    latest_raw_export,
    list_archives,
    prune_archives,
    raw_dir,
    remove_stale_temp,
    write_quarantine,
)
from ..labelstudio.changes import read_project
from ..labelstudio.client import connect
from ..labelstudio.convert import Quarantined, read_export, tasks_from_export
from ..labelstudio.incremental import sync_store
from ..labelstudio.project import find_project
from ..labelstudio.pull import PullStats
from ..labelstudio.store import open_store, read_archive_tasks, store_path
from ..labelstudio.users import resolve_users
from ..records import Task
from ..schema import Schema, load_schema
from .project import Progress, no_progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullResult:
    project_id: int
    stats: PullStats
    tasks: list[Task]  # empty unless the pull was asked to load them
    quarantine: list[Quarantined]
    quarantine_path: Path | None


def pull(settings: Settings, progress: Progress = no_progress, full: bool = False,
         load_tasks: bool = True, start: bool = True) -> PullResult:
    """Bring the project's local store and its archive under exports/raw/ up to date (incrementally unless `full`
    or the store cannot be trusted: see labelstudio/incremental.py; no new file when nothing changed), write the
    quarantine file, prune old archives, and (with `load_tasks`) return the parsed tasks."""
    conn = connect(settings, start=start)  # start=False: a stopped embedded server is an error
    project_id = find_project(conn, settings)
    if project_id is None:
        raise LabelStudioError(f"no project titled {settings.project_title!r} on {conn.url}: run `annotate push` "
                               "first (or set project_title)")
    schema = load_schema(settings.guidelines_dir)
    folder = raw_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with locks.hold(locks.lock_path(settings.state_dir, "pull", str(folder)), "pull into exports/raw"):
        for stale in remove_stale_temp(folder):
            log.warning("removed %s, left by an interrupted pull", stale.name)
        archives = list_archives(settings, project_id)
        previous = archives[-1] if archives else None
        store = open_store(store_path(settings, project_id))
        assert store is not None  # opened for writing: created when missing
        with closing(store.db):
            project = read_project(conn, project_id)  # the bar's total, the store's identity, the counters
            total = int(project.get("task_number") or 0)
            log.info("pull: project %d holds %d task(s)", project_id, total)
            stats = sync_store(conn, project_id, store, archive_name(settings, project_id), schema, previous,
                               full=full, progress=progress("pull", total),
                               present=lambda: ls_server.database_task_ids(settings, project_id), project=project)
            tasks = store.parsed(schema)[0] if load_tasks else []
            quarantine = store.quarantine()
        if stats.unchanged_since:
            log.info("pull: unchanged since %s: no new archive", stats.unchanged_since.name)
        else:
            log.info("pull: new archive %s", stats.path.name)
        qpath = write_quarantine(stats.path, quarantine)
        prune_archives(settings)
        if load_tasks:
            _summarise(settings, stats.path, tasks, schema, len(quarantine))
    return PullResult(project_id, stats, tasks, quarantine, qpath)


def _summarise(settings: Settings, archive: Path, tasks: list[Task], schema: Schema, quarantined: int) -> None:
    """The dashboard's summary of the new archive, made here from the tasks the pull already holds, so a dashboard
    (restarted or running) opens the new version at once and never reads the whole project itself. Failing only
    warns: the dashboard can still make it."""
    try:
        found = open_summary(summary_path(settings, archive), summary_identity(archive, schema, settings.leads))
        (found or summarise(settings, archive, tasks, schema, quarantined)).close()
    except (OSError, sqlite3.Error, AnnotateError) as exc:  # e.g. a decision log that does not parse
        log.warning("pull: could not write the dashboard's summary of %s (%s); the dashboard will make it",
                    archive.name, exc)


@dataclass(frozen=True)
class TaskSource:
    """Tasks for a read command and where they came from."""

    tasks: list[Task]
    quarantine: list[Quarantined]
    path: Path

    def describe(self, settings: Settings) -> str:
        """How the command names its input: the file, relative to the project folder when inside it."""
        try:
            return str(self.path.resolve().relative_to(settings.root))
        except ValueError:
            return str(self.path)

    def task(self, task_id: int, settings: Settings) -> Task:
        """The task with this Label Studio id; InputError naming the input and some known ids if there is none."""
        found = next((t for t in self.tasks if t.task_id == task_id), None)
        if found is None:
            known = ", ".join(str(t.task_id) for t in self.tasks[:20])
            raise InputError(f"no task {task_id} in {self.describe(settings)}; known task ids: {known}")
        return found


def read_tasks(settings: Settings, from_export: Path | str | None = None, refresh: bool = False,
               progress: Progress = no_progress) -> TaskSource:
    """What read commands read: an export file; a fresh pull when `refresh`; else the newest archive (no server)."""
    schema = load_schema(settings.guidelines_dir)
    if from_export is not None:
        rows = read_export(from_export)
        tasks, quarantine = tasks_from_export(rows, schema, resolve_users(settings, rows))  # a UI export has ids
        return TaskSource(tasks, quarantine, Path(from_export))
    if refresh:
        result = pull(settings, progress)
        return TaskSource(result.tasks, result.quarantine, result.stats.path)
    archive = latest_raw_export(settings)
    if archive is None:
        raise InputError(f"nothing has been pulled yet into {raw_dir(settings)}: run `annotate pull` first, or pass "
                         "--pull (or --from-export FILE)")
    tasks, quarantine = read_archive_tasks(settings, archive, schema)
    return TaskSource(tasks, quarantine, archive)


def describe_source(path: Path) -> str:
    """How an export names the raw archive it was built from: file name and content hash."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"Label Studio export {path.name} (sha256 {digest})"


def export_pulled(settings: Settings, result: PullResult) -> ExportResult | None:
    """Build the gold dataset from a pull; None (nothing written) when no annotation is submitted yet."""
    if not any(task.completed for task in result.tasks):
        log.info("export: no submitted annotation in project %d: no gold built", result.project_id)
        return None
    notes = [q.note() for q in result.quarantine]
    try:
        exported = export_gold(result.tasks, settings, source=describe_source(result.stats.path), quarantined=notes)
    except QualityGateError as exc:
        # A pull's job is the archive; what does not fit is reported and quarantined, and the pull goes on.
        log.info("export: quality gate failed (%s); the gold is written, the pull goes on", exc)
        return exc.result  # type: ignore[attr-defined]
    log.info("export: gold folder %s (%d problem(s))", exported.folder, len(exported.problems))
    return exported


def gold_counts(exported: ExportResult) -> str:
    """What a gold folder holds, as `annotate export` and `annotate pull` say it."""
    counts, docs = exported.counts, exported.counts["documents"]
    return (f"{docs['train']} train, {docs['dev']} dev documents, {counts['spans']} spans, {counts['events']} events, "
            f"{counts['open_disagreements']} open disagreements")


def gold_lines(settings: Settings, result: PullResult, exported: ExportResult | None) -> list[str]:
    """What `annotate pull` says about the gold it built (or did not build) from the pull."""
    if exported is None:
        return [f"no submitted annotations yet in project {result.project_id}: no gold written. "
                "Annotate in Label Studio, then pull again."]
    lines = [f"gold dataset -> {exported.folder} (latest: {settings.exports_dir / 'gold' / 'latest'})",
             f"  {gold_counts(exported)}"]
    lines += [f"  {p.kind}: {p.where}: {p.message}" for p in exported.problems]
    return lines


def write_gold(settings: Settings, result: PullResult) -> list[str]:
    """Build the gold dataset from a pull; lines to show the user (nothing is written without annotations)."""
    return gold_lines(settings, result, export_pulled(settings, result))


@dataclass(frozen=True)
class Line:
    """One line of a report; a warning goes to stderr in the CLI and shows as a warning on the dashboard."""

    text: str
    warning: bool = False


@dataclass(frozen=True)
class PullOutcome:
    """A pull and the gold built from it (None with archive_only or before any submitted annotation)."""

    pulled: PullResult
    gold: ExportResult | None
    archive_only: bool

    def lines(self, settings: Settings) -> list[Line]:
        """What was pulled, changed during the pull, quarantined, and written: `annotate pull`'s text."""
        stats = self.pulled.stats
        where = f"unchanged since {stats.path} (no new file)" if stats.unchanged_since else str(stats.path)
        lines = [Line(f"pulled {stats.tasks} task(s), {stats.annotations} annotation(s), {stats.drafts} draft(s) -> "
                      f"{where}")]
        lines += [Line(f"during the pull: {change}", warning=True) for change in stats.changes()]
        if self.pulled.quarantine:
            scopes = Counter(q.scope for q in self.pulled.quarantine)
            what = ", ".join(f"{n} {scope}(s)" for scope, n in sorted(scopes.items()))
            lines.append(Line(f"quarantined {what}, each named by task and annotator -> {self.pulled.quarantine_path}",
                              warning=True))
        if stats.fetched is not None or stats.full_reason:  # how it was made, when a store was involved
            lines.append(Line(stats.how()))
        if self.archive_only:
            return [*lines, Line("--archive-only: no gold written (build it with `annotate export`)")]
        return lines + [Line(text) for text in gold_lines(settings, self.pulled, self.gold)]


def export_archive(settings: Settings, archive: Path, decisions_path: Path) -> ExportResult:
    """The gold of one raw archive with a decision log (the dashboard's Build, in its worker process): its tasks
    from the local store when it holds the archive, else parsed from the file."""
    tasks = read_archive_tasks(settings, archive, load_schema(settings.guidelines_dir))[0]
    return export_gold(tasks, settings, decisions_path=decisions_path, source=describe_source(archive))


def pull_and_export(settings: Settings, archive_only: bool = False, progress: Progress = no_progress,
                    full: bool = False, start: bool = True) -> PullOutcome:
    """`annotate pull` and the dashboard's Pull button: archive the project (incrementally unless `full`), then
    (unless `archive_only`) write the gold dataset to exports/gold/ from that archive."""
    result = pull(settings, progress, full=full, load_tasks=not archive_only, start=start)
    return PullOutcome(result, None if archive_only else export_pulled(settings, result), archive_only)


def pull_lines(settings: Settings) -> list[Line]:
    """pull_and_export, keeping only the lines it reports (what the dashboard runs in its worker process); it never
    starts the embedded server (a button press should not), so a server stopped meanwhile is a clear error."""
    return pull_and_export(settings, start=False).lines(settings)
