"""Connecting our ML backend to the project (and disconnecting it), with its login, including the webhook Label Studio makes for it.

Label Studio 1.23.2 sends an ML backend's basic-auth login on /health, /setup, /predict and START_TRAINING, but
the project webhook it creates for the backend's /webhook (every project event) carries no login, so annotation
events would be refused by the backend (401). Connecting through this module gives that webhook the header too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..errors import LabelStudioError
from .client import Connection

TITLE = "annotate ML backend"


@dataclass(frozen=True)
class Connected:
    backend_id: int
    created: bool
    webhooks: tuple[int, ...]  # the webhooks to the backend's /webhook that now carry its login


def connect_backend(conn: Connection, project_id: int, url: str, user: str, password: str,
                    authorization: str) -> Connected:
    """Connect (or update) the backend at `url` with basic auth; give Label Studio's webhook to it the login."""
    url = url.rstrip("/")
    login: dict[str, Any] = {"auth_method": "BASIC_AUTH", "basic_auth_user": user, "basic_auth_pass": password}
    known = [m for m in conn.call("list ML backends", conn.sdk.ml.list, project=project_id)
             if str(m.url).rstrip("/") == url]
    if known:
        backend_id, created = int(known[0].id), False
        # Label Studio 1.23.2 re-runs /setup on update and fails (500, TypeError) unless `project` is sent too.
        conn.call(f"update ML backend {backend_id}", conn.sdk.ml.update, id=backend_id, url=url, project=project_id,
                  **login)
    else:
        # Not retried: a second create would add a second backend. Label Studio checks /health and /setup first.
        made = conn.call("connect the ML backend", conn.sdk.ml.create, url=url, project=project_id, title=TITLE,
                         is_interactive=False, retry=False, **login)
        backend_id, created = int(made.id), True
    hooks = [h for h in conn.call("list webhooks", conn.sdk.webhooks.list, project=str(project_id))
             if str(h.url).rstrip("/") == f"{url}/webhook"]
    if not hooks:
        raise LabelStudioError(f"Label Studio made no project webhook to {url}/webhook for the ML backend; "
                               "annotations will not reach it (check the project's Webhooks settings)")
    for hook in hooks:
        headers = {**(hook.headers or {}), "Authorization": authorization}
        conn.call(f"give webhook {hook.id} the backend's login", conn.sdk.webhooks.update, id=hook.id,
                  headers=headers)
    return Connected(backend_id, created, tuple(int(h.id) for h in hooks))


@dataclass(frozen=True)
class Disconnected:
    project_id: int
    backends: tuple[int, ...]  # the ML backends at the URL, removed
    webhooks: tuple[int, ...]  # the project webhooks to its /webhook, removed


def disconnect_backend(conn: Connection, project_id: int, url: str) -> Disconnected:
    """Remove the ML backend(s) at `url` from the project, and the project webhooks to its /webhook.

    Label Studio 1.23.2 deletes an ML backend without its webhook (ml/models.py makes the webhook on create and
    has no delete hook for it), so the webhook would go on posting every project event to the backend.
    """
    url = url.rstrip("/")
    backends = [int(m.id) for m in conn.call("list ML backends", conn.sdk.ml.list, project=project_id)
                if str(m.url).rstrip("/") == url]
    for backend_id in backends:
        conn.call(f"remove ML backend {backend_id}", conn.sdk.ml.delete, id=backend_id)
    hooks = [int(h.id) for h in conn.call("list webhooks", conn.sdk.webhooks.list, project=str(project_id))
             if str(h.url).rstrip("/") == f"{url}/webhook"]
    for hook_id in hooks:
        conn.call(f"remove webhook {hook_id}", conn.sdk.webhooks.delete, id=hook_id)
    return Disconnected(project_id, tuple(backends), tuple(hooks))


def disconnect_project_backend(settings: Settings, url: str) -> Disconnected:
    """Disconnect the backend at `url` from the settings' project (found by title, never created)."""
    from .client import connect
    from .project import find_project

    conn = connect(settings)
    project_id = find_project(conn, settings)
    if project_id is None:
        raise LabelStudioError(f"no project titled {settings.project_title!r} on {conn.url}: nothing to disconnect "
                               "(set project_title to the project the backend is connected to)")
    return disconnect_backend(conn, project_id, url)
