"""The gold's Label Studio export (labelstudio.json) imported into a real Label Studio and pulled again gives the
same gold: spans, relations by span id, texts and article ids. This closes the loop with any other instance."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from annotate.export import export_gold
from annotate.pipeline import open_project, pull
from annotate.records import Annotation, Task, read_documents

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


def seed_tasks() -> list[Task]:
    """The hand-made seed gold as single-annotator tasks (spans and all 157 relations)."""
    tasks = []
    for number, doc in enumerate(read_documents(ROOT / "guidelines" / "seed-gold.jsonl"), 1):
        ann = Annotation(number, doc.id, "seed@gold", doc.spans, doc.relations, annotation_id=number)
        tasks.append(Task(number, doc.id, doc.text, doc.meta, (), (ann,)))
    return tasks


def project_root(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
    return path


def core(folder: Path) -> dict[str, tuple]:
    """What must survive the round trip, per article: text, metadata, spans (offsets, label, text) and relations by span id."""
    rows = [json.loads(line) for line in (folder / "gold.jsonl").read_text().splitlines()]
    return {r["id"]: (r["text"], r["meta"], sorted((s["id"], s["start"], s["end"], s["label"], s["text"]) for s in r["spans"]),
                      sorted((x["from_id"], x["to_id"], x["label"]) for x in r["relations"])) for r in rows}


def test_gold_imported_into_label_studio_and_pulled_again_is_the_same_gold(live_server, tmp_path):
    first = export_gold(seed_tasks(), live_server.settings(root=project_root(tmp_path / "a")), source="seed gold")
    imported = json.loads((first.folder / "labelstudio.json").read_text())
    assert len(imported) == 5
    assert sum(1 for t in imported for item in t["annotations"][0]["result"] if item["type"] == "relation") == 157

    settings = live_server.settings(root=project_root(tmp_path / "b"), project_title=f"round trip {uuid.uuid4().hex[:8]}")
    _, ref = open_project(settings)
    answer = httpx.post(f"{live_server.url}/api/projects/{ref.id}/import", json=imported, timeout=60,
                        headers={"Authorization": f"Token {live_server.token}"})
    assert answer.status_code == 201, answer.text
    result = pull(settings)
    assert not result.quarantine, [q.note() for q in result.quarantine]
    assert all(a.ground_truth for t in result.tasks for a in t.annotations)
    again = export_gold(result.tasks, settings, source="pulled")

    assert core(again.folder) == core(first.folder)
    statuses = {json.loads(line)["status"] for line in (again.folder / "gold.jsonl").read_text().splitlines()}
    assert statuses == {"ground_truth"}
