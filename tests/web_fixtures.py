"""Fixtures for the dashboard tests: a project folder with a small Label Studio export, the app, a client."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from annotate.config import Settings
from annotate.web import create_app
from annotate.web.users import ensure_users

ROOT = Path(__file__).resolve().parents[1]
LEAD = "lead@example.org"
ARCHIVE = "project-7-20250102T120000Z.json"
TEXT1 = "Rebels seized Idlib on Tuesday."
TEXT2 = "Police said <script>alert(1)</script> militants attacked Kabul."
TEXT3 = "Soldiers withdrew from Homs."
TEXT4 = "Nothing happened in Geneva."


def _region(text: str, piece: str, label: str, rid: str, occurrence: int = 0) -> dict[str, Any]:
    start = text.index(piece)
    for _ in range(occurrence):
        start = text.index(piece, start + 1)
    return {"id": rid, "type": "labels", "from_name": "label", "to_name": "text",
            "value": {"start": start, "end": start + len(piece), "text": piece, "labels": [label]}}


def _ann(aid: int, who: str, uid: int, result: list[dict[str, Any]], lead_time: float, day: str) -> dict[str, Any]:
    return {"id": aid, "completed_by": {"id": uid, "email": who}, "lead_time": lead_time, "was_cancelled": False,
            "created_at": f"{day}T10:00:00.000000Z", "updated_at": f"{day}T10:00:00.000000Z", "result": result}


def export_rows() -> list[dict[str, Any]]:
    """Four tasks: 1 disagreement (Idlib vs Idlib on), 2 agreed with <script> in the text, 3 single, 4 none."""
    amal, bilal = "amal@example.org", "bilal@example.org"
    pred1 = {"id": 101, "model_version": "m1", "result": [_region(TEXT1, "Rebels", "ACTOR", "p1"),
                                                           _region(TEXT1, "Idlib", "LOCATION", "p2")]}
    task1 = {"id": 1, "data": {"text": TEXT1, "doc_id": "art1"}, "predictions": [pred1], "annotations": [
        _ann(11, amal, 1, [_region(TEXT1, "Rebels", "ACTOR", "a1"), _region(TEXT1, "Idlib", "LOCATION", "a2"),
                           _region(TEXT1, "seized", "OUTCOME", "a3")], 30.0, "2025-01-01"),
        _ann(12, bilal, 2, [_region(TEXT1, "Rebels", "ACTOR", "b1"), _region(TEXT1, "Idlib on", "LOCATION", "b2")],
             10.0, "2025-01-02"),
    ]}
    both = [_region(TEXT2, "militants", "ACTOR", "x1"), _region(TEXT2, "Kabul", "LOCATION", "x2")]
    task2 = {"id": 2, "data": {"text": TEXT2, "doc_id": "art2"}, "predictions": [], "annotations": [
        _ann(21, amal, 1, both, 20.0, "2025-01-01"), _ann(22, bilal, 2, both, 14.0, "2025-01-02")]}
    task3 = {"id": 3, "data": {"text": TEXT3, "doc_id": "art3"}, "predictions": [], "annotations": [
        _ann(31, amal, 1, [_region(TEXT3, "Soldiers", "ACTOR", "c1")], 50.0, "2025-01-02")]}
    task4 = {"id": 4, "data": {"text": TEXT4, "doc_id": "art4"}, "predictions": [], "annotations": []}
    return [task1, task2, task3, task4]


def make_project(root: Path, rows: list[dict[str, Any]] | None = None) -> Settings:
    """A project folder with the real guidelines and one raw archive holding `rows`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "guidelines").symlink_to(ROOT / "guidelines", target_is_directory=True)
    raw = root / "exports" / "raw"
    raw.mkdir(parents=True)
    (raw / ARCHIVE).write_text(json.dumps(rows if rows is not None else export_rows()), encoding="utf-8")
    return Settings(root=root, leads=(LEAD,))


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_project(tmp_path / "project")


@pytest.fixture
def password(settings: Settings) -> str:
    return ensure_users(settings)[LEAD]


APP_CONFIG = {"TESTING": True, "SECRET_KEY": "test-secret", "REPORT_BOOTSTRAP": 20, "DATA_WAIT": True,
              "REPORT_WAIT": True}


@pytest.fixture
def app(settings: Settings, password: str) -> Flask:
    return create_app(settings, APP_CONFIG)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def logged_in(client: FlaskClient, password: str) -> Iterator[FlaskClient]:
    response = login(client, LEAD, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    yield client


def page_token(client: FlaskClient, path: str = "/") -> str:
    """The CSRF token of the logged-in session, read from a page's form."""
    return csrf_from(client.get(path).get_data(as_text=True))


def busy_rows(n: int = 60, seed: int = 1) -> list[dict[str, Any]]:
    """The four hand-made tasks plus `n` generated ones (ids from 101) by three annotators over ten days."""
    import random

    rng = random.Random(seed)
    people = ["amal@example.org", "bilal@example.org", "chen@example.org"]
    words = ["Rebels", "seized", "the", "town", "of", "Idlib", "on", "Tuesday", "as", "army", "forces", "withdrew", "from", "Aleppo", "province"]
    labels = {"Rebels": "ACTOR", "army": "ACTOR", "Idlib": "LOCATION", "Aleppo": "LOCATION", "seized": "OUTCOME",
              "withdrew": "OUTCOME"}
    rows = export_rows()
    for i in range(101, 101 + n):
        text = " ".join(words)
        truth = [(w, lab) for w, lab in labels.items()]
        anns = []
        for k, who in enumerate(rng.sample(people, 2)):
            kept = [(w, lab if rng.random() > 0.1 else "ACTOR") for w, lab in truth if rng.random() > 0.15]
            anns.append(_ann(i * 10 + k, who, people.index(who) + 1,
                             [_region(text, w, lab, f"r{i}{k}{j}") for j, (w, lab) in enumerate(kept)],
                             round(rng.uniform(20, 90), 1), f"2025-01-{1 + (i - 101) * 10 // n:02d}"))
        pred = {"id": 1000 + i, "model_version": rng.choice(["m1", "m2"]),
                "result": [_region(text, w, lab, f"p{i}{j}") for j, (w, lab) in enumerate(truth) if rng.random() > 0.2]}
        rows.append({"id": i, "data": {"text": text, "doc_id": f"gen-{i}"}, "predictions": [pred], "annotations": anns})
    return rows
