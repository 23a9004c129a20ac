"""`annotate train`: a spaCy NER pipeline trained on the gold DocBins, saved as models/<version>/ with meta.json.

models/<version>/model/ is the spaCy pipeline (the best dev checkpoint), models/<version>/meta.json holds
the version that flows into predictions' model_version, the gold it came from, the options and seed,
and the per-label scores on the dev split.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError, InputError
from ..files import atomic_write
from ..preannotate.trained import KIND, META_FILE, MODEL_DIR
from ..schema import load_schema
from .golddata import GoldData, load_gold, subsample, write_subset
from .trainconfig import NEEDS_BASE, TrainOptions, config_text, write_labels

log = logging.getLogger(__name__)
PACKAGE_NAME = "annotate_ner"  # nlp.meta["name"]: `spacy package` makes <lang>_annotate_ner-<version>


@dataclass(frozen=True)
class TrainResult:
    """A saved model: its folder, version and meta.json content."""

    folder: Path
    version: str
    meta: dict[str, Any]


def models_dir(settings: Settings) -> Path:
    """Where trained models live (git-ignored): <root>/models/."""
    return settings.root / "models"


def model_version_for(gold: GoldData, config: str, options: TrainOptions) -> str:
    """`ner-<hash12>` over the gold data, the config and the options: same inputs, same version."""
    digest = hashlib.sha256("\0".join([json.dumps(gold.source, sort_keys=True), config,
                                       json.dumps(options.to_dict(), sort_keys=True)]).encode())
    return f"ner-{digest.hexdigest()[:12]}"


def _check_docs(gold: GoldData) -> None:
    if not gold.train_docs:
        raise InputError("the gold data has no training documents (split 'train'); annotate more tasks", str(gold.train))
    if not gold.dev_docs:
        raise InputError("the gold data has no dev documents (split 'dev'); lower nothing, annotate at least two "
                         "articles so the split can keep one apart", str(gold.dev))
    if not any(d.spans for d in gold.train_docs):
        raise InputError("the training documents have no spans to learn from", str(gold.train))


def _fit(config: str, train: Path, dev: Path, labels: Path, output: Path) -> None:
    """Initialise and train into `output` (model-best, model-last); the log goes to the logger, not stdout."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_loop
    from spacy.util import load_config_from_str

    overrides = {"paths.train": str(train), "paths.dev": str(dev), "paths.labels": str(labels)}
    cfg = load_config_from_str(config, overrides=overrides)
    nlp = init_nlp(cfg, use_gpu=-1)
    out = io.StringIO()
    output.mkdir(parents=True, exist_ok=True)
    train_loop(nlp, output, use_gpu=-1, stdout=out, stderr=out)
    log.info("spaCy training log:\n%s", out.getvalue())


def _best_scores(model: Path) -> dict[str, Any]:
    """The dev scores spaCy stored with the best checkpoint (plain floats)."""
    performance = json.loads((model / "meta.json").read_text(encoding="utf-8")).get("performance", {})
    return {k: v for k, v in performance.items() if k.startswith(("ents", "spans"))}


