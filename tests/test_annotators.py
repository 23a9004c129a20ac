"""`annotate annotators invite|list` on a fake Label Studio (httpx.MockTransport): refusals, output, no secret logged.

The fake answers as Label Studio 1.23.2 was measured to (labelstudio/accounts.py): the sign-up form answers 302 on
success and 200 with `<ul class="field_errors">` on a refusal; the drafts endpoint names users by email.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from click.testing import CliRunner

from annotate.cli import annotators as cli_annotators
from annotate.cli import main
from annotate.config import load_settings
from annotate.errors import InputError, LabelStudioError
from annotate.labelstudio.accounts import check_email, form_errors
from annotate.labelstudio.activity import annotator_activity
from annotate.labelstudio.client import Connection, make_client
from annotate.pipeline import annotators as pipeline_annotators

URL = "http://127.0.0.1:9"
TOKEN = "invite-token-0123456789"
REFUSED_PAGE = """<form><input name="email" value="x"><ul class="field_errors">
              <li>Enter a valid email address.</li>
          </ul><ul class="field_errors"><li>Please enter a password 8&ndash;128 characters in length.</li></ul></form>"""


class FakeLabelStudio:
    """Users, the invite token and the sign-up form of one organisation; `tasks` for the task list."""

    def __init__(self, tasks: list[dict[str, Any]] | None = None, drafts: dict[int, list[dict[str, Any]]] | None = None,
                 form_refuses: dict[str, str] | None = None):
        self.users = {1: "admin@annotate.local", 2: "kept@example.org"}
        self.token = TOKEN
        self.tasks = tasks or []
        self.drafts = drafts or {}
        self.form_refuses = form_refuses or {}
        self.signups: list[dict[str, list[str]]] = []
        self.rotated = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/current-user/whoami":
            return httpx.Response(200, json={"id": 1, "email": self.users[1]})
        if path == "/api/users/":
            return httpx.Response(200, json=[{"id": i, "email": e, "username": e.split("@")[0]}
                                             for i, e in self.users.items()])
        if path == "/api/invite":
            return httpx.Response(200, json={"token": self.token, "invite_url": f"/user/signup/?token={self.token}"})
        if path == "/api/invite/reset-token":
            self.rotated += 1
            self.token = f"new-{self.token}"
            return httpx.Response(201, json={"token": self.token})
        if path == "/user/signup/":
            return self._signup(request)
        if path == "/logout":
            return httpx.Response(302, headers={"Location": "/"})
        if path == "/api/tasks/":
            page = int(request.url.params.get("page", "1"))
            return httpx.Response(200, json={"tasks": self.tasks if page == 1 else []})
        if path.startswith("/api/tasks/") and path.endswith("/drafts"):
            return httpx.Response(200, json=self.drafts.get(int(path.split("/")[3]), []))
        return httpx.Response(404, json={"detail": "Not found."})

    def _signup(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("token") != self.token:
            return httpx.Response(403, text="<h1>403 Forbidden</h1>")
        if request.method == "GET":
            return httpx.Response(200, text="<form></form>", headers={"Set-Cookie": "csrftoken=abc; Path=/"})
        form = parse_qs(request.content.decode())
        self.signups.append(form)
        email = form["email"][0]
        if form.get("csrfmiddlewaretoken") != ["abc"]:
            return httpx.Response(403, text="CSRF verification failed")
        if email in self.form_refuses:
            return httpx.Response(200, text=f'<ul class="field_errors"><li>{self.form_refuses[email]}</li></ul>')
        self.users[max(self.users) + 1] = email
        return httpx.Response(302, headers={"Location": "/", "Set-Cookie": "sessionid=new-member; Path=/"})


def _settings():
    return load_settings({"label_studio_url": URL, "label_studio_api_key": "secret-api-token"}, env={})


def _invite(fake: FakeLabelStudio, *emails: str) -> pipeline_annotators.Invited:
    return pipeline_annotators.invite_annotators(_settings(), emails, transport=httpx.MockTransport(fake))


def _cli(monkeypatch: pytest.MonkeyPatch, fake: FakeLabelStudio, *args: str, project: int | None = 7):
    """Run the CLI with the pipeline's functions talking to `fake`."""
    transport = httpx.MockTransport(fake)
    real_invite, real_list = pipeline_annotators.invite_annotators, pipeline_annotators.list_annotators
    monkeypatch.setattr(cli_annotators, "invite_annotators", lambda s, e: real_invite(s, e, transport=transport))
    monkeypatch.setattr(cli_annotators, "list_annotators", lambda s: real_list(s, transport=transport))
    monkeypatch.setattr(pipeline_annotators, "find_project", lambda conn, settings: project)
    return CliRunner().invoke(main, ["--url", URL, "--api-key", "secret-api-token", "annotators", *args],
                              catch_exceptions=False)


