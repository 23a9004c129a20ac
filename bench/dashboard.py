"""Benchmark: dashboard pages on a synthetic 10,000-task Label Studio export (quick: 1,000 tasks).

Each page is fetched through the Flask test client after a warm-up (which parses the archive and computes
the agreement report and the gold once), then timed as the median of repeated requests. The baseline, in
the same run, is the login page: a trivial template through the same app, session and headers.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from annotate.config import Settings
from annotate.web import create_app
from annotate.web.users import ensure_users

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["rebels", "seized", "the", "town", "of", "Idlib", "on", "Tuesday", "killing", "eleven", "soldiers", "near",
         "Aleppo", "said", "activists", "army", "forces", "withdrew", "from", "province", "after", "clashes"]
LABELS = ("ACTOR", "LOCATION", "OUTCOME")
N_WORDS, N_SPANS, ANNOTATORS = 150, 12, ("amal@example.org", "bilal@example.org", "chen@example.org")
LEAD = "lead@example.org"


def _region(text: str, start: int, end: int, label: str, rid: str) -> dict[str, Any]:
    return {"id": rid, "type": "labels", "from_name": "label", "to_name": "text",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def synthetic_export(n_tasks: int, seed: int = 0) -> list[dict[str, Any]]:
    """Label Studio JSON rows: N_WORDS-word texts, a prediction, two of three annotators with noisy spans."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(1, n_tasks + 1):
        words = rng.choice(WORDS, N_WORDS)
        starts = np.cumsum([len(w) + 1 for w in words]) - [len(w) + 1 for w in words]
        text = " ".join(words)
        slots = np.sort(rng.choice(np.arange(0, N_WORDS - 2, 3), N_SPANS, replace=False))
        truth = [(int(starts[s]), int(starts[s] + len(words[s])), str(rng.choice(LABELS))) for s in slots]

        def noisy(tag: str, truth=truth, text=text) -> list[dict[str, Any]]:
            kept = [t for t in truth if rng.random() > 0.08]
            return [_region(text, s, e, lab if rng.random() > 0.05 else str(rng.choice(LABELS)), f"{tag}{k}")
                    for k, (s, e, lab) in enumerate(kept)]
        pair = rng.choice(len(ANNOTATORS), 2, replace=False)
        anns = [{"id": i * 10 + int(k), "completed_by": {"id": int(k) + 1, "email": ANNOTATORS[k]},
                 "lead_time": float(rng.gamma(4, 15)), "was_cancelled": False, "parent_prediction": i,
                 "created_at": f"2025-01-{1 + i * 28 // n_tasks:02d}T10:00:00Z", "result": noisy(f"a{k}-")}
                for k in pair]
        rows.append({"id": i, "data": {"text": text, "doc_id": f"art-{i}"}, "annotations": anns,
                     "predictions": [{"id": i, "model_version": "m1", "result": noisy("p")}]})
    return rows


def _median_ms(client: Any, path: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return statistics.median(times) * 1000


def run(quick: bool = False) -> dict[str, Any]:
    """Time every page on a warm cache against the login page; print and return the figures."""
    n_tasks, repeat = (1_000, 5) if quick else (10_000, 7)
    root = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        (root / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
        archive = root / "exports" / "raw" / "project-1-20250101T000000Z.json"
        archive.parent.mkdir(parents=True)
        archive.write_text(json.dumps(synthetic_export(n_tasks)), encoding="utf-8")
        settings = Settings(root=root, leads=(LEAD,))
        password = ensure_users(settings)[LEAD]
        app = create_app(settings, {"SECRET_KEY": "bench"})
        client = app.test_client()
        client.get("/login")
        token = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/login", data={"email": LEAD, "password": password, "csrf_token": token})
        store = app.extensions["annotate.data"]
        start = time.perf_counter()
        first = client.get("/")  # answers at once (503 "loading", reloads itself) while the archive is read
        first_ms = (time.perf_counter() - start) * 1000
        store.warm()  # wait for: archive parsed, gold built; the report then starts in the background
        load_s = time.perf_counter() - start
        store.report(wait=True)
        warm_s = time.perf_counter() - start
        worst = store.rows() and min(store.rows(), key=lambda r: (r.exact_f1 is None, r.exact_f1 or 0)).task_id
        pages = {"overview": "/", "agreement": "/agreement", "model": "/model", "documents": "/documents/",
                 "documents (label filter, page 20)": "/documents/?label=OUTCOME&page=20",
                 "document (worst)": f"/documents/{worst}", "exports": "/exports", "guidelines": "/guidelines"}
        base_ms = _median_ms(client, "/login", repeat * 3)
        figures: dict[str, Any] = {"tasks": n_tasks, "first_response_ms": round(first_ms, 2),
                                   "first_status": first.status_code, "load_seconds": round(load_s, 2),
                                   "warmup_seconds": round(warm_s, 2), "baseline_ms": round(base_ms, 2),
                                   "bootstrap": app.config["REPORT_BOOTSTRAP"], "pages_ms": {}}
        for name, path in pages.items():
            figures["pages_ms"][name] = round(_median_ms(client, path, repeat), 2)
        # A decision: the log changes, so the next page redoes the gold of that one task only.
        page = client.get(f"/documents/{worst}").get_data(as_text=True)
        span = page.split('data-span="')[1].split('"')[0].split("-") if 'data-span="' in page else None
        if span:
            start = time.perf_counter()
            client.post(f"/documents/{worst}/decide", data={"action": "accept", "start": span[0], "end": span[1],
                                                            "label": span[2], "csrf_token": token})
            client.get(f"/documents/{worst}")
            figures["decision_and_reload_ms"] = round((time.perf_counter() - start) * 1000, 2)
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        figures["archive_mb"] = round(archive.stat().st_size / 2**20, 1)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    _print(figures)
    return figures


def _print(f: dict[str, Any]) -> None:
    print(f"dashboard: {f['tasks']} tasks ({f['archive_mb']} MB export), peak RSS {f['peak_rss_mb']} MB")
    print(f"  first request after a pull: HTTP {f['first_status']} 'loading' page in {f['first_response_ms']} ms; "
          f"data read + gold built after {f['load_seconds']} s (background); agreement report "
          f"({f['bootstrap']} bootstrap replicates, background) ready after {f['warmup_seconds']} s")
    print(f"  baseline (login page, trivial template): {f['baseline_ms']} ms")
    for name, ms in f["pages_ms"].items():
        print(f"  {name:36s} {ms:8.2f} ms  ({ms / f['baseline_ms']:.1f}x baseline)")
    if "decision_and_reload_ms" in f:
        print(f"  decision + reload of the document:   {f['decision_and_reload_ms']:8.2f} ms")


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
