"""Multi-step workflows that both the CLI and the web app call: pre-annotate, push, pull, demo."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from . import locks
from .archive import (
    archive_name,
    latest_raw_export,
    list_archives,
    prune_archives,
    raw_dir,
    remove_stale_temp,
    write_quarantine,
)
from .config import Settings
from .decide import make_relation_decision, validate_relation_decision
from .decisions import DECISIONS_FILE, RelationDecision, append_decision, load_decisions
from .errors import InputError, LabelStudioError, QualityGateError
from .export import ExportResult, export_gold
from .gold import build_gold
from .guidelines import instructions_html, load_guidelines
from .ingest import IngestReport, load_articles
from .labelstudio import server as ls_server
from .labelstudio.client import Connection, connect
from .labelstudio.convert import Quarantined, read_export, task_from_row, tasks_from_export
from .labelstudio.mlconnect import Connected, connect_backend
from .labelstudio.project import Change, ProjectRef, configure_overlap, ensure_project, find_project
from .labelstudio.pull import PAGE_SIZE, PullStats, change_marker, pull_raw
from .labelstudio.push import PushReport, push_documents
from .labelstudio.users import resolve_users
from .records import Document, SpanKey, Task
from .schema import load_schema

log = logging.getLogger(__name__)
Progress = Callable[[str, int], Callable[[int], None]]  # (description, total) -> advance(n)


def _no_progress(_desc: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def preannotate_inputs(settings: Settings, paths: Iterable[str | Path], processes: int = 1,
                       model: str | None = None, with_rules: bool = True,
                       progress: Progress = _no_progress) -> tuple[list[Document], IngestReport]:
    """Ingest inputs and pre-annotate them; rejected inputs are in the report, the rest go on.

    `with_rules` applies to a trained model folder (`annotate train`): False gives its spans only.
    """
    from .preannotate import build_preannotator  # spaCy import is slow; only pre-annotating commands pay it

    report = IngestReport()
    # Listed first (ingest is fast) so the bar over the slow part, spaCy, has a total.
    articles = list(load_articles(paths, text_column=settings.csv_text_column, max_chars=settings.max_article_chars,
                                  report=report, near_threshold=settings.near_duplicate_threshold, root=settings.root))
    preannotator = build_preannotator(settings, model=model, with_rules=with_rules)
    log.info("pre-annotating %d article(s) with model version %s (%d rejected)", len(articles),
             preannotator.model_version, len(report.rejected))
    advance = progress("preannotate", len(articles))
    docs = []
    for doc in preannotator.annotate(articles, processes=processes):
        docs.append(doc)
        advance(1)
    return docs, report


def _project_lock(settings: Settings) -> AbstractContextManager[None]:
    """One push (or project creation) at a time per server and project title, from this project folder."""
    server = settings.label_studio_url or f"embedded:{settings.state_dir}"
    path = locks.lock_path(settings.state_dir, "project", server, settings.project_title)
    return locks.hold(path, f"push to project {settings.project_title!r}")


def _ensure(conn: Connection, settings: Settings) -> ProjectRef:
    """Create or update the project from the schema and the guidelines (hold the project lock)."""
    schema = load_schema(settings.guidelines_dir)
    html = instructions_html(load_guidelines(settings.guidelines_dir), schema)
    return ensure_project(conn, settings, schema, html)


def open_project(settings: Settings) -> tuple[Connection, ProjectRef]:
    """Connect and create or update the project (one creator at a time)."""
    conn = connect(settings)
    with _project_lock(settings):
        return conn, _ensure(conn, settings)


def configure_project(settings: Settings, annotators_per_task: int | None = None,
                      overlap_percent: int | None = None) -> tuple[ProjectRef, tuple[Change, ...]]:
    """`annotate project`: create or update the project, then set the overlap given (the only place that does)."""
    conn = connect(settings)
    with _project_lock(settings):
        ref = _ensure(conn, settings)
        if ref.created:  # created with the settings' overlap already
            return ref, ()
        return ref, ref.changes + configure_overlap(conn, ref.id, annotators_per_task, overlap_percent)


def push(settings: Settings, docs: list[Document], progress: Progress = _no_progress,
         dedupe: bool = False) -> tuple[ProjectRef, PushReport]:
    """Upsert pre-annotated documents into the project (created or updated first), one push at a time."""
    conn = connect(settings)
    with _project_lock(settings):
        project = _ensure(conn, settings)
        log.info("push: %d document(s) to project %d %r (%s)", len(docs), project.id, project.title,
                 "created" if project.created else "exists")
        report = push_documents(conn, project.id, docs, settings.batch_size, progress("push", len(docs)),
                                state=manifest_path(settings, conn.base_url, project.id), dedupe=dedupe)
    log.info("push: %d task(s) created, %d skipped (unchanged), %d prediction(s) added to existing tasks",
             report.created, report.skipped, report.predictions_added)
    for line in report.setting_lines():
        log.info("push: %s", line)
    return project, report


def connect_ml_backend(settings: Settings, url: str) -> tuple[ProjectRef, Connected]:
    """Connect the running ML backend at `url` to the project, with its login (webhook included)."""
    from .mlbackend.credentials import ensure_credentials

    conn, project = open_project(settings)
    creds = ensure_credentials(settings)
    return project, connect_backend(conn, project.id, url, creds.user, creds.password, creds.header())


def manifest_path(settings: Settings, url: str, project_id: int) -> Path:
    """Where push keeps what it last left in this project of this server (see labelstudio/manifest.py)."""
    server = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return settings.state_dir / "sync" / f"{server}-project-{project_id}.json"


@dataclass(frozen=True)
class PullResult:
    project_id: int
    stats: PullStats
    tasks: list[Task]
    quarantine: list[Quarantined]
    quarantine_path: Path | None


def pull(settings: Settings, progress: Progress = _no_progress) -> PullResult:
    """Archive the project as a consistent snapshot under exports/raw/ (no new file when nothing changed), parse
    it into tasks (quarantining misfits), and prune old archives (see prune_archives)."""
    conn = connect(settings)
    project_id = find_project(conn, settings)
    if project_id is None:
        raise LabelStudioError(f"no project titled {settings.project_title!r} on {conn.url}: run `annotate push` "
                               "first (or set project_title)")
    schema = load_schema(settings.guidelines_dir)
    parsed: dict[int, tuple[Task, list[Quarantined]]] = {}

    def parse(row: dict) -> None:
        found: list[Quarantined] = []
        task = task_from_row(row, schema, found)
        parsed[task.task_id] = (task, found)

    folder = raw_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with locks.hold(locks.lock_path(settings.state_dir, "pull", str(folder)), "pull into exports/raw"):
        for stale in remove_stale_temp(folder):
            log.warning("removed %s, left by an interrupted pull", stale.name)
        previous = (list_archives(settings, project_id) or [None])[-1]
        total = change_marker(conn, project_id)[0]  # one small request, so the bar has a total
        log.info("pull: project %d holds %d task(s): %d page(s) of %d", project_id, total, -(-total // PAGE_SIZE),
                 PAGE_SIZE)
        stats = pull_raw(conn, project_id, archive_name(settings, project_id), progress=progress("pull", total),
                         on_row=parse, previous=previous)
        if stats.unchanged_since:
            log.info("pull: unchanged since %s: no new archive", stats.unchanged_since.name)
        else:
            log.info("pull: new archive %s", stats.path.name)
        for task_id in stats.deleted:
            parsed.pop(task_id, None)
        tasks = [parsed[k][0] for k in sorted(parsed)]
        quarantine = [q for k in sorted(parsed) for q in parsed[k][1]]
        qpath = write_quarantine(stats.path, quarantine)
        prune_archives(settings)
    return PullResult(project_id, stats, tasks, quarantine, qpath)


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


def read_tasks(settings: Settings, from_export: Path | str | None = None, refresh: bool = False,
               progress: Progress = _no_progress) -> TaskSource:
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
    tasks, quarantine = tasks_from_export(read_export(archive), schema)
    return TaskSource(tasks, quarantine, archive)


def load_tasks(settings: Settings, from_export: Path | str | None = None, refresh: bool = False) -> list[Task]:
    """Tasks from an export file, the newest archive, or a fresh pull (see read_tasks)."""
    source = read_tasks(settings, from_export, refresh)
    for item in source.quarantine:
        log.warning("quarantined: task %s by %s: %s", item.task_id, item.annotator, item.reason)
    return source.tasks


@dataclass(frozen=True)
class DemoResult:
    project: ProjectRef
    push: PushReport
    ingest: IngestReport
    documents: int
    server_url: str
    login: str | None
    credentials_file: Path | None


def run_demo(settings: Settings, progress: Progress = _no_progress) -> DemoResult:
    """The main job: server up, seeds ingested and pre-annotated, project created or found, tasks pushed."""
    if not settings.external:
        ls_server.start_server(settings)
    docs, report = preannotate_inputs(settings, [settings.seeds_dir], progress=progress)
    project, pushed = push(settings, docs, progress)
    login = creds_file = None
    if not settings.external:
        login = ls_server.load_credentials(settings).email
        creds_file = ls_server.server_paths(settings).credentials
    url = project.url.split("/projects/")[0]
    return DemoResult(project, pushed, report, len(docs), url, login, creds_file)


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
        return exc.result  # type: ignore[attr-defined, no-any-return]
    log.info("export: gold folder %s (%d problem(s))", exported.folder, len(exported.problems))
    return exported


def gold_lines(settings: Settings, result: PullResult, exported: ExportResult | None) -> list[str]:
    """What `annotate pull` says about the gold it built (or did not build) from the pull."""
    if exported is None:
        return [f"no submitted annotations yet in project {result.project_id}: no gold written. "
                "Annotate in Label Studio, then pull again."]
    lines = [f"gold dataset -> {exported.folder} (latest: {settings.exports_dir / 'gold' / 'latest'})"]
    lines += [f"  {p.kind}: {p.where}: {p.message}" for p in exported.problems]
    return lines


def write_gold(settings: Settings, result: PullResult) -> list[str]:
    """Build the gold dataset from a pull; lines to show the user (nothing is written without annotations)."""
    return gold_lines(settings, result, export_pulled(settings, result))


def record_relation_decision(settings: Settings, task: Task, source: SpanKey, target: SpanKey, label: str,
                             action: str, by: str, *, new_label: str | None = None, note: str | None = None,
                             archive: str | None = None, decisions_path: Path | None = None) -> RelationDecision:
    """Check a lead's decision on one relation of `task` (schema, leads, ends among the annotations' spans or the
    gold after span decisions) and append it to the decision log; the CLI and the dashboard both write this way."""
    schema = load_schema(settings.guidelines_dir)
    path = decisions_path or settings.exports_dir / DECISIONS_FILE
    decision = make_relation_decision(task, source, target, label, action, by, schema.version, new_label=new_label,
                                      note=note, archive=archive)
    gold = build_gold([task], load_decisions(path), schema, settings.leads).tasks[0]
    validate_relation_decision(decision, task, schema, settings.leads, {s.key for s in gold.spans})
    append_decision(path, decision)
    return decision
