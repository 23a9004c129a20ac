"""Benchmark: the embedded Label Studio on PostgreSQL (private cluster) beside SQLite, in the same run.

For each database, on a throwaway server of its own:
- push and pull against the bare Label Studio calls, exactly as bench/sync.py measures them (goals: push ratio
  <= 1.3, pull ratio <= 1.5, the same bounds as on SQLite), and the bare paginated task listing the pull is built
  on (iter_task_rows alone: no drafts, no archive, no parsing), to tell the listing API's cost from the pull's;
- ten annotators submitting at once: ten real accounts (invite sign-up, login, each with their own API token), ten
  threads released together, each taking tasks from the "Label All Tasks" stream (`/next`) and submitting one
  annotation per task (goal: no error). Reported: submissions, errors, wall time, request latency (p50/p95/max)
  and tasks handed to more annotators than the project's maximum (1 here); annotations stored (as listed) against
  the tasks' own total_annotations counters.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from annotate.labelstudio import server as ls_server
from annotate.labelstudio.client import Connection, connect
from annotate.labelstudio.payloads import task_payload
from annotate.labelstudio.pull import iter_task_rows
from bench.sync import ROOT, _bench_size, _median, _project, synthetic_documents
from tests.annotator_load import make_annotators, submit_concurrently
from tests.sandbox import open_folder, start_sandbox

DATABASES = ("sqlite", "postgresql")
ANNOTATORS = 10


def _listing(conn: Connection, n: int, repeats: int) -> float:
    """Seconds (median) of the bare paginated task listing the pull is made of, on bench.sync's pull project: how
    much of the pull's ratio is the listing API itself (server side) rather than the pull's own work."""
    project_id = next(int(p.id) for p in conn.sdk.projects.list() if p.title == f"bench pull {n}")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        count = sum(1 for _ in iter_task_rows(conn, project_id))
        times.append(time.perf_counter() - started)
        assert count == n
    return _median(times)


def _concurrency(conn: Connection, url: str, tasks_each: int) -> dict[str, Any]:
    """Ten annotators at once on a fresh project of ANNOTATORS * tasks_each tasks (one annotation wanted each)."""
    project_id = _project(conn, "bench ten annotators")
    docs = synthetic_documents(ANNOTATORS * tasks_each, seed=7)
    conn.sdk.projects.import_tasks(id=project_id, request=[task_payload(d) for d in docs])
    started = time.perf_counter()
    annotators = make_annotators(conn, ANNOTATORS, "bench-ten-")
    accounts_s = time.perf_counter() - started
    result = submit_concurrently(url, project_id, annotators, tasks_each)
    rows = list(iter_task_rows(conn, project_id))
    stored = sum(len(row.get("annotations", [])) for row in rows)
    counted = sum(int(row.get("total_annotations") or 0) for row in rows)  # the task's own counter, which /next reads
    return {"annotators": ANNOTATORS, "submitted": result.submitted, "stored": stored, "counted": counted,
            "errors": result.errors,
            "seconds": result.seconds, "accounts_s": accounts_s,
            "submissions_per_s": result.submitted / result.seconds if result.seconds else 0.0,
            "p50_s": result.percentile(0.5), "p95_s": result.percentile(0.95),
            "max_s": max(result.latencies, default=0.0),
            "over_maximum": sum(count - 1 for count in result.tasks.values() if count > 1)}


def _run_on(database: str, n: int, repeats: int, tasks_each: int) -> dict[str, Any]:
    outside = open_folder(f"annotate-bench-{database}-")  # a private cluster runs as `postgres` under root
    try:
        settings, info = start_sandbox(outside / "project", ROOT, database=database)
        try:
            conn = connect(settings)
            sync = _bench_size(conn, n, repeats, outside)
            sync["bare_listing_s"] = _listing(conn, n, repeats)
            return {"sync": sync, "concurrency": _concurrency(conn, info.url, tasks_each)}
        finally:
            ls_server.stop_server(settings)
    finally:
        shutil.rmtree(outside)


def _print(database: str, n: int, res: dict[str, Any]) -> None:
    s, c = res["sync"], res["concurrency"]
    push_ok, pull_ok = s["push_ratio"] <= 1.3, s["pull_ratio"] <= 1.5
    print(f"[postgres] {database}: {n} articles (median of {s['repeats']}): push {s['push_s']:.2f}s vs bare import "
          f"{s['bare_import_s']:.2f}s (ratio {s['push_ratio']:.2f}, goal <= 1.3: {'met' if push_ok else 'MISSED'}); "
          f"pull {s['pull_s']:.2f}s vs bare snapshot {s['bare_snapshot_s']:.2f}s (ratio {s['pull_ratio']:.2f}, goal "
          f"<= 1.5: {'met' if pull_ok else 'MISSED'}); re-push {100 * s['repush_share']:.0f}% of first; the bare paginated "
          f"listing alone {s['bare_listing_s']:.2f}s ({s['bare_listing_s'] / s['bare_snapshot_s']:.2f} of the snapshot)")
    print(f"[postgres] {database}: {c['annotators']} annotators at once: {c['submitted']} submitted, {c['stored']} "
          f"stored (tasks' total_annotations say {c['counted']}), {len(c['errors'])} errors in {c['seconds']:.1f}s ({c['submissions_per_s']:.1f}/s); request "
          f"p50 {c['p50_s']:.2f}s, p95 {c['p95_s']:.2f}s, max {c['max_s']:.2f}s; {c['over_maximum']} submissions to "
          f"tasks already at their maximum of annotators (goal: no error: "
          f"{'met' if not c['errors'] else 'MISSED'})")
    for error in c["errors"][:5]:
        print(f"[postgres] {database}:   {error}")


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, repeats: int = 3) -> dict[str, Any]:
    """Both databases, one after the other in this run; print and return the figures."""
    n = (sizes or ((200,) if quick else (1000,)))[0]
    tasks_each = 5 if quick else 20
    results: dict[str, Any] = {}
    for database in DATABASES:
        results[database] = _run_on(database, n, repeats, tasks_each)
        _print(database, n, results[database])
    return results


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
