"""The dashboard and relations: each version's relations in words, settling a relation disagreement, agreement."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_fixtures import APP_CONFIG, LEAD, _ann, _region, login, make_project, page_token

from annotate.web import create_app
from annotate.web.users import ensure_users

TEXT = "ISIL seized Palmyra on Sunday."  # 0-4 ISIL, 5-11 seized, 12-19 Palmyra
AMAL, BILAL = "amal@example.org", "bilal@example.org"


def link(a: str, b: str, label: str) -> dict[str, Any]:
    return {"type": "relation", "from_id": a, "to_id": b, "direction": "right", "labels": [label]}


def spans(prefix: str) -> list[dict[str, Any]]:
    return [_region(TEXT, "ISIL", "ACTOR", f"{prefix}1"), _region(TEXT, "seized", "OUTCOME", f"{prefix}2"),
            _region(TEXT, "Palmyra", "LOCATION", f"{prefix}3")]


def relation_rows(amal_label: str = "agent_of", bilal: bool = False) -> list[dict[str, Any]]:
    """Task 1: both mark the same three spans and located_at; amal also draws ISIL -amal_label-> seized (bilal the
    same when `bilal`). The model predicted ISIL -target_of-> seized."""
    pred = {"id": 101, "model_version": "m1", "result": [*spans("p"), link("p1", "p2", "target_of")]}
    amal = [*spans("a"), link("a1", "a2", amal_label), link("a2", "a3", "located_at")]
    bilal_result = [*spans("b"), link("b2", "b3", "located_at")] + ([link("b1", "b2", amal_label)] if bilal else [])
    return [{"id": 1, "data": {"text": TEXT, "doc_id": "rel1"}, "predictions": [pred], "annotations": [
        _ann(11, AMAL, 1, amal, 30.0, "2025-01-01"), _ann(12, BILAL, 2, bilal_result, 20.0, "2025-01-02")]}]


@pytest.fixture
def project(tmp_path: Path):
    settings = make_project(tmp_path / "project", relation_rows())
    return settings, ensure_users(settings)[LEAD]


@pytest.fixture
def client(project) -> FlaskClient:
    settings, password = project
    app: Flask = create_app(settings, APP_CONFIG)
    client = app.test_client()
    assert login(client, LEAD, password).status_code == 302
    return client


def _html(client: FlaskClient, path: str = "/documents/1") -> str:
    return client.get(path).get_data(as_text=True)


def _column(html: str, kind: str, n: int = 0) -> str:
    return html.split(f'<article class="column {kind}">')[n + 1].split("</article>")[0]


def _decide(client: FlaskClient, **form: str):
    data = {"from_id": "0-4-ACTOR", "to_id": "5-11-OUTCOME", "label": "agent_of",
            "csrf_token": page_token(client, "/documents/1"), **form}
    return client.post("/documents/1/decide-relation", data=data)


def _log(settings) -> list[dict]:
    path = settings.exports_dir / "decisions.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_every_version_shows_its_relations_in_words(client: FlaskClient) -> None:
    html = _html(client)
    amal, bilal = _column(html, "annotator", 0), _column(html, "annotator", 1)
    assert '<li class="diff" data-relation="0-4-ACTOR 5-11-OUTCOME agent_of">ISIL —agent_of→ seized</li>' in amal
    assert '<li class="" data-relation="5-11-OUTCOME 12-19-LOCATION located_at">seized —located_at→ Palmyra</li>' in amal
    assert "agent_of" not in bilal and "seized —located_at→ Palmyra" in bilal
    model = _column(html, "prediction")
    assert '<li class="diff" data-relation="0-4-ACTOR 5-11-OUTCOME target_of">ISIL —target_of→ seized</li>' in model
    gold = _column(html, "gold")
    assert "seized —located_at→ Palmyra" in gold and "agent_of" not in gold


def test_the_relation_disagreement_is_open_with_its_controls(client: FlaskClient) -> None:
    html = _html(client)
    assert "Status <b>majority</b>" in html and "Open disagreements (1)" in html
    block = html.split('data-relation="0-4-ACTOR 5-11-OUTCOME agent_of">')[1].split("</div>")[0]
    assert "ISIL —agent_of→ seized" in block and f"drawn by {AMAL}; not by {BILAL}" in block
    assert 'action="/documents/1/decide-relation"' in block and 'name="csrf_token"' in block
    assert '<option value="target_of">target_of</option>' in block and "located_at</option>" not in block


@pytest.mark.parametrize(("form", "gold_has", "flash"), [
    ({"action": "accept"}, "ISIL —agent_of→ seized", "Recorded: accept ISIL —agent_of→ seized."),
    ({"action": "reject"}, None, "Recorded: reject ISIL —agent_of→ seized."),
    ({"action": "change", "new_label": "target_of"}, "ISIL —target_of→ seized",
     "Recorded: change to target_of ISIL —agent_of→ seized."),
])
def test_a_lead_settles_it_and_the_gold_follows(client: FlaskClient, project, form, gold_has, flash) -> None:
    settings, _ = project
    response = _decide(client, note="from the article", **form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/documents/1#disagreements")
    [line] = _log(settings)
    assert (line["kind"], line["action"], line["by"], line["article_id"], line["note"]) == (
        "relation", form["action"], LEAD, "rel1", "from the article")
    html = _html(client)
    assert flash in html
    assert "Open disagreements (0)" in html and "Status <b>adjudicated</b>" in html
    gold = _column(html, "gold")
    if gold_has:
        assert f'<li class="decided" data-relation="0-4-ACTOR 5-11-OUTCOME {gold_has.split("—")[1].split("→")[0]}">' \
               f"{gold_has}</li>" in gold
    else:
        assert "ISIL —" not in gold
    assert "relation <q>ISIL —agent_of→ seized</q>" in html  # the decisions table


def test_a_relation_decision_needs_the_csrf_token(client: FlaskClient, project) -> None:
    settings, _ = project
    response = client.post("/documents/1/decide-relation", data={"from_id": "0-4-ACTOR", "to_id": "5-11-OUTCOME",
                                                                  "label": "agent_of", "action": "accept"})
    assert response.status_code == 400 and _log(settings) == []


@pytest.mark.parametrize(("form", "message"), [
    ({"action": "change", "new_label": "located_at"}, "located_at goes from OUTCOME to LOCATION"),
    ({"action": "maybe"}, "action &#39;maybe&#39; is not one of accept, reject, change"),
    ({"action": "accept", "from_id": "ISIL"}, "is not a span id"),
    ({"action": "reject", "label": "target_of"}, "no annotation draws target_of"),
])
def test_a_bad_relation_decision_is_refused_and_nothing_written(client: FlaskClient, project, form, message) -> None:
    settings, _ = project
    response = _decide(client, **form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _log(settings) == []


def test_agreement_page_shows_relation_f1_per_pair_and_type(client: FlaskClient) -> None:
    html = _html(client, "/agreement")
    table = html.split('<table id="relation-f1">')[1].split("</table>")[0]
    # amal 2 relations, bilal 1 (located_at shared): pooled exact F1 = 2*1/3
    assert f"<td>{AMAL}</td><td>{BILAL}</td><td>all</td><td>exact</td>\n      <td class=\"n\">0.667</td>" in table
    assert "<td>target_of</td><td>exact</td>\n      <td class=\"n\">n/a</td>" in table
    assert "neither side has any target_of relation on the shared tasks, so F1 is n/a" in table


def test_agreement_page_says_why_when_nobody_drew_a_relation(tmp_path: Path) -> None:
    rows = relation_rows()
    for ann in rows[0]["annotations"]:
        ann["result"] = [r for r in ann["result"] if r["type"] != "relation"]
    settings = make_project(tmp_path / "p", rows)
    client = create_app(settings, APP_CONFIG).test_client()
    assert login(client, LEAD, ensure_users(settings)[LEAD]).status_code == 302
    html = _html(client, "/agreement")
    assert "no annotator drew a relation on a task shared with another annotator" in html
    assert '<td class="n">n/a</td>' in html.split('<table id="relation-f1">')[1]
