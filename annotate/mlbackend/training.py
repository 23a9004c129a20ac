"""The backend's defaults: which model to serve, how to load it, and a project's retraining (pull -> own gold -> train)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..config import Settings
from ..errors import QualityGateError
from ..gold.decisions import DECISIONS_FILE
from .state import Annotator

log = logging.getLogger(__name__)


def newest_model(settings: Settings) -> str | None:
    """The most recently trained models/<version>/ folder (by meta.json created_at), or None."""
    found = []
    for meta in (settings.root / "models").glob("*/meta.json"):
        try:
            created = json.loads(meta.read_text(encoding="utf-8")).get("created_at", "")
        except (OSError, ValueError):
            continue  # a half-written or foreign folder is not a candidate
        found.append((str(created), meta.stat().st_mtime, str(meta.parent)))
    return max(found)[2] if found else None


def default_build(settings: Settings, with_rules: bool = True) -> Callable[[str | None], Annotator]:
    """Model folder (or None: the rule-based pre-annotator) -> pre-annotator."""

    def build(model: str | None) -> Annotator:
        from ..preannotate import build_preannotator

        return build_preannotator(settings, model, with_rules)

    return build


_TRAINING = threading.Lock()  # two projects retraining at once would share 2 cores: one training at a time


def project_folder(settings: Settings, project_id: int) -> Path:
    """The backend's own files for one project: raw.json (its last pull) and gold/ (its last gold build)."""
    return settings.state_dir / "ml-backend" / f"project-{project_id}"


def build_project_gold(settings: Settings, project_id: int) -> Path:
    """Pull project `project_id` and build its gold in the backend's own folder; the build's folder."""
    from ..export.build import export_gold
    from ..labelstudio.client import connect
    from ..labelstudio.convert import read_export, tasks_from_export
    from ..labelstudio.project import find_project
    from ..labelstudio.pull import pull_raw
    from ..pipeline import describe_source
    from ..schema import load_schema

    folder = project_folder(settings, project_id)
    folder.mkdir(parents=True, exist_ok=True)
    conn = connect(settings)
    stats = pull_raw(conn, project_id, folder / "raw.json")
    tasks, quarantine = tasks_from_export(read_export(stats.path), load_schema(settings.guidelines_dir))
    # The lead's decisions are about the lead's project; another project's tasks are adjudicated without them.
    own_project = find_project(conn, settings) == project_id
    decisions = (settings.exports_dir if own_project else folder) / DECISIONS_FILE
    try:  # into the backend's own folder (replaced each time): exports/gold/latest is the lead's, never touched
        built = export_gold(tasks, settings, decisions_path=decisions, source=describe_source(stats.path),
                            quarantined=[q.note() for q in quarantine], out=folder / "gold")
    except QualityGateError as exc:
        # The build is written; its problems (e.g. quarantined annotations) do not stop a retraining.
        log.warning("project %s: gold build has problems, training on it anyway: %s", project_id, exc)
        built = exc.result  # type: ignore[attr-defined]
    return Path(built.folder)


def retrain(settings: Settings, project_id: int, max_steps: int = 500, seed: int = 0) -> Path:
    """Pull the project's annotations, build its own gold, train on it; the new model's folder (under models/)."""
    from ..training.compare import evaluate_on_dev
    from ..training.train import TrainOptions, train_model

    with _TRAINING:
        gold = build_project_gold(settings, project_id)
        options = TrainOptions(seed=seed, max_steps=max_steps, patience=max(50, max_steps // 2))
        result = train_model(settings, gold, options, evaluate=evaluate_on_dev(settings))
    log.info("project %s: retrained %s -> %s on %s", project_id, result.version, result.folder, gold.name)
    return result.folder


def default_train(settings: Settings, max_steps: int = 500) -> Callable[[int], Path]:
    """The retraining the webhook starts for a project (see retrain)."""
    return lambda project_id: retrain(settings, project_id, max_steps)
