"""The project side of the workflows: pre-annotate inputs, create or update the project, push, connect a backend."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from .. import locks
from ..config import Settings
from ..guidelines import instructions_html, load_guidelines
from ..ingest.load import IngestReport, load_articles
from ..labelstudio.client import Connection, connect
from ..labelstudio.mlconnect import Connected, connect_backend
from ..labelstudio.project import Change, ProjectRef, configure_overlap, ensure_project
from ..labelstudio.push import PushReport, push_documents
from ..records import Document
from ..schema import load_schema

log = logging.getLogger(__name__)
Progress = Callable[[str, int], Callable[[int], None]]  # (description, total) -> advance(n)


def no_progress(_desc: str, _total: int) -> Callable[[int], None]:
    """A Progress that shows nothing (library callers and the dashboard)."""
    return lambda _n: None


def preannotate_inputs(settings: Settings, paths: Iterable[str | Path], processes: int = 1,
                       model: str | None = None, with_rules: bool = True,
                       progress: Progress = no_progress) -> tuple[list[Document], IngestReport]:
    """Ingest inputs and pre-annotate them; rejected inputs are in the report, the rest go on.

    `with_rules` applies to a trained model folder (`annotate train`): False gives its spans only.
    """
    from ..preannotate import build_preannotator  # spaCy import is slow; only pre-annotating commands pay it

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


def push(settings: Settings, docs: list[Document], progress: Progress = no_progress,
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
    from ..mlbackend.credentials import ensure_credentials

    conn, project = open_project(settings)
    creds = ensure_credentials(settings)
    return project, connect_backend(conn, project.id, url, creds.user, creds.password, creds.header())


def manifest_path(settings: Settings, url: str, project_id: int) -> Path:
    """Where push keeps what it last left in this project of this server (see labelstudio/manifest.py)."""
    server = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return settings.state_dir / "sync" / f"{server}-project-{project_id}.json"
