"""Benchmark: push and pull against a real Label Studio, each against a bare SDK call in the same run.

- push N articles (~3,000 characters, ~50 predicted spans each) with `push_documents` vs one bare
  `import_tasks` call of the identical payload (goal: ratio <= 1.3);
- re-push the unchanged N (goal: <= 10% of the first push);
- pull N tasks with two annotations each (paginated pull + parsing) vs a bare export snapshot of the same
  project (create, wait, download) (goal: ratio <= 1.5).
Peak memory is measured with tracemalloc in this (client) process, in the warm-up round only: tracemalloc
slows every allocation, which would inflate the timed client-side work (parsing a pull) but not the baseline.
"""

from __future__ import annotations

import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from annotate.labelstudio import server as ls_server
from annotate.labelstudio.client import Connection, connect
from annotate.labelstudio.convert import task_from_row
from annotate.labelstudio.labelconfig import build_label_config
from annotate.labelstudio.payloads import prediction_result, task_payload
from annotate.labelstudio.pull import pull_raw
from annotate.labelstudio.push import push_documents
from annotate.records import Document, Span
from annotate.schema import load_schema
from tests.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parent.parent
WORDS = ["rebels", "seized", "the", "town", "of", "Idlib", "on", "Tuesday", "killing", "eleven", "soldiers", "near",
         "Aleppo", "said", "activists", "army", "forces", "withdrew", "from", "province", "after", "clashes", "with",
         "militants", "in", "northern", "Syria", "government", "troops", "shelled", "village", "Observatory",
         "monitor", "captured", "besieged"]
LABELS = ("ACTOR", "LOCATION", "OUTCOME")


def synthetic_documents(n: int, chars: int = 3000, spans: int = 50, seed: int = 0) -> list[Document]:
    """Deterministic articles of about `chars` characters with about `spans` word spans each."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words, length = [], 0
        while length < chars:
            words.append(rng.choice(WORDS))
            length += len(words[-1]) + 1
        text = f"Article {i}. " + " ".join(words)
        starts, pos = [], len(f"Article {i}. ")
        for word in words:
            starts.append((pos, pos + len(word)))
            pos += len(word) + 1
        chosen = sorted(rng.sample(range(len(starts)), min(spans, len(starts))))
        doc_spans = tuple(Span(s, e, rng.choice(LABELS), text[s:e], round(rng.random(), 3), "bench")
                          for s, e in (starts[k] for k in chosen))
        docs.append(Document(f"bench-{seed}-{i}", text, doc_spans, {"title": f"bench {i}"}, "bench-v1"))
    return docs


def _measure(fn: Callable[[], Any], trace: bool = False) -> tuple[float, float, Any]:
    """Seconds, peak client MB (0.0 unless `trace`) and the value of `fn()`."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
    if trace:
        tracemalloc.stop()
    return seconds, peak, value


def _project(conn: Connection, title: str) -> int:
    config = build_label_config(load_schema(ROOT / "guidelines"))
    return int(conn.sdk.projects.create(title=title, label_config=config).id)


def _annotated_payload(docs: list[Document], users: list[int]) -> list[dict[str, Any]]:
    payload = []
    for doc in docs:
        task = task_payload(doc)
        task["annotations"] = [{"result": prediction_result(doc)[k::2] or prediction_result(doc),
                                "completed_by": user, "ground_truth": False} for k, user in enumerate(users)]
        payload.append(task)
    return payload


def _snapshot(conn: Connection, project_id: int) -> int:
    """Bare export snapshot with full predictions and annotators: create, wait, download."""
    export = conn.sdk.projects.exports.create(
        id=project_id, title="bench",
        serialization_options={"predictions": {"only_id": False}, "annotations__completed_by": {"only_id": False}})
    while (status := conn.sdk.projects.exports.get(id=project_id, export_pk=export.id).status) not in (
            "completed", "failed"):
        time.sleep(0.1)
    if status == "failed":
        raise RuntimeError("export snapshot failed")
    return sum(len(chunk) for chunk in conn.sdk.projects.exports.download(id=project_id, export_pk=export.id,
                                                                           export_type="JSON"))


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _pull_tasks(conn: Connection, project_id: int, dest: Path, schema: Any) -> list:
    """What `annotate pull` does before gold: paginated pull into the archive, each row parsed as it arrives."""
    tasks: list = []
    quarantine: list = []
    pull_raw(conn, project_id, dest, on_row=lambda row: tasks.append(task_from_row(row, schema, quarantine)))
    assert not quarantine
    return tasks