def test_each_email_gets_an_account_with_its_own_password_and_the_invite_token_is_renewed():
    fake = FakeLabelStudio()
    result = _invite(fake, "anna@example.org", "Ben@Example.org")
    assert [(a.email, a.user_id) for a in result.accounts] == [("anna@example.org", 3), ("ben@example.org", 4)]
    sent = [(form["email"][0], form["password"][0]) for form in fake.signups]
    assert sent == [(a.email, a.password) for a in result.accounts]
    assert len({a.password for a in result.accounts}) == 2 and all(len(a.password) >= 8 for a in result.accounts)
    assert result.refused == () and fake.rotated == 1 and result.warning is None
    assert result.login_url == f"{URL}/user/login/"
    assert all(a.password not in repr(a) and a.password not in repr(result) for a in result.accounts)


@pytest.mark.parametrize(("email", "expected"), [
    ("not-an-email", "not-an-email: not a valid email address"),
    ("two@@example.org", "two@@example.org: not a valid email address"),
    ("kept@example.org", "kept@example.org: already has a Label Studio account"),
    ("KEPT@example.org", "KEPT@example.org: already has a Label Studio account"),
    ("odd@example.org", "odd@example.org: Label Studio refused the account: Enter a valid email address."),
])
def test_a_refused_email_is_named_and_the_others_still_get_accounts(email, expected):
    fake = FakeLabelStudio(form_refuses={"odd@example.org": "Enter a valid email address."})
    result = _invite(fake, "first@example.org", email, "last@example.org")
    assert [a.email for a in result.accounts] == ["first@example.org", "last@example.org"]
    [(given, error)] = result.refused
    assert given == email and isinstance(error, InputError)
    assert str(error).startswith(expected) and "\n" not in str(error)


def test_the_same_email_twice_is_refused_the_second_time():
    result = _invite(FakeLabelStudio(), "anna@example.org", "anna@example.org")
    assert [a.email for a in result.accounts] == ["anna@example.org"]
    assert "already has a Label Studio account" in str(result.refused[0][1])


def test_a_refused_invite_token_is_a_label_studio_error_naming_the_email():
    fake = FakeLabelStudio()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/user/signup/":
            return httpx.Response(403, text="<h1>403 Forbidden</h1>")
        return fake(request)

    result = pipeline_annotators.invite_annotators(_settings(), ["anna@example.org"],
                                                   transport=httpx.MockTransport(handler))
    [(_, error)] = result.refused
    assert isinstance(error, LabelStudioError) and "anna@example.org" in str(error) and "HTTP 403" in str(error)
    assert "invite token was refused" in str(error) and result.accounts == ()


def test_neither_password_nor_invite_token_reaches_the_log(caplog):
    fake = FakeLabelStudio()
    with caplog.at_level(logging.DEBUG):
        result = _invite(fake, "anna@example.org")
    logged = caplog.text
    assert "/user/signup/?token=***" in logged  # the requests are logged (with -v), the token is not
    assert TOKEN not in logged and result.accounts[0].password not in logged


