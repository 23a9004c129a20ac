"""Multi-step workflows that both the CLI and the web app call: pre-annotate, push, pull, demo."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .errors import LabelStudioError
from .export import export_gold
from .files import atomic_write
from .guidelines import instructions_html, load_guidelines
from .ingest import IngestReport, load_articles
from .labelstudio import server as ls_server
from .labelstudio.client import Connection, connect
from .labelstudio.convert import Quarantined, read_export, task_from_row, tasks_from_export
from .labelstudio.project import ProjectRef, ensure_project, find_project
from .labelstudio.pull import PullStats, pull_raw
from .labelstudio.push import PushReport, push_documents
from .records import Document, Task
from .schema import load_schema

log = logging.getLogger(__name__)
Progress = Callable[[str, int], Callable[[int], None]]  # (description, total) -> advance(n)


def _no_progress(_desc: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


def preannotate_inputs(settings: Settings, paths: Iterable[str | Path], processes: int = 1,
                       model: str | None = None, with_rules: bool = True) -> tuple[list[Document], IngestReport]:
    """Ingest inputs and pre-annotate them; rejected inputs are in the report, the rest go on.

    `with_rules` applies to a trained model folder (`annotate train`): False gives its spans only.
    """
    from .preannotate import build_preannotator  # spaCy import is slow; only pre-annotating commands pay it

    report = IngestReport()
    articles = load_articles(paths, text_column=settings.csv_text_column, max_chars=settings.max_article_chars,
                             report=report, near_threshold=settings.near_duplicate_threshold)
    preannotator = build_preannotator(settings, model=model, with_rules=with_rules)
    return list(preannotator.annotate(articles, processes=processes)), report


def open_project(settings: Settings) -> tuple[Connection, ProjectRef]:
    """Connect and create or update the project from the schema and the guidelines."""
    conn = connect(settings)
    schema = load_schema(settings.guidelines_dir)
    html = instructions_html(load_guidelines(settings.guidelines_dir), schema)
    return conn, ensure_project(conn, settings, schema, html)


def push(settings: Settings, docs: list[Document], progress: Progress = _no_progress) -> tuple[ProjectRef, PushReport]:
    """Upsert pre-annotated documents into the project (created or updated first)."""
    conn, project = open_project(settings)
    report = push_documents(conn, project.id, docs, settings.batch_size, progress("push", len(docs)),
                            state=manifest_path(settings, conn.url, project.id))
    return project, report


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


def raw_dir(settings: Settings) -> Path:
    return settings.exports_dir / "raw"


def pull(settings: Settings, progress: Progress = _no_progress) -> PullResult:
    """Archive the project's raw export under exports/raw/, then parse it into tasks (quarantining misfits)."""
    conn = connect(settings)
    project_id = find_project(conn, settings)
    if project_id is None:
        raise LabelStudioError(f"no project titled {settings.project_title!r} on {conn.url}: run `annotate push` "
                               "first (or set project_title)")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest = raw_dir(settings) / f"project-{project_id}-{stamp}.json"
    schema = load_schema(settings.guidelines_dir)
    tasks: list[Task] = []
    quarantine: list[Quarantined] = []
    stats = pull_raw(conn, project_id, dest, progress=progress("pull", -1),
                     on_row=lambda row: tasks.append(task_from_row(row, schema, quarantine)))
    qpath = None
    if quarantine:
        qpath = dest.with_suffix(".quarantine.jsonl")
        with atomic_write(qpath) as handle:
            for item in quarantine:
                handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    return PullResult(project_id, stats, tasks, quarantine, qpath)


def latest_raw_export(settings: Settings) -> Path | None:
    """The newest raw archive under exports/raw/, if any."""
    files = sorted(raw_dir(settings).glob("project-*.json"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def load_tasks(settings: Settings, from_export: Path | str | None = None) -> list[Task]:
    """Tasks from a Label Studio JSON export file, or pulled live from the project."""
    if from_export is not None:
        tasks, quarantine = tasks_from_export(read_export(from_export), load_schema(settings.guidelines_dir))
        for item in quarantine:
            log.warning("quarantined: task %s by %s: %s", item.task_id, item.annotator, item.reason)
        return tasks
    return pull(settings).tasks


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
    docs, report = preannotate_inputs(settings, [settings.seeds_dir])
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


def write_gold(settings: Settings, result: PullResult) -> list[str]:
    """Build the gold dataset from a pull; lines to show the user (nothing is written without annotations)."""
    if not any(task.completed for task in result.tasks):
        return [f"no submitted annotations yet in project {result.project_id}: no gold written. "
                "Annotate in Label Studio, then pull again."]
    notes = [f"task {q.task_id} by {q.annotator}: {q.reason}" for q in result.quarantine]
    exported = export_gold(result.tasks, settings, source=describe_source(result.stats.path), quarantined=notes)
    lines = [f"gold dataset -> {exported.folder} (latest: {settings.exports_dir / 'gold' / 'latest'})"]
    lines += [f"  {p.kind}: {p.where}: {p.message}" for p in exported.problems]
    return lines
