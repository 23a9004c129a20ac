"""The backend's state per Label Studio project: the model each project is served and its own retraining.

Label Studio names the calling project in every request, as label_studio_ml reads it: /setup and /predict send
`"project": "<id>.<created_at unix time>"` (label_studio/ml/api_connector.py, `_create_project_uid`), /webhook
sends the serialised project (`"project": {"id": ...}`). A project is known once it has called /setup (Label
Studio does so on connect); the list is kept in .annotate/ml-backend/projects.json so a restart serves each
project its own retrained model again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AnnotateError
from ..files import atomic_write
from .state import Annotator, ModelHolder, Retrainer

log = logging.getLogger(__name__)
REGISTRY_FILE = "projects.json"


class BadRequest(AnnotateError):
    """A request that does not follow Label Studio's ML backend protocol (HTTP 400)."""


class UnknownProject(AnnotateError):
    """A request from a Label Studio project this backend was not set up for (HTTP 404)."""

    status = 404


def project_id(value: Any, where: str) -> int:
    """The project id in a request: "12.1700000000" (/setup, /predict), {"id": 12} (/webhook) or 12."""
    raw = value.get("id") if isinstance(value, dict) else value
    text = str(raw).split(".", 1)[0] if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not text.isdigit():
        raise BadRequest(f"{where}: expected the Label Studio project as \"project\": \"<id>.<time>\" or "
                         f"{{\"id\": <id>}}, got {value!r}")
    return int(text)


@dataclass
class ProjectState:
    """One project's served model and retraining."""

    id: int
    holder: ModelHolder
    retrainer: Retrainer


class Projects:
    """Project id -> ProjectState, made on /setup and remembered in `folder`/projects.json."""

    def __init__(self, folder: Path, build: Callable[[str | None], Annotator], default_model: str | None,
                 train: Callable[[int], Path | str | None], every: int):
        self.folder = folder
        self.default_model = default_model
        self._build, self._train, self._every = build, train, every
        self._lock = threading.Lock()
        self._states: dict[int, ProjectState] = {}
        self._loaded: dict[str | None, Annotator] = {}  # projects served the same model share one copy of it
        self._load_lock = threading.Lock()
        for pid, model in self._read().items():
            self._states[pid] = self._make(pid, model)

    def _read(self) -> dict[int, str | None]:
        path = self.folder / REGISTRY_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            models = {int(k): v.get("model") for k, v in data.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("%s unreadable (%s): every project must be set up again", path, exc)
            return {}
        for pid, model in models.items():
            if model and not Path(model).exists():  # deleted since: serve the default rather than fail every call
                log.warning("project %s: its model %s is gone; serving %s", pid, model, self.default_model)
                models[pid] = self.default_model
        return models

    def _save(self) -> None:
        """Write the registry; the caller holds the lock."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {str(pid): {"model": s.holder.model} for pid, s in sorted(self._states.items())}
        with atomic_write(self.folder / REGISTRY_FILE) as handle:
            handle.write(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def load(self, model: str | None) -> Annotator:
        """The pre-annotator for a model folder (None: the rules), built once however many projects it serves."""
        with self._load_lock:
            if model not in self._loaded:
                self._loaded[model] = self._build(model)
            return self._loaded[model]

    def _make(self, pid: int, model: str | None) -> ProjectState:
        holder = ModelHolder(self.load, model)

        def trained(folder: str) -> None:
            holder.swap(folder)
            with self._lock:
                self._save()
                used = {s.holder.model for s in self._states.values()} | {self.default_model}
            with self._load_lock:  # a model no project serves any more is let go
                for model in [m for m in self._loaded if m not in used]:
                    del self._loaded[model]

        return ProjectState(pid, holder, Retrainer(lambda: self._train(pid), trained, self._every))

    def setup(self, pid: int) -> ProjectState:
        """The project's state, made (serving the default model) on its first /setup."""
        with self._lock:
            if pid not in self._states:
                self._states[pid] = self._make(pid, self.default_model)
                self._save()
                log.info("set up for Label Studio project %s", pid)
            return self._states[pid]

    def get(self, pid: int, where: str) -> ProjectState:
        """A set-up project's state; UnknownProject for any other."""
        with self._lock:
            state = self._states.get(pid)
            known = sorted(self._states)
        if state is None:
            raise UnknownProject(f"{where}: Label Studio project {pid} is not set up with this backend (set up: "
                                 f"{', '.join(map(str, known)) or 'none'}); connect it under Project settings > "
                                 "Model, which calls /setup")
        return state

    def all(self) -> list[ProjectState]:
        """Every set-up project, by id."""
        with self._lock:
            return [self._states[k] for k in sorted(self._states)]