def _bench_size(conn: Connection, n: int, repeats: int, tmp: Path) -> dict[str, Any]:
    """Alternate ours and the bare baseline `repeats` times after a warm-up; report medians."""
    docs = synthetic_documents(n)
    schema = load_schema(ROOT / "guidelines")
    payload = [task_payload(d) for d in docs]
    push, bare, repush, push_mb, bare_mb = [], [], [], 0.0, 0.0
    for r in range(repeats + 1):  # round 0 warms the server up and is not counted
        bare_id, ours_id = _project(conn, f"bench bare {n} {r}"), _project(conn, f"bench push {n} {r}")
        bare_s, mb, _ = _measure(lambda p=bare_id: conn.sdk.projects.import_tasks(id=p, request=payload), not r)
        bare_mb = bare_mb or mb
        state = tmp / f"manifest-{ours_id}.json"  # as `annotate push` keeps it under .annotate/sync/
        push_s, mb, _ = _measure(lambda p=ours_id, s=state: push_documents(conn, p, docs, batch_size=250, state=s), not r)
        push_mb = push_mb or mb
        again_s, _, report = _measure(lambda p=ours_id, s=state: push_documents(conn, p, docs, batch_size=250, state=s))
        assert report.skipped == n and report.created == 0
        if r:
            push.append(push_s)
            bare.append(bare_s)
            repush.append(again_s)
    users = [int(conn.sdk.users.create(username=f"b{n}{k}", email=f"b{n}{k}@bench.local").id) for k in range(2)]
    pull_id = _project(conn, f"bench pull {n}")
    conn.sdk.projects.import_tasks(id=pull_id, request=_annotated_payload(docs, users))
    pull, snap, pull_mb, snap_mb = [], [], 0.0, 0.0
    for r in range(repeats + 1):
        snap_s, mb, _ = _measure(lambda: _snapshot(conn, pull_id), not r)
        snap_mb = snap_mb or mb
        pull_s, mb, pulled = _measure(lambda: _pull_tasks(conn, pull_id, tmp / f"pull-{n}.json", schema), not r)
        pull_mb = pull_mb or mb
        assert len(pulled) == n
        if r:
            pull.append(pull_s)
            snap.append(snap_s)
    m = {k: _median(v) for k, v in
         {"push_s": push, "bare_import_s": bare, "repush_s": repush, "pull_s": pull, "bare_snapshot_s": snap}.items()}
    return {**m, "push_ratio": m["push_s"] / m["bare_import_s"], "repush_share": m["repush_s"] / m["push_s"],
            "pull_ratio": m["pull_s"] / m["bare_snapshot_s"], "repeats": repeats,
            "peak_mb": {"push": push_mb, "bare_import": bare_mb, "pull": pull_mb, "snapshot": snap_mb}}


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, repeats: int = 3) -> dict[str, Any]:
    """Run the push/pull benchmarks against a throwaway server; print and return the figures."""
    sizes = sizes or ((200,) if quick else (1000,))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="annotate-bench-") as tmp:
        settings, _ = start_sandbox(Path(tmp), ROOT)
        try:
            conn = connect(settings)
            for n in sizes:
                res = results[n] = _bench_size(conn, n, 1 if n > 1000 else repeats, Path(tmp))
                mb = res["peak_mb"]
                print(f"[sync] {n} articles (median of {res['repeats']}): push {res['push_s']:.2f}s vs bare import "
                      f"{res['bare_import_s']:.2f}s (ratio {res['push_ratio']:.2f}, goal <= 1.3); re-push unchanged "
                      f"{res['repush_s']:.2f}s ({100 * res['repush_share']:.0f}% of first, goal <= 10%); pull "
                      f"{res['pull_s']:.2f}s vs bare snapshot {res['bare_snapshot_s']:.2f}s (ratio "
                      f"{res['pull_ratio']:.2f}, goal <= 1.5); client peak MB: push {mb['push']:.0f}, bare import "
                      f"{mb['bare_import']:.0f}, pull {mb['pull']:.0f}, snapshot {mb['snapshot']:.0f}")
        finally:
            ls_server.stop_server(settings)
    return results


if __name__ == "__main__":
    import sys

    big = "--large" in sys.argv
    run(quick="--quick" in sys.argv, sizes=(1000, 10000) if big else None)
