"""The Label Studio project: created once, found again by stored id or title, updated in place."""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Iterable
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
_ATTRIBUTES = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*>")


@dataclass(frozen=True)
class Change:
    """One project setting changed: its name, the value before and after."""

    setting: str
    old: Any
    new: Any

    def describe(self) -> str:
        """`setting: old -> new`; long texts (labelling config, instructions) by their length only."""
        if isinstance(self.new, str) and len(self.new) > 60:
            return f"{self.setting}: updated ({len(self.old or '')} -> {len(self.new)} characters)"
        return f"{self.setting}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class ProjectRef:
    id: int
    title: str
    url: str  # the project's page in Label Studio
    created: bool
    changes: tuple[Change, ...] = ()  # settings an existing project had to change


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
    pager: Iterable[Any] = conn.call("list projects", conn.sdk.projects.list, title=title)
    matches = sorted(p.id for p in pager if p.title == title)
    if len(matches) > 1:
        log.warning("%d projects are titled %r; using the oldest (id %d)", len(matches), title, matches[0])
    return matches[0] if matches else None


def project_settings(settings: Settings, schema: Schema, instructions_html: str) -> dict[str, Any]:
    """Everything a new project is created with, derived from settings, schema and guidelines."""
    return {
        **content_settings(schema, instructions_html),
        "show_instruction": True,
        "maximum_annotations": settings.annotators_per_task,
        "overlap_cohort_percentage": settings.overlap_percent,
        "show_collab_predictions": True,
    }


def content_settings(schema: Schema, instructions_html: str) -> dict[str, str]:
    """What a push keeps in step with the schema and guidelines; every other setting is the lead's after creation."""
    return {"label_config": build_label_config(schema), "expert_instruction": instructions_html}


def ensure_project(conn: Connection, settings: Settings, schema: Schema, instructions_html: str) -> ProjectRef:
    """Create the project, or bring its labelling config and instructions up to date; never create it twice.

    An existing project's other settings (overlap, model version, collaborative predictions, ...) stay as the lead
    set them: only `annotate project` changes overlap (configure_overlap), and only a push that adds predictions of
    a new model version changes the model version (update_model_version).
    """
    found = find_project(conn, settings)
    changes: tuple[Change, ...] = ()
    if found is None:
        project_id = _create(conn, settings, project_settings(settings, schema, instructions_html))
    else:
        project_id = found
        changes = _update(conn, project_id, content_settings(schema, instructions_html), schema)
    _remember(settings, conn.url, settings.project_title, project_id)
    url = f"{conn.url}/projects/{project_id}/data"
    return ProjectRef(project_id, settings.project_title, url, found is None, changes)


def _create(conn: Connection, settings: Settings, fields: dict[str, Any]) -> int:
    """Create the project once: if the answer to the create request is lost, look for it before asking again."""
    for attempt in (1, 2):
        try:
            project = conn.call("create project", conn.sdk.projects.create, title=settings.project_title, **fields,
                                retry=False)
            return int(project.id or 0)  # Label Studio always returns the new project's id
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


def _update(conn: Connection, project_id: int, fields: dict[str, str], schema: Schema) -> tuple[Change, ...]:
    """PATCH only the fields whose stored value differs from ours; the changes made."""
    current = conn.call(f"get project {project_id}", conn.sdk.projects.get, id=project_id)
    changed: dict[str, Any] = {name: value for name, value in fields.items() if _differs(name, value, getattr(current, name, None))}
    if not changed:
        return ()
    if "label_config" in changed:
        _check_labels_kept(conn, project_id, schema)
    try:
        conn.call(f"update project {project_id}", conn.sdk.projects.update, id=project_id, **changed)
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
    return tuple(Change(name, getattr(current, name, None), value) for name, value in changed.items())


def _differs(name: str, ours: str, stored: str | None) -> bool:
    """Whether the stored value says something else than ours, not merely how Label Studio stored it.

    Label Studio 1.23 drops the labelling config's trailing newline and cleans `expert_instruction` with bleach
    (projects/serializers.py: `id`, `style` and `data-*` attributes are stripped), so a byte comparison would PATCH
    on every push. Whitespace is compared loosely; instructions without their tag attributes.
    """
    if name == "expert_instruction":
        return _text_of(ours) != _text_of(stored or "")
    return " ".join(ours.split()) != " ".join((stored or "").split())


def _text_of(markup: str) -> str:
    """HTML with every tag's attributes removed, entities decoded and whitespace collapsed."""
    return " ".join(html.unescape(_ATTRIBUTES.sub(r"<\1\2>", markup)).split())


def _check_labels_kept(conn: Connection, project_id: int, schema: Schema) -> None:
    missing = sorted(labels_in_use(conn, project_id) - set(schema.label_names))
    if missing:
        raise LabelStudioError(
            f"not updating project {project_id}: label {missing[0]!r} is used by existing annotations but is not in "
            f"guidelines/schema.toml (labels there: {', '.join(schema.label_names)}). Keep the label, or remove those "
            "annotations first."
        )


def _label_in_use(body: Any) -> str | None:
    """The label name from Label Studio's 'created annotations' refusal, if that is what this is."""
    text = json.dumps(body) if not isinstance(body, str) else body
    if "annotation" not in text.lower():
        return None
    match = re.search(r'[Ll]abels?\W+(?:\\")?"?([A-Za-z0-9_ -]+?)(?:\\")?"?\W+(?:is|are|was)\s', text) or \
        re.search(r"\[\\?\"?'?([A-Za-z0-9_ -]+)'?\\?\"?\]", text)
    return match.group(1) if match else None


def configure_overlap(conn: Connection, project_id: int, annotators_per_task: int | None = None,
                      overlap_percent: int | None = None) -> tuple[Change, ...]:
    """Set the overlap settings that were given and differ from the project's; the changes made."""
    wanted = {"maximum_annotations": annotators_per_task, "overlap_cohort_percentage": overlap_percent}
    current = conn.call(f"get project {project_id}", conn.sdk.projects.get, id=project_id)
    changed: dict[str, Any] = {k: v for k, v in wanted.items() if v is not None and getattr(current, k, None) != v}
    if changed:
        conn.call(f"update project {project_id}", conn.sdk.projects.update, id=project_id, **changed)
    return tuple(Change(k, getattr(current, k, None), v) for k, v in changed.items())


def backend_titles(conn: Connection, project_id: int) -> set[str]:
    """Titles of the ML backends connected to the project."""
    backends = conn.call(f"list ML backends of project {project_id}", conn.sdk.ml.list, project=project_id)
    return {b.title for b in backends or [] if b.title}


def update_model_version(conn: Connection, project_id: int, model_version: str) -> tuple[Change | None, str | None]:
    """Make the editor pre-fill from `model_version`, unless the project follows a connected ML backend.

    Label Studio 1.23 keeps one `project.model_version` for two things (projects/models.py): a prediction version
    (static predictions of that version are shown) or a connected ML backend's *title* (ml/api.py sets it when a
    backend is connected to a project without one; tasks/models.py then asks the backend for predictions, in the
    editor and in `/next`). Overwriting a backend's title with a version would cut the annotators' queue off the
    backend, so then the version is left alone. Returns the change made, or the title that kept it.
    """
    current = conn.call(f"get project {project_id}", conn.sdk.projects.get, id=project_id)
    if current.model_version == model_version:
        return None, None
    if current.model_version and current.model_version in backend_titles(conn, project_id):
        return None, current.model_version
    conn.call("set the project's model version", conn.sdk.projects.update, id=project_id, model_version=model_version)
    return Change("model_version", current.model_version, model_version), None
