"""The Label Studio project: created once, found again by stored id or title, updated in place."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from label_studio_sdk.core.api_error import ApiError

from ..config import Settings
from ..errors import LabelStudioError
from ..files import atomic_write
from ..schema import Schema
from .client import Connection, is_transient
from .labelconfig import build_label_config

log = logging.getLogger(__name__)
STATE_FILE = "projects.json"
CREATE_SETTLE = 15.0  # seconds to look for a project whose create answer was lost


@dataclass(frozen=True)
class ProjectRef:
    id: int
    title: str
    url: str  # the project's page in Label Studio
    created: bool


def _state_path(settings: Settings) -> Path:
    return settings.state_dir / STATE_FILE


def _read_state(settings: Settings) -> dict[str, Any]:
    path = _state_path(settings)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _remember(settings: Settings, server_url: str, title: str, project_id: int) -> None:
    state = _read_state(settings)
    state.setdefault(server_url, {})[title] = project_id
    with atomic_write(_state_path(settings), private=True) as handle:
        json.dump(state, handle, indent=2, sort_keys=True)


def find_project(conn: Connection, settings: Settings) -> int | None:
    """The project's id: the stored one if it still exists with our title, else one found by title."""
    title = settings.project_title
    stored = _read_state(settings).get(conn.url, {}).get(title)
    if stored is not None:
        try:
            project = conn.call(f"get project {stored}", conn.sdk.projects.get, id=stored)
            if project.title == title:
                return int(stored)
        except LabelStudioError as exc:
            if getattr(exc.__cause__, "status_code", None) != 404:  # deleted since: find it by title
                raise
    pager = conn.call("list projects", conn.sdk.projects.list, title=title)
    matches = sorted(p.id for p in pager if p.title == title)
    if len(matches) > 1:
        log.warning("%d projects are titled %r; using the oldest (id %d)", len(matches), title, matches[0])
    return matches[0] if matches else None


def project_settings(settings: Settings, schema: Schema, instructions_html: str) -> dict[str, Any]:
    """Everything we set on the project, derived from settings, schema and guidelines."""
    return {
        "label_config": build_label_config(schema),
        "expert_instruction": instructions_html,
        "show_instruction": True,
        "maximum_annotations": settings.annotators_per_task,
        "overlap_cohort_percentage": settings.overlap_percent,
        "show_collab_predictions": True,
    }


def ensure_project(conn: Connection, settings: Settings, schema: Schema, instructions_html: str) -> ProjectRef:
    """Create the project or update the existing one; never create it twice."""
    fields = project_settings(settings, schema, instructions_html)
    project_id = find_project(conn, settings)
    created = project_id is None
    if project_id is None:
        project_id = _create(conn, settings, fields)
    else:
        _update(conn, project_id, fields, schema)
    _remember(settings, conn.url, settings.project_title, project_id)
    return ProjectRef(project_id, settings.project_title, f"{conn.url}/projects/{project_id}/data", created)


def _create(conn: Connection, settings: Settings, fields: dict[str, Any]) -> int:
    """Create the project once: if the answer to the create request is lost, look for it before asking again."""
    for attempt in (1, 2):
        try:
            project = conn.call("create project", conn.sdk.projects.create, title=settings.project_title, **fields,
                                retry=False)
            return int(project.id)
        except LabelStudioError as exc:
            if attempt == 2 or exc.__cause__ is None or not is_transient(exc.__cause__):
                raise
            log.warning("creating project %r: answer lost (%s); checking before asking again", settings.project_title,
                        exc)
            deadline = time.monotonic() + CREATE_SETTLE
            while time.monotonic() < deadline:
                found = find_project(conn, settings)
                if found is not None:
                    return found
                time.sleep(0.5)
    raise AssertionError("unreachable")


def labels_in_use(conn: Connection, project_id: int) -> set[str]:
    """Span labels that existing annotations use, from Label Studio's project summary."""
    summary = conn.call("read the project summary", conn.get_json, f"api/projects/{project_id}/summary/")
    used = summary.get("created_labels") or {}
    return {label for per_control in used.values() for label, count in per_control.items() if count}


def _update(conn: Connection, project_id: int, fields: dict[str, Any], schema: Schema) -> None:
    missing = sorted(labels_in_use(conn, project_id) - set(schema.label_names))
    if missing:
        raise LabelStudioError(
            f"not updating project {project_id}: label {missing[0]!r} is used by existing annotations but is not in "
            f"guidelines/schema.toml (labels there: {', '.join(schema.label_names)}). Keep the label, or remove those "
            "annotations first."
        )
    try:
        conn.call(f"update project {project_id}", conn.sdk.projects.update, id=project_id, **fields)
    except LabelStudioError as exc:
        cause = exc.__cause__
        label = _label_in_use(cause.body) if isinstance(cause, ApiError) else None
        if isinstance(cause, ApiError) and cause.status_code == 400 and label:
            raise LabelStudioError(
                f"Label Studio refused the new labelling configuration for project {project_id}: label {label!r} "
                "is used by existing annotations. Keep the label in guidelines/schema.toml, or remove those "
                "annotations first."
            ) from cause
        raise


def _label_in_use(body: Any) -> str | None:
    """The label name from Label Studio's 'created annotations' refusal, if that is what this is."""
    text = json.dumps(body) if not isinstance(body, str) else body
    if "annotation" not in text.lower():
        return None
    match = re.search(r'[Ll]abels?\W+(?:\\")?"?([A-Za-z0-9_ -]+?)(?:\\")?"?\W+(?:is|are|was)\s', text) or \
        re.search(r"\[\\?\"?'?([A-Za-z0-9_ -]+)'?\\?\"?\]", text)
    return match.group(1) if match else None


def set_model_version(conn: Connection, project_id: int, model_version: str) -> None:
    """Make the editor pre-fill from predictions of `model_version`."""
    conn.call("set the project's model version", conn.sdk.projects.update, id=project_id, model_version=model_version)
