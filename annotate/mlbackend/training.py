"""The backend's defaults: which model to serve, how to load it, and the retraining (pull -> gold -> train)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from ..config import Settings
from ..errors import QualityGateError
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

        return build_preannotator(settings, model, with_rules)  # type: ignore[return-value]

    return build


def retrain(settings: Settings, max_steps: int = 500, seed: int = 0) -> Path:
    """Pull every annotation from Label Studio, write the gold export, train on it; the new model's folder."""
    from .. import pipeline
    from ..preannotate.compare import evaluate_on_dev
    from ..preannotate.train import TrainOptions, train_model

    pulled = pipeline.pull(settings)
    try:
        for line in pipeline.write_gold(settings, pulled):
            log.info("%s", line)
    except QualityGateError as exc:
        # The export is written; its problems (e.g. quarantined annotations) do not stop a retraining.
        log.warning("gold export has problems, training on it anyway: %s", exc)
    options = TrainOptions(seed=seed, max_steps=max_steps, patience=max(50, max_steps // 2))
    result = train_model(settings, settings.exports_dir / "gold" / "latest", options,
                         evaluate=evaluate_on_dev(settings))
    log.info("retrained %s -> %s", result.version, result.folder)
    return result.folder


def default_train(settings: Settings, max_steps: int = 500) -> Callable[[], Path]:
    """The retraining the webhook starts (see retrain)."""
    return lambda: retrain(settings, max_steps)