def train_model(settings: Settings, gold_path: Path, options: TrainOptions | None = None,
                out_dir: Path | None = None, gold: GoldData | None = None,
                evaluate: Callable[[Path, GoldData], dict[str, Any]] | None = None) -> TrainResult:
    """Train on `gold_path` (export folder or gold JSONL), evaluate on its dev split, save models/<version>/.

    `evaluate(model_folder, gold)` returns keys added to meta.json: compare.evaluate_on_dev gives "scores" (trained
    vs rules vs combined), "sources" (each label's source, which `preannotate --model` honours), "source_choice"
    and "calibration".
    """
    options = options or TrainOptions()
    schema = load_schema(settings.guidelines_dir)
    parent = out_dir or models_dir(settings)
    parent.mkdir(parents=True, exist_ok=True)
    options.check()
    base = None
    if options.strategy in NEEDS_BASE:
        from ..preannotate import resolve_model

        base = resolve_model(options.base or settings.spacy_model)
    config = config_text(options, base)
    work = Path(tempfile.mkdtemp(prefix=".training-", dir=parent))
    try:
        gold = gold or load_gold(gold_path, work / "gold", settings.dev_ratio, settings.split_near_duplicate_threshold)
        _check_docs(gold)
        train_bin, train_docs = gold.train, list(gold.train_docs)
        if options.fraction < 1.0:
            train_docs = subsample(gold.train_docs, options.fraction)
            train_bin = write_subset(train_docs, work / "subset" / "train.spacy")
        version = model_version_for(gold, config, options)
        labels = write_labels(schema.label_names, work / "labels" / "labels.json", options.strategy)
        started = time.perf_counter()
        _fit(config, train_bin, gold.dev, labels, work / "out")
        seconds = round(time.perf_counter() - started, 1)
        staged = work / "staged"
        staged.mkdir()
        shutil.move(str(work / "out" / "model-best"), staged / MODEL_DIR)
        performance = _best_scores(staged / MODEL_DIR)
        created = time.gmtime()
        _stamp_pipeline(staged / MODEL_DIR, version, gold.source, schema.version, created)
        (staged / "config.cfg").write_text(config, encoding="utf-8")
        shutil.copy(labels, staged / "labels.json")
        meta = {
            "kind": KIND, "version": version, "labels": list(schema.label_names),
            "guidelines_version": schema.version, "gold": gold.source, "options": options.to_dict(),
            "seed": options.seed, "base": base, "train_seconds": seconds,
            "documents": {"train": len(train_docs), "dev": len(gold.dev_docs)},
            "spacy_scores": performance, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", created),
        }
        _write_meta(staged, meta)  # the evaluation loads the staged folder as a model, meta.json included
        if evaluate is not None:
            meta.update(evaluate(staged, gold))
            _write_meta(staged, meta)
        final = parent / version
        if final.exists():
            shutil.rmtree(final)  # same version = same inputs: the retrained copy replaces it
        os.rename(staged, final)
        return TrainResult(final, version, meta)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def package_version(version: str, created: time.struct_time) -> str:
    """A PEP 440 version for `spacy package`: the training date, with the model version as its local label
    ("ner-0123abcd4567" -> "2026.12.2+ner.0123abcd4567"; a hyphen would break the package's file name)."""
    return f"{created.tm_year}.{created.tm_mon}.{created.tm_mday}+{version.replace('-', '.')}"


def _stamp_pipeline(model: Path, version: str, gold: dict[str, Any], guidelines_version: str | None,
                    created: time.struct_time) -> None:
    """Write the provenance into the spaCy pipeline's own meta.json (nlp.meta), which `spacy package` copies:
    spaCy writes name "pipeline", version "0.0.0" there, and the package would not say what it was trained on."""
    path = model / "meta.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    gold_hash = str(gold.get("sha256") or "")
    meta.update({
        "name": PACKAGE_NAME, "version": package_version(version, created),
        "description": f"annotate NER model {version}, trained on gold sha256 {gold_hash[:16]} "
                       f"(guidelines version {guidelines_version})",
        "sources": [{"name": "annotate gold", "kind": str(gold.get("kind", "")), "sha256": gold_hash,
                     "guidelines_version": str(guidelines_version)}],
        "annotate": {"model_version": version, "gold_sha256": gold_hash, "guidelines_version": guidelines_version},
    })
    _write_meta_file(path, meta)


def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
    _write_meta_file(folder / META_FILE, meta)


def _write_meta_file(path: Path, meta: dict[str, Any]) -> None:
    with atomic_write(path) as handle:
        handle.write(json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n")




def learning_curve(settings: Settings, gold_path: Path, options: TrainOptions | None = None,
                   fractions: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0), out_dir: Path | None = None,
                   evaluate: Callable[[Path, GoldData], dict[str, Any]] | None = None) -> list[TrainResult]:
    """Train on growing shares of the training documents (same dev split); one saved model per share."""
    options = options or TrainOptions()
    for fraction in fractions:
        if not 0 < fraction <= 1:
            raise ConfigError(f"learning-curve fractions must be in (0, 1], got {fraction}")
    parent = out_dir or models_dir(settings)
    parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".curve-", dir=parent))
    try:
        gold = load_gold(gold_path, work / "gold", settings.dev_ratio, settings.split_near_duplicate_threshold)
        return [train_model(settings, gold_path, replace(options, fraction=f), parent, gold, evaluate)
                for f in fractions]
    finally:
        shutil.rmtree(work, ignore_errors=True)