def test_invite_prints_each_password_once_reports_refusals_and_exits_1(monkeypatch):
    fake = FakeLabelStudio()
    run = _cli(monkeypatch, fake, "invite", "anna@example.org", "bad@", "kept@example.org")
    password = fake.signups[0]["password"][0]
    assert run.exit_code == 1
    assert run.stdout.count(password) == 1
    assert run.stdout.strip() == (f"anna@example.org: account made, password {password} (shown once; log in at "
                                  f"{URL}/user/login/)")
    assert run.stderr.splitlines() == [
        "Error: bad@: not a valid email address (name@domain.tld)",
        "Error: kept@example.org: already has a Label Studio account (members are listed by "
        "`annotate annotators list`)"]


def test_invite_exits_0_when_every_account_is_made(monkeypatch):
    run = _cli(monkeypatch, FakeLabelStudio(), "invite", "anna@example.org")
    assert run.exit_code == 0 and run.stderr == ""


def test_invite_json(monkeypatch):
    fake = FakeLabelStudio()
    run = _cli(monkeypatch, fake, "invite", "--json", "anna@example.org", "bad@")
    body = json.loads(run.stdout)
    assert run.exit_code == 1
    assert body["command"] == "annotators invite" and body["login_url"] == f"{URL}/user/login/"
    assert body["invited"] == [{"email": "anna@example.org", "user_id": 3, "password": fake.signups[0]["password"][0]}]
    assert body["refused"] == [{"email": "bad@", "error": "bad@: not a valid email address (name@domain.tld)"}]
    assert body["warning"] is None


def test_a_failed_token_renewal_is_a_warning_beside_the_passwords():
    fake = FakeLabelStudio()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/invite/reset-token":
            return httpx.Response(403, json={"detail": "no permission"})
        return fake(request)

    result = pipeline_annotators.invite_annotators(_settings(), ["anna@example.org"],
                                                   transport=httpx.MockTransport(handler))
    assert len(result.accounts) == 1 and result.refused == ()
    assert result.warning and "not renewed" in result.warning and "HTTP 403" in result.warning


@pytest.mark.parametrize(("email", "ok"), [("a@b.co", True), ("first.last+tag@example.org", True), ("a@b", False),
                                           ("a b@example.org", False), ("@example.org", False), ("a@b.", False)])
def test_check_email(email, ok):
    if ok:
        assert check_email(email) == email.lower()
    else:
        with pytest.raises(InputError, match="not a valid email address"):
            check_email(email)


def test_form_errors_reads_every_message_on_one_line():
    assert form_errors(REFUSED_PAGE) == ("Enter a valid email address.; "
                                         "Please enter a password 8\u2013128 characters in length.")
    assert form_errors("<form></form>") == "no reason given"


TASKS = [  # what the task list answers with include=INCLUDE (measured shape: completed_by is the user id)
    {"id": 10, "draft_exists": False, "annotations": [{"id": 1, "completed_by": 2, "was_cancelled": False, "lead_time": 10.0}]},
    {"id": 11, "draft_exists": False, "annotations": [{"id": 2, "completed_by": 2, "was_cancelled": False, "lead_time": 30.0},
                                                      {"id": 3, "completed_by": 3, "was_cancelled": True, "lead_time": 2.0}]},
    {"id": 12, "draft_exists": False, "annotations": [{"id": 4, "completed_by": 2, "was_cancelled": True, "lead_time": 5.0},
                                                      {"id": 5, "completed_by": 2, "was_cancelled": False, "lead_time": 20.0},
                                                      {"id": 6, "completed_by": 9, "was_cancelled": False, "lead_time": 1.0}]},
    {"id": 13, "draft_exists": True, "annotations": []},
    {"id": 14, "draft_exists": True, "annotations": [{"id": 7, "completed_by": 3, "was_cancelled": True, "lead_time": None}]},
]
DRAFTS = {13: [{"id": 1, "user": "Anna@example.org", "annotation": None}],
          14: [{"id": 2, "user": "anna@example.org", "annotation": None}]}


def _activity() -> list[Any]:
    fake = FakeLabelStudio(tasks=TASKS, drafts=DRAFTS)
    fake.users[3] = "anna@example.org"
    conn = Connection(URL, make_client(URL, "t", httpx.MockTransport(fake)))
    return annotator_activity(conn, 7)


