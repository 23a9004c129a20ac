"""Benchmark: the dashboard on a synthetic 100,000-task project (quick: 2,000), as a pull leaves it.

Set-up (this process): synthetic Label Studio rows go into the local task store, the raw archive is written from
it and the summary made, as `annotate pull` does. Then the dashboard runs in a process of its own, twice:
1. first start after the pull: the agreement report is not there yet; it is made in the dashboard's worker
   process (run_in_child) while the pages answer;
2. a restart: summary and report are on disk.
Each time: the first page's time from the process's start (Python, imports, app, login, page), every page's
median over repeated requests after a warm-up, a decision and the reload of its document, and the peak RSS of
the dashboard process (and, apart, of its worker). The baseline, in the same process, is the login page: a
trivial template through the same app, session and headers.
Goals (issue 15, at 100,000 tasks): first page after a restart < 2 s, every page < 50 ms, peak RSS < 500 MB.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from annotate.config import Settings
from annotate.files import atomic_write
from annotate.gold.summary import summarise
from annotate.labelstudio.archive import raw_dir
from annotate.labelstudio.store import FORMAT, open_store, parser_key, store_path
from annotate.schema import load_schema
from annotate.web.users import ensure_users

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["rebels", "seized", "the", "town", "of", "Idlib", "on", "Tuesday", "killing", "eleven", "soldiers", "near",
         "Aleppo", "said", "activists", "army", "forces", "withdrew", "from", "province", "after", "clashes"]
LABELS = ("ACTOR", "LOCATION", "OUTCOME")
N_WORDS, N_SPANS, ANNOTATORS = 150, 12, ("amal@example.org", "bilal@example.org", "chen@example.org")
LEAD = "lead@example.org"
GOALS = {"first_page_s": 2.0, "page_ms": 50.0, "peak_rss_mb": 500.0}
BATCH = 2000


def _region(text: str, start: int, end: int, label: str, rid: str) -> dict[str, Any]:
    return {"id": rid, "type": "labels", "from_name": "label", "to_name": "text",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def synthetic_export(n_tasks: int, seed: int = 0, first_id: int = 1, total: int | None = None
                     ) -> list[dict[str, Any]]:
    """Label Studio JSON rows (ids from `first_id`, of a project of `total` tasks): N_WORDS-word texts, a
    prediction, two of three annotators with noisy spans."""
    rng = np.random.default_rng(seed)
    rows = []
    n_tasks, total = first_id + n_tasks - 1, total or n_tasks
    for i in range(first_id, n_tasks + 1):
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
                 "created_at": f"2025-01-{1 + (i - 1) * 28 // total:02d}T10:00:00Z", "result": noisy(f"a{k}-")}
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


def _setup(root: Path, n_tasks: int) -> dict[str, Any]:
    """The project folder a pull of n_tasks leaves: task store, raw archive written from it, summary."""
    (root / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
    settings = Settings(root=root, leads=(LEAD,))
    schema = load_schema(settings.guidelines_dir)
    archive = raw_dir(settings) / "project-1-20250101T000000Z.json"
    archive.parent.mkdir(parents=True)
    timings = {}
    start = time.perf_counter()
    store = open_store(store_path(settings, 1))
    assert store is not None
    with store.transaction():
        for first in range(0, n_tasks, BATCH):  # rows a batch at a time: 100,000 at once would take gigabytes
            rows = synthetic_export(min(BATCH, n_tasks - first), seed=first, first_id=first + 1, total=n_tasks)
            store.upsert(rows, schema)
        store.set_meta(format=FORMAT, archive=archive.name, parser=parser_key(schema))
    with atomic_write(archive) as handle:
        store.write_archive(handle)
    timings["store_and_archive_s"] = time.perf_counter() - start
    start = time.perf_counter()
    tasks, quarantine = store.parsed(schema)
    store.db.close()
    summarise(settings, archive, tasks, schema, len(quarantine)).close()
    timings["summary_s"] = time.perf_counter() - start
    os.environ["BENCH_LEAD_PASSWORD"] = ensure_users(settings)[LEAD]  # for the dashboard processes, never printed
    return {"archive_mb": archive.stat().st_size / 2**20, **timings}


def _dashboard(root: Path, wait_report: bool, repeat: int) -> dict[str, Any]:
    """Run the dashboard in a process of its own on `root` (this module's `--child`); its figures."""
    start = time.time()
    done = subprocess.run([sys.executable, "-m", "bench.dashboard", "--child", str(root), str(int(wait_report)),
                           str(repeat), repr(start)], capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the dashboard process failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM; ru_maxrss would include the forking parent's size)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(root: Path, wait_report: bool, repeat: int, spawned: float) -> dict[str, Any]:
    """The dashboard process: first page, the report (made by its worker), every page, a decision."""
    from annotate.web import create_app

    settings = Settings(root=root, leads=(LEAD,))
    app = create_app(settings, {"SECRET_KEY": "bench"})
    app_s = time.time() - spawned
    client = app.test_client()
    token = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    login_start = time.time()
    client.post("/login", data={"email": LEAD, "password": os.environ["BENCH_LEAD_PASSWORD"], "csrf_token": token})
    login_s = time.time() - login_start
    first = client.get("/")
    figures: dict[str, Any] = {"first_page_s": time.time() - spawned, "app_s": app_s, "login_s": login_s,
                               "first_status": first.status_code,
                               "report_on_disk": 'id="computing"' not in client.get("/agreement").get_data(as_text=True)}
    store = app.extensions["annotate.data"]
    start = time.perf_counter()
    store.report(wait=True)
    figures["report_s"] = time.perf_counter() - start
    view = store.snapshot()
    ids = view.index.select()
    worst, n_pages = int(ids[0]), -(-len(ids) // 50)
    pages = {"overview": "/", "agreement": "/agreement", "model": "/model", "documents": "/documents/",
             "documents, last page": f"/documents/?page={n_pages}",
             "documents, label filter page 20": "/documents/?label=OUTCOME&page=20",
             "documents, annotator filter, open only": f"/documents/?annotator={ANNOTATORS[0]}&open=1",
             "document (worst)": f"/documents/{worst}", "document (middle)": f"/documents/{int(ids[len(ids) // 2])}",
             "exports": "/exports", "guidelines": "/guidelines"}
    for path in pages.values():
        client.get(path)  # warm-up: a listing's order is computed once per data version
    figures["baseline_ms"] = _median_ms(client, "/login", repeat * 3)
    figures["pages_ms"] = {name: _median_ms(client, path, repeat) for name, path in pages.items()}
    page = client.get(f"/documents/{worst}").get_data(as_text=True)
    span = page.split('data-span="')[1].split('"')[0].split("-") if 'data-span="' in page else None
    if span:
        start = time.perf_counter()
        client.post(f"/documents/{worst}/decide", data={"action": "accept", "start": span[0], "end": span[1],
                                                        "label": span[2], "csrf_token": token})
        client.get(f"/documents/{worst}")
        figures["decision_and_reload_ms"] = (time.perf_counter() - start) * 1000
    figures["peak_rss_mb"] = _peak_rss_mb()
    figures["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return figures


def run(quick: bool = False) -> dict[str, Any]:
    """Set up the pulled project, then run the dashboard on it twice (first start, restart); print and return."""
    n_tasks, repeat = (2_000, 5) if quick else (100_000, 7)
    root = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    try:
        figures: dict[str, Any] = {"tasks": n_tasks, **_setup(root, n_tasks)}
        print(f"[dashboard] {n_tasks} tasks stored, archived ({figures['archive_mb']:.0f} MB) and summarised "
              f"(as a pull does) in {figures['store_and_archive_s'] + figures['summary_s']:.0f} s", flush=True)
        figures["first_start"] = _dashboard(root, True, repeat)
        figures["restart"] = _dashboard(root, False, repeat)
    finally:
        os.environ.pop("BENCH_LEAD_PASSWORD", None)
        shutil.rmtree(root, ignore_errors=True)
    _print(figures)
    return figures


def _print(f: dict[str, Any]) -> None:
    print(f"dashboard: {f['tasks']} tasks ({f['archive_mb']:.0f} MB raw archive); set-up as a pull: store + archive "
          f"{f['store_and_archive_s']:.0f} s, summary {f['summary_s']:.0f} s")
    for phase, title in (("first_start", "first start after the pull (report made meanwhile by the worker)"),
                         ("restart", "restart (summary and report on disk)")):
        g = f[phase]
        print(f"  {title}:")
        print(f"    first page (overview) {g['first_page_s']:.2f} s from process start (Python, imports and app "
              f"{g['app_s']:.2f} s, login {g['login_s']:.2f} s), HTTP {g['first_status']}; agreement report "
              f"{'read from the summary' if g['report_on_disk'] else 'being computed'}, ready {g['report_s']:.1f} s "
              "later")
        print(f"    baseline (login page, trivial template): {g['baseline_ms']:.2f} ms")
        for name, ms in g["pages_ms"].items():
            print(f"    {name:40s} {ms:8.2f} ms  ({ms / g['baseline_ms']:.1f}x baseline)")
        if "decision_and_reload_ms" in g:
            print(f"    decision + reload of the document:       {g['decision_and_reload_ms']:8.2f} ms")
        print(f"    peak RSS: dashboard {g['peak_rss_mb']:.0f} MB; its worker processes (summary, report) "
              f"{g['worker_peak_rss_mb']:.0f} MB")
    restart = f["restart"]
    worst_page = max(max(f[p]["pages_ms"].values()) for p in ("first_start", "restart"))
    peak = max(f[p]["peak_rss_mb"] for p in ("first_start", "restart"))
    checks = [("first page after a restart", restart["first_page_s"], GOALS["first_page_s"], "s"),
              ("slowest page", worst_page, GOALS["page_ms"], "ms"),
              ("dashboard peak RSS", peak, GOALS["peak_rss_mb"], "MB")]
    for name, value, goal, unit in checks:
        print(f"  goal {name} < {goal:g} {unit}: {value:.2f} {unit} -> {'met' if value < goal else 'MISSED'}"
              f"{'' if f['tasks'] >= 100_000 else ' (quick run: the goals are for 100,000 tasks)'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_child(Path(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4]), float(sys.argv[5]))))
    else:
        run(quick="--quick" in sys.argv)
