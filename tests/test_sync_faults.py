"""Push under real faults, against the real Label Studio: lost answers (through a fault-injecting proxy),
concurrent pushes, duplicates made by someone else. The end state is always one task per article and one
prediction per article and model version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from annotate import pipeline
from annotate.config import load_settings
from annotate.labelstudio.client import connect
from annotate.labelstudio.payloads import task_payload
from annotate.labelstudio.project import find_project
from annotate.records import Document, Span

pytestmark = pytest.mark.integration

TEXT = "ISIL fighters withdrew from Saraqeb on Friday, the Observatory said."
IMPORT = r"^/api/projects/\d+/import(\?|$)"
PREDICTIONS = r"^/api/projects/\d+/import/predictions"


def _docs(n: int, version: str = "v1", prefix: str = "a") -> list[Document]:
    return [Document(f"{prefix}{i}", f"{TEXT} ({prefix}{i})", (Span(0, 4, "ACTOR", "ISIL", 0.9),), {}, version)
            for i in range(n)]


def _settings(url: str, token: str, root: Path, title: str, **flags: object):
    return load_settings({"label_studio_url": url, "label_studio_api_key": token, "project_title": title,
                          **flags}, env={}, root=root)


def _state(live_server, title: str) -> tuple[Counter, Counter]:
    """Tasks per article id and predictions per (article id, model version), read straight from the server."""
    settings = _settings(live_server.url, live_server.token, live_server.root, title)
    conn = connect(settings)
    project_id = find_project(conn, settings)
    tasks, predictions = Counter(), Counter()
    for task in conn.sdk.tasks.list(project=project_id, fields="all"):
        tasks[task.data["doc_id"]] += 1
        for pred in task.predictions or []:
            version = pred["model_version"] if isinstance(pred, dict) else pred.model_version
            predictions[(task.data["doc_id"], version)] += 1
    return tasks, predictions


def _imports(proxy) -> int:
    return sum(1 for method, path in proxy.seen if method == "POST" and __import__("re").search(IMPORT, path))


@pytest.mark.parametrize("mode", ["after_commit", "while_working"])
def test_lost_import_answer_never_duplicates(live_server, fault_proxy, project_root, mode):
    title = f"lost-{mode}-{uuid.uuid4().hex[:6]}"
    settings = _settings(fault_proxy.url, live_server.token, project_root, title, batch_size=10)
    pipeline.open_project(settings)
    rule = fault_proxy.break_next("POST", IMPORT, mode)
    _, report = pipeline.push(settings, _docs(30))
    assert rule.fired == 1
    assert _imports(fault_proxy) == 3, "the batch whose answer was lost was sent again"
    assert report.created == 30 and report.recovered == 1 and not report.removed
    tasks, predictions = _state(live_server, title)
    assert tasks == Counter({f"a{i}": 1 for i in range(30)})
    assert predictions == Counter({(f"a{i}", "v1"): 1 for i in range(30)})
    # the report's task ids are the server's
    assert sorted(report.task_ids) == sorted(tasks)


@pytest.mark.parametrize("mode", ["after_commit", "while_working"])
def test_lost_prediction_answer_adds_each_prediction_once(live_server, fault_proxy, project_root, mode):
    title = f"lostpred-{mode}-{uuid.uuid4().hex[:6]}"
    settings = _settings(fault_proxy.url, live_server.token, project_root, title, batch_size=10)
    pipeline.push(settings, _docs(12))
    rule = fault_proxy.break_next("POST", PREDICTIONS, mode)
    _, report = pipeline.push(settings, _docs(12, "v2"))
    assert rule.fired == 1 and report.predictions_added == 12
    _, predictions = _state(live_server, title)
    assert predictions == Counter({(f"a{i}", v): 1 for i in range(12) for v in ("v1", "v2")})


def test_lost_project_creation_answer_creates_one_project(live_server, fault_proxy, project_root):
    title = f"lostproj-{uuid.uuid4().hex[:6]}"
    settings = _settings(fault_proxy.url, live_server.token, project_root, title)
    rule = fault_proxy.break_next("POST", r"^/api/projects/?(\?|$)", "after_commit")
    ref, _ = pipeline.push(settings, _docs(3))
    assert rule.fired == 1
    conn = connect(_settings(live_server.url, live_server.token, project_root, title))
    same = [p.id for p in conn.sdk.projects.list(title=title) if p.title == title]
    assert same == [ref.id]


def _push_process(root: Path, env: dict[str, str], jsonl: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "annotate", "--root", str(root), "push", "--preannotated",
                             str(jsonl)], env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_concurrent_pushes_give_one_project_and_one_task_per_article(live_server, project_root):
    """Two `annotate push` runs into a new project at once: the second waits for the first, then skips all."""
    title = f"concurrent-{uuid.uuid4().hex[:6]}"
    jsonl = project_root / "docs.jsonl"
    docs = _docs(300)
    jsonl.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in docs), encoding="utf-8")
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": title, "ANNOTATE_BATCH_SIZE": "50"}
    runs = [_push_process(project_root, env, jsonl) for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    summaries = sorted(line for out in outputs for line in out.splitlines() if "task(s) created" in line)
    assert [s.split(": ", 1)[1] for s in summaries] == [
        "0 task(s) created, 0 prediction(s) added to existing tasks, 300 unchanged task(s) skipped",
        "300 task(s) created, 0 prediction(s) added to existing tasks, 0 unchanged task(s) skipped"]
    conn = connect(_settings(live_server.url, live_server.token, project_root, title))
    assert len([p for p in conn.sdk.projects.list(title=title) if p.title == title]) == 1
    tasks, predictions = _state(live_server, title)
    assert set(tasks.values()) == {1} and len(tasks) == 300
    assert set(predictions.values()) == {1} and len(predictions) == 300


def test_duplicates_made_elsewhere_are_reported_and_deduped_keeping_annotated(live_server, project_root):
    title = f"dupes-{uuid.uuid4().hex[:6]}"
    settings = _settings(live_server.url, live_server.token, project_root, title)
    docs = _docs(4)
    ref, _ = pipeline.push(settings, docs)
    conn = connect(settings)
    # someone imports a0 twice more and a1 once more by hand; a0's newest copy gets annotated
    extra = conn.sdk.projects.import_tasks(id=ref.id, request=[task_payload(docs[0]), task_payload(docs[0]),
                                                               task_payload(docs[1])], return_task_ids=True).task_ids
    annotated = extra[1]
    conn.sdk.annotations.create(id=annotated, completed_by=1, result=[
        {"from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 4, "text": "ISIL", "labels": ["ACTOR"]}}])
    _, report = pipeline.push(settings, docs)
    first = {t.data["doc_id"]: t.id for t in conn.sdk.tasks.list(project=ref.id) if t.id not in extra}
    assert report.duplicates == {"a0": tuple(sorted([first["a0"], extra[0], annotated])),
                                 "a1": tuple(sorted([first["a1"], extra[2]]))}
    assert any(str(annotated) in line for line in report.duplicate_lines())
    assert _state(live_server, title)[0]["a0"] == 3, "a plain push never deletes anything"
    _, deduped = pipeline.push(settings, docs, dedupe=True)
    assert sorted(deduped.removed) == sorted([first["a0"], extra[0], extra[2]])
    remaining = {t.id for t in conn.sdk.tasks.list(project=ref.id)}
    assert annotated in remaining and len(remaining) == 4
    _, again = pipeline.push(settings, docs)
    assert not again.duplicates and again.skipped == 4


def test_annotated_duplicates_are_never_deleted(live_server, project_root):
    title = f"dupes-ann-{uuid.uuid4().hex[:6]}"
    settings = _settings(live_server.url, live_server.token, project_root, title)
    docs = _docs(1)
    ref, first = pipeline.push(settings, docs)
    conn = connect(settings)
    [copy] = conn.sdk.projects.import_tasks(id=ref.id, request=[task_payload(docs[0])], return_task_ids=True).task_ids
    for task_id in (first.task_ids["a0"], copy):
        conn.sdk.annotations.create(id=task_id, completed_by=1, result=[])
    _, report = pipeline.push(settings, docs, dedupe=True)
    assert report.removed == [] and report.kept_annotated == {"a0": tuple(sorted([first.task_ids["a0"], copy]))}
    assert "merge them by hand" in "\n".join(report.duplicate_lines())
    assert _state(live_server, title)[0]["a0"] == 2


def test_push_goes_on_past_an_unreadable_input(live_server, project_root):
    """An unreadable file named on the command line is one line; the readable ones are still pushed."""
    from test_ingest_inputs import run_unprivileged

    title = f"unreadable-{uuid.uuid4().hex[:6]}"
    (project_root / "annotate.toml").write_text(
        f'label_studio_url = "{live_server.url}"\nlabel_studio_api_key = "{live_server.token}"\n'
        f'project_title = "{title}"\n', encoding="utf-8")
    good, closed = project_root / "good.txt", project_root / "closed.txt"
    good.write_text(TEXT + "\n", encoding="utf-8")
    closed.write_text("Another story about Kidal.\n", encoding="utf-8")
    closed.chmod(0)
    try:
        result = run_unprivileged(project_root, "push", "good.txt", "closed.txt", "missing.txt", stand_in=True)
    finally:
        closed.chmod(0o644)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "closed.txt: cannot read: Permission denied" in result.stderr
    assert "missing.txt: no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr and "1 task(s) created" in result.stdout
    tasks, _ = _state(live_server, title)
    assert len(tasks) == 1