def test_activity_counts_each_task_once_by_what_the_annotator_did_there():
    rows = {a.email: a for a in _activity()}
    kept = rows["kept@example.org"]  # submitted 10, 11, 12 (12 skipped first, then submitted: counts as submitted)
    assert (kept.submitted, kept.skipped, kept.in_progress, kept.median_seconds) == (3, 0, 0, 20.0)
    anna = rows["anna@example.org"]  # skipped 11 and 14, a draft on 13 (and on 14, which she skipped)
    assert (anna.submitted, anna.skipped, anna.in_progress, anna.median_seconds) == (0, 2, 1, None)
    admin = rows["admin@annotate.local"]
    assert (admin.submitted, admin.skipped, admin.in_progress, admin.user_id) == (0, 0, 0, 1)
    gone = rows["user-9"]  # an author who is no longer a member still shows
    assert gone.submitted == 1 and gone.user_id is None


def test_activity_is_ordered_by_submitted_then_email():
    assert [a.email for a in _activity()] == ["kept@example.org", "user-9", "admin@annotate.local", "anna@example.org"]


def test_list_prints_one_row_per_member(monkeypatch):
    fake = FakeLabelStudio(tasks=TASKS, drafts=DRAFTS)
    fake.users[3] = "anna@example.org"
    run = _cli(monkeypatch, fake, "list")
    assert run.exit_code == 0, run.output
    assert run.stdout.splitlines() == [
        "project 7 'Conflict news (annotate)': 4 member(s)",
        "annotator             submitted  skipped  in progress  median s/task",
        "kept@example.org              3        0            0           20.0",
        "user-9                        1        0            0            1.0",
        "admin@annotate.local          0        0            0              -",
        "anna@example.org              0        2            1              -",
    ]


def test_list_json(monkeypatch):
    fake = FakeLabelStudio(tasks=TASKS, drafts=DRAFTS)
    run = _cli(monkeypatch, fake, "list", "--json")
    body = json.loads(run.stdout)
    assert body["command"] == "annotators list" and body["project_id"] == 7
    assert body["annotators"][0] == {"email": "kept@example.org", "user_id": 2, "submitted": 3, "skipped": 0,
                                     "in_progress": 0, "median_seconds": 20.0}


def test_list_without_a_project_shows_the_members_with_zero_counts(monkeypatch):
    run = _cli(monkeypatch, FakeLabelStudio(tasks=TASKS), "list", project=None)
    assert run.exit_code == 0, run.output
    lines = run.stdout.splitlines()
    assert lines[0] == "no project titled 'Conflict news (annotate)' yet: every count is 0"
    assert len(lines) == 4 and all(line.split()[1:4] == ["0", "0", "0"] for line in lines[2:])


class LostAnswer(FakeLabelStudio):
    """The sign-up form's answer is lost: `made` says whether the account was made before it was."""

    def __init__(self, error: Exception, made: bool):
        super().__init__()
        self.error, self.made = error, made

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/user/signup/" and request.method == "POST":
            super().__call__(request)
            if not self.made:
                del self.users[max(self.users)]
            raise self.error
        return super().__call__(request)


def test_an_account_made_before_its_answer_was_lost_keeps_the_password_it_was_made_with():
    fake = LostAnswer(httpx.ReadTimeout("timed out"), made=True)
    result = _invite(fake, "anna@example.org")
    assert result.refused == () and len(fake.signups) == 1  # sent once, then checked, never re-sent
    [account] = result.accounts
    assert (account.email, account.user_id, account.password) == ("anna@example.org", 3, fake.signups[0]["password"][0])


@pytest.mark.parametrize("error", [httpx.ReadTimeout("timed out"), httpx.ConnectError("refused")])
def test_a_lost_sign_up_without_an_account_is_an_error_naming_the_email(error):
    fake = LostAnswer(error, made=False)
    result = _invite(fake, "anna@example.org")
    [(_, exc)] = result.refused
    assert isinstance(exc, LabelStudioError) and "sign anna@example.org up" in str(exc)
    assert result.accounts == () and len(fake.signups) == 1
