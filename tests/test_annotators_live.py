"""`annotate annotators invite|list` against the real Label Studio: accounts that log in, counts after real work.

The annotators work through the API with their own sessions (logged in through the login form, as the browser
does), so `completed_by`, drafts and skips are theirs, not the admin's.
"""

from __future__ import annotations

import json
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_fixtures import project_settings
from click.testing import CliRunner

from annotate.cli import main
from annotate.labelstudio.client import connect
from annotate.pipeline import push
from annotate.records import Document

pytestmark = pytest.mark.integration


def _cli(live_server: Any, root: Path, title: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--root", str(root), "--url", live_server.url, "--api-key", live_server.token,
                                     "annotators", *args, "--json"], env={"ANNOTATE_PROJECT_TITLE": title},
                              catch_exceptions=False)


def _session(base: str, email: str, password: str) -> httpx.Client:
    """A logged-in session through Label Studio's login form; fails when the password does not log in."""
    http = httpx.Client(base_url=base, timeout=30)
    http.get("/user/login/")
    answer = http.post("/user/login/", data={"email": email, "password": password,
                                             "csrfmiddlewaretoken": http.cookies["csrftoken"]})
    assert answer.status_code == 302, f"{email} could not log in (HTTP {answer.status_code})"
    assert http.get("/api/current-user/whoami").json()["email"] == email
    http.headers.update({"X-CSRFToken": http.cookies["csrftoken"], "Referer": base})
    return http


def _annotate(http: httpx.Client, task_id: int, **fields: Any) -> None:
    answer = http.post(f"/api/tasks/{task_id}/annotations/", json={"result": [], **fields})
    assert answer.status_code == 201, answer.text


@pytest.fixture
def project(live_server: Any, tmp_path: Path) -> tuple[Any, list[int]]:
    settings = project_settings(live_server, tmp_path / "project", "annotators-live")
    docs = [Document(f"doc-{n}", f"Troops entered town number {n} on Monday.", ()) for n in range(3)]
    _, report = push(settings, docs)
    return settings, [report.task_ids[d.id] for d in docs]


def test_invited_accounts_log_in_and_list_counts_what_each_did(live_server, project):
    settings, (t1, t2, t3) = project
    tag = uuid.uuid4().hex[:6]
    anna, ben = f"anna-{tag}@annotators.test", f"ben-{tag}@annotators.test"
    conn = connect(settings)
    token_before = conn.get_json("api/invite")["token"]

    run = _cli(live_server, settings.root, settings.project_title, "invite", anna, ben, "not-an-email",
               live_server.email)
    body = json.loads(run.stdout)
    assert run.exit_code == 1
    assert [a["email"] for a in body["invited"]] == [anna, ben]
    assert [(r["email"], r["error"].split(": ", 1)[1]) for r in body["refused"]] == [
        ("not-an-email", "not a valid email address (name@domain.tld)"),
        (live_server.email, "already has a Label Studio account (members are listed by `annotate annotators list`)")]
    # The invite token the server's access log now shows signs nobody up any more.
    assert conn.get_json("api/invite")["token"] != token_before
    log_text = Path(live_server.log).read_text(encoding="utf-8", errors="replace")
    assert all(a["password"] not in log_text for a in body["invited"])

    passwords = {a["email"]: a["password"] for a in body["invited"]}
    with closing(_session(live_server.url, anna, passwords[anna])) as a, \
            closing(_session(live_server.url, ben, passwords[ben])) as b:
        _annotate(a, t1, lead_time=12.5)
        _annotate(b, t2, was_cancelled=True, lead_time=3.0)  # what Skip stores
        assert b.post(f"/api/tasks/{t3}/drafts", json={"result": [], "lead_time": 4.0}).status_code == 201

    run = _cli(live_server, settings.root, settings.project_title, "list")
    assert run.exit_code == 0, run.output
    listed = json.loads(run.stdout)
    rows = {r["email"]: r for r in listed["annotators"]}
    assert listed["project_id"] is not None
    assert {k: rows[anna][k] for k in ("submitted", "skipped", "in_progress", "median_seconds")} == {
        "submitted": 1, "skipped": 0, "in_progress": 0, "median_seconds": 12.5}
    assert {k: rows[ben][k] for k in ("submitted", "skipped", "in_progress", "median_seconds")} == {
        "submitted": 0, "skipped": 1, "in_progress": 1, "median_seconds": None}
    assert rows[anna]["user_id"] == body["invited"][0]["user_id"]


def test_inviting_an_existing_annotator_again_is_refused_naming_the_email(live_server, project):
    settings, _ = project
    email = f"again-{uuid.uuid4().hex[:6]}@annotators.test"
    first = _cli(live_server, settings.root, settings.project_title, "invite", email)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, ["--root", str(settings.root), "--url", live_server.url, "--api-key",
                                      live_server.token, "annotators", "invite", email.upper()])
    assert again.exit_code == 1 and again.stdout == ""
    assert again.stderr.strip() == (f"Error: {email.upper()}: already has a Label Studio account (members are "
                                    "listed by `annotate annotators list`)")
