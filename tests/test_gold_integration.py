"""Gold from a real Label Studio pull, through the real commands: ground truth, a three-annotator majority,
an open disagreement settled in the decision log, a single annotation beside a cancelled one, and relations
becoming an events row."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotate import pipeline
from annotate.cli import main
from annotate.labelstudio.client import connect
from annotate.labelstudio.project import find_project
from annotate.records import Document

pytestmark = pytest.mark.integration

LEAD = "lead@example.org"
TEXTS = {
    "g-majority": "ISIL fighters withdrew from Saraqeb on Friday, the Observatory said.",
    "g-truth": "Government forces shelled Douma overnight, killing 11 people.",
    "g-single": "Rebels seized the town of Kafr Nabl after heavy clashes.",
}


def _label(text: str, phrase: str, label: str, span_id: str) -> dict:
    start = text.index(phrase)
    return {"id": span_id, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]}}


def _relation(a: str, b: str, label: str) -> dict:
    return {"from_id": a, "to_id": b, "type": "relation", "direction": "right", "labels": [label]}


def _user(conn, email: str) -> int:
    for user in conn.sdk.users.list():
        if user.email == email:
            return int(user.id)
    return int(conn.sdk.users.create(username=email.split("@")[0], email=email, password="pw-annotate-1").id)


def _run(root: Path, env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, ["--root", str(root), *args], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_gold_from_a_real_pull_with_every_adjudication_path(live_server, project_root):
    (project_root / "annotate.toml").write_text(f'leads = ["{LEAD}"]\n', encoding="utf-8")
    env = {"LABEL_STUDIO_URL": live_server.url, "LABEL_STUDIO_API_KEY": live_server.token,
           "ANNOTATE_PROJECT_TITLE": "t-gold-real"}
    settings = live_server.settings(root=project_root, project_title="t-gold-real")
    pipeline.push(settings, [Document(doc_id, text, (), {"title": doc_id}) for doc_id, text in TEXTS.items()])
    conn = connect(settings)
    project_id = find_project(conn, settings)
    tasks = {t.data["doc_id"]: t.id for t in conn.sdk.tasks.list(project=project_id)}
    alice, bob, carol = (_user(conn, f"{n}@example.org") for n in ("alice", "bob", "carol"))

    # majority: alice and bob agree; carol marks "ISIL" instead of "ISIL fighters" (an open disagreement)
    text = TEXTS["g-majority"]
    agreed = [_label(text, "ISIL fighters", "ACTOR", "a"), _label(text, "withdrew", "OUTCOME", "o"),
              _label(text, "Saraqeb", "LOCATION", "l"), _relation("a", "o", "agent_of"), _relation("o", "l", "located_at")]
    for who in (alice, bob):
        conn.sdk.annotations.create(id=tasks["g-majority"], result=agreed, completed_by=who, lead_time=40.0)
    conn.sdk.annotations.create(id=tasks["g-majority"], completed_by=carol, lead_time=55.0,
                                result=[_label(text, "ISIL", "ACTOR", "a"), *agreed[1:3]])
    # ground truth: bob's annotation is flagged ground truth and wins over alice's different one
    text = TEXTS["g-truth"]
    conn.sdk.annotations.create(id=tasks["g-truth"], completed_by=alice,
                                result=[_label(text, "Government", "ACTOR", "x")])
    truth = [_label(text, "Government forces", "ACTOR", "x"), _label(text, "Douma", "LOCATION", "y"),
             _label(text, "killing 11 people", "OUTCOME", "z")]
    conn.sdk.annotations.create(id=tasks["g-truth"], completed_by=bob, result=truth, ground_truth=True)
    # single: alice annotates, bob skips (cancelled): gold as is, flagged single-annotated
    text = TEXTS["g-single"]
    conn.sdk.annotations.create(id=tasks["g-single"], completed_by=alice,
                                result=[_label(text, "Rebels", "ACTOR", "r"), _label(text, "Kafr Nabl", "LOCATION", "k")])
    conn.sdk.annotations.create(id=tasks["g-single"], completed_by=bob, result=[], was_cancelled=True)

    _run(project_root, env, "pull")
    listed = [json.loads(line) for line in _run(project_root, env, "disagreements", "--json").splitlines()]
    assert [(d["task_id"], d["text"], d["support"]) for d in listed] == [(tasks["g-majority"], "ISIL",
                                                                          ["carol@example.org"])]
    gold_dir = project_root / "exports" / "gold" / "latest"
    rows = {r["id"]: r for r in map(json.loads, (gold_dir / "gold.jsonl").read_text(encoding="utf-8").splitlines())}
    spans = {k: {(s["text"], s["label"]) for s in r["spans"]} for k, r in rows.items()}
    assert spans["g-majority"] == {("ISIL fighters", "ACTOR"), ("withdrew", "OUTCOME"), ("Saraqeb", "LOCATION")}
    assert rows["g-majority"]["status"] == "majority" and rows["g-majority"]["open_disagreements"] == 1
    assert spans["g-truth"] == {("Government forces", "ACTOR"), ("Douma", "LOCATION"), ("killing 11 people", "OUTCOME")}
    assert rows["g-truth"]["status"] == "ground_truth"
    assert spans["g-single"] == {("Rebels", "ACTOR"), ("Kafr Nabl", "LOCATION")}
    assert rows["g-single"]["single_annotated"] is True and rows["g-single"]["annotators"] == ["alice@example.org"]
    with (gold_dir / "events.csv").open(encoding="utf-8", newline="") as handle:
        [event] = [e for e in csv.DictReader(handle) if e["article_id"] == "g-majority"]  # one row per OUTCOME
    assert (event["article_id"], event["outcome"], event["agent_of"], event["located_at"]) == (
        "g-majority", "withdrew", "ISIL fighters", "Saraqeb")

    # the lead rejects carol's span: the decision is logged, the gold has no open disagreement left
    start = TEXTS["g-majority"].index("ISIL")
    _run(project_root, env, "decide", "--task", str(tasks["g-majority"]), "--start", str(start), "--end",
         str(start + 4), "--label", "ACTOR", "--reject", "--note", "the group, not its name alone")
    [logged] = [json.loads(line) for line in (project_root / "exports" / "decisions.jsonl").read_text().splitlines()]
    assert logged["by"] == LEAD and logged["action"] == "reject"
    _run(project_root, env, "export")
    assert "0 open disagreement(s)" in _run(project_root, env, "disagreements")
    rows = {r["id"]: r for r in map(json.loads, (gold_dir / "gold.jsonl").read_text(encoding="utf-8").splitlines())}
    assert rows["g-majority"]["open_disagreements"] == 0 and rows["g-majority"]["status"] == "adjudicated"
    assert {(s["text"], s["label"]) for s in rows["g-majority"]["spans"]} == spans["g-majority"]
