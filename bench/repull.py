"""Benchmark: re-pull of a project in which 1% of the tasks changed, incremental against full, in the same run.

A throwaway embedded Label Studio gets N tasks (bench.sync's synthetic articles: ~3,000 characters, 50 predicted
spans, two annotations each). Then, three rounds: change 1% of the tasks (annotations created, edited and deleted,
tasks deleted), pull incrementally (`pipeline.pull`, what `annotate pull --archive-only` does), and pull in full
(`full=True`) as the baseline. Each incremental archive must be byte-identical to the full pull made right after it
(nothing changes in between), and the tasks parsed from both must be equal: the gold is a function of them.
Goal: incremental <= 5% of the full pull's time (N = 20,000; --quick: 2,000).
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

from annotate.config import Settings
from annotate.labelstudio import server as ls_server
from annotate.labelstudio.client import Connection, connect
from annotate.labelstudio.convert import read_export, tasks_from_export
from annotate.pipeline import pull
from annotate.schema import load_schema
from bench.sync import _annotated_payload, _project, synthetic_documents
from tests.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
IMPORT_BATCH = 1000
GOAL = 0.05


def _fill(conn: Connection, settings: Settings, n: int) -> tuple[int, list[int]]:
    users = [int(conn.sdk.users.create(username=f"r{k}", email=f"r{k}@bench.local").id) for k in range(2)]
    project_id = _project(conn, settings.project_title)
    docs = synthetic_documents(n)
    for start in range(0, n, IMPORT_BATCH):  # payloads a batch at a time: 20,000 at once would take gigabytes
        conn.sdk.projects.import_tasks(id=project_id, request=_annotated_payload(docs[start:start + IMPORT_BATCH], users))
    return project_id, users


def _change(conn: Connection, project_id: int, share: float, rng: random.Random, user: int) -> int:
    """Change `share` of the tasks: 60% get a new annotation, 25% an edited one, 10% lose one, 5% are deleted."""
    ids = [int(r["id"]) for r in conn.get_json("api/tasks/", {"project": project_id, "page_size": 100000,
                                                              "include": "id"})["tasks"]]
    chosen = rng.sample(ids, max(1, round(len(ids) * share)))
    for k, task_id in enumerate(chosen):
        kind = k % 20
        if kind < 12:
            conn.sdk.annotations.create(id=task_id, completed_by=user, result=[])
        elif kind < 19:
            annotations = conn.get_json(f"api/tasks/{task_id}/annotations/", {}) or [None]
            if annotations[0] is None:
                conn.sdk.annotations.create(id=task_id, completed_by=user, result=[])
            elif kind < 17:
                conn.sdk.annotations.update(id=annotations[0]["id"], result=annotations[0]["result"][:-1])
            else:
                conn.sdk.annotations.delete(id=annotations[-1]["id"])
        else:
            conn.sdk.tasks.delete(id=task_id)
    return len(chosen)


def _timed(settings: Settings, full: bool) -> tuple[float, Any]:
    start = time.perf_counter()
    result = pull(settings, full=full, load_tasks=False)
    return time.perf_counter() - start, result


def run(quick: bool = False, n: int | None = None, rounds: int = 3) -> dict[str, Any]:
    """Fill a throwaway server, then time incremental and full re-pulls after 1% changes; print and return."""
    n = n or (2000 if quick else 20000)
    rng = random.Random(15)
    with tempfile.TemporaryDirectory(prefix="annotate-bench-") as tmp:
        (Path(tmp) / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
        settings, _ = start_sandbox(Path(tmp), ROOT)
        try:
            conn = connect(settings)
            start = time.perf_counter()
            project_id, users = _fill(conn, settings, n)
            print(f"[repull] {n} tasks imported in {time.perf_counter() - start:.0f}s", flush=True)
            first, _ = _timed(settings, full=False)  # fills the store
            schema = load_schema(settings.guidelines_dir)
            inc, full, loaded, changed = [], [], [], 0
            for _ in range(rounds):
                changed = _change(conn, project_id, 0.01, rng, users[0])
                inc_s, ours = _timed(settings, full=False)
                assert ours.stats.fetched is not None, ours.stats.how()
                start = time.perf_counter()
                tasks = pull(settings, full=False, load_tasks=True).tasks  # nothing changed: the store's parse
                loaded.append(time.perf_counter() - start)
                full_s, theirs = _timed(settings, full=True)
                assert theirs.stats.path.read_bytes() == ours.stats.path.read_bytes(), "archives differ"
                assert tasks == tasks_from_export(read_export(theirs.stats.path), schema)[0], "tasks differ"
                inc.append(inc_s)
                full.append(full_s)
        finally:
            ls_server.stop_server(settings)
    med = {k: sorted(v)[len(v) // 2] for k, v in {"incremental_s": inc, "full_s": full, "load_s": loaded}.items()}
    share = med["incremental_s"] / med["full_s"]
    print(f"[repull] {n} tasks, {changed} changed (1%), median of {rounds}: incremental pull {med['incremental_s']:.2f}s "
          f"vs full pull {med['full_s']:.2f}s = {100 * share:.1f}% (goal <= {100 * GOAL:.0f}%: "
          f"{'met' if share <= GOAL else 'MISSED'}); archives byte-identical, tasks equal; first pull (fills the "
          f"store) {first:.1f}s; loading the {n} parsed tasks from the store {med['load_s']:.2f}s")
    return {"tasks": n, "changed": changed, **med, "share": share, "goal_met": share <= GOAL, "first_pull_s": first}
