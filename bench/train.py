"""Benchmark: the trained model's cost with per-span scores, and the ML backend's /predict latency.

A small model is trained on the seed gold in the run (its training time is reported). Baselines measured in
the same run: the trained pipeline's plain `nlp.pipe` (greedy NER, no scores) for the scored predictions
(the greedy parse that keeps each step's valid-move scores, preannotate/nerscores.py), and calling the
pre-annotator directly for the backend's /predict (HTTP + JSON + offset conversion overhead).
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from annotate.config import load_settings
from annotate.labelstudio.labelconfig import build_label_config
from annotate.mlbackend import create_backend
from annotate.mlbackend.credentials import ensure_credentials
from annotate.preannotate import build_preannotator
from annotate.preannotate.trained import TrainedModel
from annotate.schema import load_schema
from annotate.training.train import TrainOptions, train_model

from .preannotate import make_articles

ROOT = Path(__file__).resolve().parent.parent


def _words(articles: list[Any]) -> int:
    return sum(len(a.text.split()) for a in articles)


def run(quick: bool = False) -> dict[str, Any]:
    """Train a small model, then time plain vs scored prediction and direct vs /predict."""
    count = 20 if quick else 100
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
        settings = load_settings({}, env={}, root=root)
        start = time.perf_counter()
        result = train_model(settings, ROOT / "guidelines" / "seed-gold.jsonl",
                             TrainOptions(max_steps=60 if quick else 300, patience=300, eval_frequency=30))
        train_seconds = time.perf_counter() - start
        model = TrainedModel(result.folder)
        articles = list(make_articles(count))
        words = _words(articles)
        list(model.nlp.pipe([a.text for a in articles[:4]]))  # warm-up
        start = time.perf_counter()
        list(model.nlp.pipe([a.text for a in articles], batch_size=32))
        greedy = time.perf_counter() - start
        start = time.perf_counter()
        spans = sum(len(d.spans) for d in model.documents(articles))
        scored = time.perf_counter() - start
        pre = build_preannotator(settings, str(result.folder), with_rules=False)  # what the backend serves
        app = create_backend(settings, result.folder, build=lambda _m: pre, train=lambda: None)
        client = app.test_client()
        tasks = [{"id": i, "data": {"text": a.text}} for i, a in enumerate(articles)]
        start = time.perf_counter()
        list(pre.annotate(articles))
        direct = time.perf_counter() - start
        login = ensure_credentials(settings)  # the backend requires basic auth, as Label Studio sends it
        auth = (login.user, login.password)
        project = "1.1700000000"  # every request names its project, which /setup made known (as Label Studio does)
        config = build_label_config(load_schema(settings.guidelines_dir))
        assert client.post("/setup", json={"project": project, "schema": config}, auth=auth).status_code == 200
        start = time.perf_counter()
        response = client.post("/predict", json={"tasks": tasks, "project": project}, auth=auth)
        served = time.perf_counter() - start
        assert response.status_code == 200 and len(response.get_json()["results"]) == count
    figures = {
        "articles": count, "words": words, "spans": spans, "train_steps": result.meta["options"]["max_steps"],
        "train_seconds": round(train_seconds, 1),
        "greedy_wps": round(words / greedy), "scored_wps": round(words / scored),
        "score_cost_ratio": round(scored / greedy, 2),
        "predict_direct_s": round(direct, 2), "predict_http_s": round(served, 2),
        "http_overhead_ratio": round(served / direct, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    for key, value in figures.items():
        print(f"  {key}: {value}")
    return figures


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
