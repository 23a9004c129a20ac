"""The whole path on a real Label Studio: seeds -> pre-annotation -> push -> two annotators correct -> pull -> gold."""

from __future__ import annotations

import json

import pytest

from annotate import pipeline
from annotate.labelstudio.client import connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _user(conn, email: str) -> int:
    for user in conn.sdk.users.list():
        if user.email == email:
            return int(user.id)
    return int(conn.sdk.users.create(username=email.split("@")[0], email=email, password="pw-annotate-1").id)


def _span(text: str, phrase: str, label: str, span_id: str, after: int = 0) -> dict:
    start = text.index(phrase, after)
    return {"id": span_id, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}}


def test_seeds_to_gold_through_a_real_label_studio(live_server, project_root, seeds_dir):
    settings = live_server.settings(root=project_root, project_title="t-whole-path")
    docs, report = pipeline.preannotate_inputs(settings, [seeds_dir])
    assert len(docs) == 5 and not report.rejected
    assert all(doc.spans and doc.model_version for doc in docs)

    project, pushed = pipeline.push(settings, docs)
    assert pushed.created == 5

    conn = connect(settings)
    tasks = {t.data["doc_id"]: t for t in conn.sdk.tasks.list(project=project.id, fields="all")}
    assert set(tasks) == {d.id for d in docs}
    assert all(len(t.predictions) == 1 for t in tasks.values())
    first = next(d for d in docs if d.text.startswith("Jihadists on Friday withdrew from Saraqeb"))
    task = tasks[first.id]
    text = task.data["text"]
    assert text == first.text

    # Both annotators correct the article the same way: a boundary fix the model may not make
    # ("the Islamic State of Iraq and the Levant (ISIL)" -> the name alone) and hand-drawn spans.
    corrected = [
        _span(text, "Jihadists", "ACTOR", "s1"),
        _span(text, "withdrew", "OUTCOME", "s2"),
        _span(text, "Saraqeb", "LOCATION", "s3"),
        _span(text, "Islamic State of Iraq and the Levant", "ACTOR", "s4"),
        _span(text, "seized", "OUTCOME", "s5"),
        _span(text, "Jarabolos", "LOCATION", "s6"),
        {"from_id": "s1", "to_id": "s2", "type": "relation", "direction": "right", "labels": ["agent_of"]},
        {"from_id": "s2", "to_id": "s3", "type": "relation", "direction": "right", "labels": ["located_at"]},
    ]
    alice, bob = _user(conn, "alice@example.org"), _user(conn, "bob@example.org")
    prediction_id = task.predictions[0].id
    for who, seconds in ((alice, 95.0), (bob, 120.0)):
        conn.sdk.annotations.create(id=task.id, result=corrected, completed_by=who, lead_time=seconds,
                                    parent_prediction=prediction_id)
    # bob alone annotates a second article: it is gold as is, flagged single-annotated
    other = tasks[docs[1].id]
    conn.sdk.annotations.create(id=other.id, completed_by=bob,
                                result=[_span(other.data["text"], "ISIL", "ACTOR", "b1")])

    result = pipeline.pull(settings)
    assert result.stats.tasks == 5 and result.stats.annotations == 3 and not result.quarantine
    assert result.stats.path.parent == project_root / "exports" / "raw"
    lines = pipeline.write_gold(settings, result)
    assert "gold dataset" in lines[0]

    gold_file = project_root / "exports" / "gold" / "latest" / "gold.jsonl"
    rows = {row["id"]: row for row in map(json.loads, gold_file.read_text(encoding="utf-8").splitlines())}
    row = rows[first.id]
    assert row["text"] == first.text
    got = {(s["start"], s["end"], s["label"], s["text"]) for s in row["spans"]}
    want = {(c["value"]["start"], c["value"]["end"], c["value"]["labels"][0], c["value"]["text"])
            for c in corrected if c["type"] == "labels"}
    assert got == want
    assert all(row["text"][s["start"]:s["end"]] == s["text"] for s in row["spans"])
    assert sorted(row["annotators"]) == ["alice@example.org", "bob@example.org"]
    assert {(r["label"]) for r in row["relations"]} == {"agent_of", "located_at"}
    # the singly annotated article is gold as is, flagged single-annotated
    assert rows[docs[1].id]["single_annotated"] is True


def test_running_the_main_job_twice_changes_nothing(live_server, project_root):
    settings = live_server.settings(root=project_root, project_title="t-demo-twice")
    first = pipeline.run_demo(settings)
    second = pipeline.run_demo(settings)
    assert (first.push.created, second.push.created, second.push.skipped) == (5, 0, 5)
    assert second.push.predictions_added == 0 and second.project.id == first.project.id
    conn = connect(settings)
    assert [p.id for p in conn.sdk.projects.list() if p.title == "t-demo-twice"] == [first.project.id]
    tasks = list(conn.sdk.tasks.list(project=first.project.id, fields="all"))
    assert len(tasks) == 5 and [len(t.predictions) for t in tasks] == [1] * 5
