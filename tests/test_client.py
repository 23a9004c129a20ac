"""Connection.call and connect() on a fake transport (httpx.MockTransport): one retry layer, backoff, messages."""

from __future__ import annotations

import json

import httpx
import pytest

from annotate.config import load_settings, redact_url
from annotate.errors import LabelStudioError
from annotate.labelstudio.client import RETRIES, Connection, connect, make_client

URL = "http://127.0.0.1:9"
WHOAMI = {"id": 1, "email": "admin@annotate.local"}


class Recorder:
    """A MockTransport handler answering from a list of responses (or exceptions), recording each request."""

    def __init__(self, *answers: httpx.Response | Exception):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _conn(handler: Recorder, url: str = URL) -> tuple[Connection, list[float]]:
    slept: list[float] = []
    return Connection(url, make_client(url, "secret-token", httpx.MockTransport(handler)), sleep=slept.append), slept


def _settings(url: str = URL):
    return load_settings({"label_studio_url": url, "label_studio_api_key": "secret-token"}, env={})


def test_sdk_never_resends_a_post_itself():
    """The SDK's default max_retries=2 re-sent a failed import twice behind our back; now it sends once."""
    handler = Recorder(httpx.RemoteProtocolError("server disconnected"))
    conn, _ = _conn(handler)
    with pytest.raises(LabelStudioError, match="cannot reach Label Studio"):
        conn.call("import tasks", conn.sdk.projects.import_tasks, id=1, request=[{"data": {"text": "x"}}], retry=False)
    assert [r.method for r in handler.requests] == ["POST"]


def test_sdk_does_not_retry_a_503_either():
    handler = Recorder(httpx.Response(503, json={"detail": "busy"}))
    conn, _ = _conn(handler)
    with pytest.raises(LabelStudioError, match="HTTP 503"):
        conn.call("import tasks", conn.sdk.projects.import_tasks, id=1, request=[], retry=False)
    assert len(handler.requests) == 1


def test_idempotent_calls_are_retried_with_doubling_backoff():
    handler = Recorder(httpx.ConnectError("refused"), httpx.Response(502, text="bad gateway"),
                       httpx.ReadTimeout("slow"), httpx.Response(200, json={"tasks": [], "total": 0}))
    conn, slept = _conn(handler)
    assert conn.call("list tasks", conn.get_json, "api/tasks/", {"project": 1}) == {"tasks": [], "total": 0}
    assert len(handler.requests) == 4 and slept == [0.5, 1.0, 2.0]


def test_retries_give_up_after_the_limit_naming_url_and_operation():
    handler = Recorder(httpx.ConnectError("connection refused"))
    conn, slept = _conn(handler)
    with pytest.raises(LabelStudioError) as info:
        conn.call("list tasks (page 3)", conn.get_json, "api/tasks/")
    assert len(handler.requests) == RETRIES and len(slept) == RETRIES - 1
    assert str(info.value) == (f"cannot reach Label Studio at {URL} (list tasks (page 3)): ConnectError: "
                               "connection refused")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_client_errors_are_not_retried(status):
    handler = Recorder(httpx.Response(status, json={"detail": "no"}))
    conn, slept = _conn(handler)
    with pytest.raises(LabelStudioError):
        conn.call("get project 3", conn.get_json, "api/projects/3/")
    assert len(handler.requests) == 1 and slept == []


@pytest.mark.parametrize(("status", "expected"), [
    (401, "refused the API token (HTTP 401) while trying to get project 3; check LABEL_STUDIO_API_KEY"),
    (404, "answered 404 Not Found while trying to get project 3"),
    (500, "answered HTTP 500 while trying to get project 3: boom"),
])
def test_error_messages_are_one_line(status, expected):
    conn, _ = _conn(Recorder(httpx.Response(status, json={"detail": "boom"})))
    with pytest.raises(LabelStudioError) as info:
        conn.call("get project 3", conn.get_json, "api/projects/3/", retry=False)
    assert expected in str(info.value) and "\n" not in str(info.value)


HTML = """<!DOCTYPE html>
<html>
<head>
  <title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
"""


@pytest.mark.parametrize("status", [200, 404, 502])
def test_a_url_answering_html_is_one_line(status):
    handler = Recorder(httpx.Response(status, text=HTML, headers={"content-type": "text/html"}))
    with pytest.raises(LabelStudioError) as info:
        connect(_settings(), transport=httpx.MockTransport(handler))
    message = str(info.value)
    assert "\n" not in message and "nginx" in message.lower() and "not Label Studio's API" in message
    assert len(message) < 300


def test_connect_checks_the_token_once_and_never_prints_it():
    handler = Recorder(httpx.Response(401, json={"detail": "Invalid token."}))
    with pytest.raises(LabelStudioError) as info:
        connect(_settings(), transport=httpx.MockTransport(handler))
    assert len(handler.requests) == 1
    assert handler.requests[0].headers["authorization"] == "Token secret-token"
    assert "secret-token" not in str(info.value) and "LABEL_STUDIO_API_KEY" in str(info.value)


def test_a_password_in_the_url_is_redacted_in_every_message():
    url = "http://annotate:hunter2@127.0.0.1:9"
    for answer in (httpx.ConnectError("refused"), httpx.Response(500, json={"detail": "x"}),
                   httpx.Response(200, text=HTML)):
        with pytest.raises(LabelStudioError) as info:
            connect(_settings(url), transport=httpx.MockTransport(Recorder(answer)))
        assert "hunter2" not in str(info.value) and "annotate:***@127.0.0.1:9" in str(info.value)
    conn = connect(_settings(url), transport=httpx.MockTransport(Recorder(httpx.Response(200, json=WHOAMI))))
    assert conn.url == "http://annotate:***@127.0.0.1:9" and "hunter2" in conn.base_url
    assert "hunter2" not in repr(_settings(url))


def test_redact_url_keeps_everything_but_the_password():
    assert redact_url("https://u:p@h:8080/ls/?x=1") == "https://u:***@h:8080/ls/?x=1"
    assert redact_url("http://h:8080") == "http://h:8080"
    assert redact_url("http://u:p@h/a@b") == "http://u:***@h/a@b"


def test_whoami_without_a_user_is_not_label_studio():
    handler = Recorder(httpx.Response(200, json={"status": "ok"}))
    with pytest.raises(LabelStudioError, match="without a user: is it Label Studio"):
        connect(_settings(), transport=httpx.MockTransport(handler))


def test_get_json_sends_the_token_and_parses_json():
    handler = Recorder(httpx.Response(200, content=json.dumps({"total": 2}).encode()))
    conn, _ = _conn(handler)
    assert conn.get_json("api/tasks/", {"project": 4}) == {"total": 2}
    request = handler.requests[0]
    assert request.url.params["project"] == "4" and request.headers["authorization"] == "Token secret-token"
