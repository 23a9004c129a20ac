"""What a project held after our last push, kept locally and trusted only while the server still matches it.

Listing every task to find which articles are already there costs about a millisecond per task on the server
(its task serializer), which made re-pushing 1,000 unchanged articles take ~18% of the first push. The
manifest records, per article id, the task, its text hash and model versions, plus a fingerprint of the
project: task count, highest task id, and prediction counts per model version. Task ids only ever grow
(SQLite AUTOINCREMENT, PostgreSQL sequences), so any task added or deleted, by anyone, changes the count or
the highest id, and any prediction added or deleted changes the counts. A push reads the fingerprint (two
small requests); when it differs from the manifest's, the push lists every task as before. The manifest is
rewritten only when the server, after the push, holds exactly what the push expected; otherwise it is
removed, so the next push lists everything again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import atomic_write
from .client import Connection

VERSION = 1


@dataclass(frozen=True)
class Existing:
    task_id: int
    text_sha: str
    model_versions: frozenset[str]


@dataclass(frozen=True)
class Fingerprint:
    tasks: int
    max_task_id: int
    versions: tuple[tuple[str, int], ...]  # (model version, predictions), sorted

    def after(self, created: dict[int, str | None], added: list[str]) -> Fingerprint:
        """What the project should look like after creating `created` (task id -> its prediction's version, if
        any) and adding one prediction of each version in `added`."""
        counts = dict(self.versions)
        for version in [v for v in created.values() if v is not None] + added:
            counts[version] = counts.get(version, 0) + 1
        return Fingerprint(self.tasks + len(created), max([self.max_task_id, *created]),
                           tuple(sorted(counts.items())))


def fingerprint(conn: Connection, project_id: int) -> Fingerprint:
    """Task count, highest task id and prediction counts per model version, in two small requests."""
    newest = conn.call("read the newest task", conn.get_json, "api/tasks/",
                       {"project": project_id, "page_size": 1, "include": "id",
                        "query": json.dumps({"ordering": ["-tasks:id"]})})
    rows = newest.get("tasks") or []
    versions = conn.call("read model versions", conn.get_json, f"api/projects/{project_id}/model-versions/")
    counts = tuple(sorted((str(k), int(v)) for k, v in (versions or {}).items()))
    return Fingerprint(int(newest.get("total", 0)), int(rows[0]["id"]) if rows else 0, counts)


def load(path: Path | None, project_id: int, current: Fingerprint) -> dict[str, Existing] | None:
    """The manifest's tasks when it belongs to this project and the server still matches it; else None."""
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION or data.get("project") != project_id:
            return None
        fp = data["fingerprint"]
        stored = Fingerprint(int(fp["tasks"]), int(fp["max_task_id"]),
                             tuple((str(k), int(v)) for k, v in fp["versions"]))
        if stored != current:
            return None
        return {doc_id: Existing(int(t), str(sha), frozenset(vs)) for doc_id, (t, sha, vs) in data["tasks"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: list the tasks instead


def save(path: Path | None, project_id: int, fp: Fingerprint, tasks: dict[str, Existing]) -> None:
    if path is None:
        return
    data: dict[str, Any] = {
        "version": VERSION, "project": project_id,
        "fingerprint": {"tasks": fp.tasks, "max_task_id": fp.max_task_id, "versions": [list(v) for v in fp.versions]},
        "tasks": {doc_id: [e.task_id, e.text_sha, sorted(e.model_versions)] for doc_id, e in sorted(tasks.items())},
    }
    with atomic_write(path, private=True) as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))


def forget(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
