"""The main job (`annotate demo`, `make demo`): Label Studio up, seeds pre-annotated and pushed, the dashboard up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..config import Settings
from ..errors import AnnotateError
from ..ingest.load import IngestReport
from ..labelstudio import server as ls_server
from ..labelstudio.project import ProjectRef
from ..labelstudio.push import PushReport
from ..procs.dashboard import DashboardInfo, start_dashboard
from .project import Progress, no_progress, preannotate_inputs, push

MakeLogins = Callable[[Settings], dict[str, str]]  # creates the missing dashboard logins: email -> new password


@dataclass(frozen=True)
class DemoResult:
    project: ProjectRef
    push: PushReport
    ingest: IngestReport
    documents: int
    server_url: str
    login: str | None
    credentials_file: Path | None
    logins: dict[str, str] = field(default_factory=dict)  # dashboard logins made by this run (passwords shown once)
    dashboard: DashboardInfo | None = None
    dashboard_error: AnnotateError | None = None  # why the dashboard did not start (the rest of the job is done)


def run_demo(settings: Settings, progress: Progress = no_progress,
             dashboard_logins: MakeLogins | None = None) -> DemoResult:
    """Server up, seeds ingested and pre-annotated, project created or found, tasks pushed; with `dashboard_logins`
    also the dashboard's missing logins made and the dashboard started in the background (or found running).

    The logins are made by the caller's function (web.users.ensure_users: pipeline sits below web) and before
    the dashboard starts, so their passwords reach the caller and not the background process's log.
    """
    if not settings.external:
        ls_server.start_server(settings)
    docs, report = preannotate_inputs(settings, [settings.seeds_dir], progress=progress)
    project, pushed = push(settings, docs, progress)
    login = creds_file = None
    if not settings.external:
        login = ls_server.load_credentials(settings).email
        creds_file = ls_server.server_paths(settings).credentials
    url = project.url.split("/projects/")[0]
    result = DemoResult(project, pushed, report, len(docs), url, login, creds_file)
    if dashboard_logins is None:
        return result
    result = replace(result, logins=dashboard_logins(settings))
    try:
        return replace(result, dashboard=start_dashboard(settings))
    except AnnotateError as exc:  # reported with the new passwords, which cannot be shown again
        return replace(result, dashboard_error=exc)
