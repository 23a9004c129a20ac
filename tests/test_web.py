"""Dashboard: login, CSRF, error pages, and what each page shows for a small hand-made export."""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from web_fixtures import APP_CONFIG, ARCHIVE, LEAD, csrf_from, login, make_project, page_token

from annotate.web import create_app
from annotate.web.users import ensure_users

PAGES = ["/", "/agreement", "/model", "/documents/", "/documents/1", "/exports", "/guidelines"]


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- login and sessions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_wrong_password_is_refused(client: FlaskClient) -> None:
    response = login(client, LEAD, "not-the-password")
    assert response.status_code == 401
    assert "Wrong email or password" in _text(response)
    assert client.get("/").status_code == 302


def test_unknown_email_is_refused(client: FlaskClient, password: str) -> None:
    assert login(client, "someone@example.org", password).status_code == 401


def test_repeated_logins_are_slowed_down(client: FlaskClient, password: str, monkeypatch) -> None:
    """After five attempts from one address the form answers 429, even to the right password, until the window
    has passed; a success counts as an attempt too (so it cannot be used to reset the count)."""
    from annotate.web import auth

    real, offset = time.time, [0.0]
    monkeypatch.setattr(time, "time", lambda: real() + offset[0])  # the limiter's clock and everyone else's
    for _ in range(auth.MAX_ATTEMPTS):
        assert login(client, LEAD, "wrong").status_code == 401
    refused = login(client, LEAD, password)
    assert refused.status_code == 429
    wait = re.search(r"Too many logins from this address: wait (\d+) s, then try again", _text(refused))
    assert wait and auth.WINDOW - 30 <= int(wait.group(1)) <= auth.WINDOW
    assert refused.headers["Retry-After"] == wait.group(1)
    offset[0] += auth.WINDOW
    assert login(client, LEAD, password).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(_text(client.get("/")))})
    assert [login(client, LEAD, "wrong").status_code for _ in range(auth.MAX_ATTEMPTS)] == [401] * 4 + [429]


@contextmanager
def _served(app) -> Iterator[str]:
    """The app behind a real threaded HTTP server on 127.0.0.1, as `annotate serve` runs it; yields /login's URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.port}/login"
    finally:
        server.shutdown()


def _login_over_http(url: str, password: str, barrier: threading.Barrier | None = None) -> int:
    """One browser (its own cookie jar): fetch the form, then post it; the HTTP status of the post."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(), _NoRedirect())
    token = csrf_from(browser.open(url, timeout=30).read().decode())
    if barrier is not None:
        barrier.wait(30)
    form = urllib.parse.urlencode({"email": LEAD, "password": password, "csrf_token": token}).encode()
    try:
        return browser.open(url, form, timeout=60).status
    except urllib.error.HTTPError as exc:
        return exc.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a successful login answers 302: that is the status wanted
        return None


@pytest.fixture
def slow_check(monkeypatch):
    """check_login, with every wrong password held until `release` is set (password hashing is slow on
    purpose: that is the window parallel attempts use); `wrong` lists the wrong passwords checked."""
    from annotate.web import auth

    real, wrong, release = auth.check_login, [], threading.Event()

    def check(settings, email, password):
        if password == "wrong":
            wrong.append(email)
            release.wait(30)
        return real(settings, email, password)
    monkeypatch.setattr(auth, "check_login", check)
    return SimpleNamespace(wrong=wrong, release=release)


def test_parallel_wrong_passwords_check_at_most_the_limit(app, slow_check) -> None:
    """40 wrong passwords at once against a real threaded server: only MAX_ATTEMPTS are checked, 429 for the rest."""
    from annotate.web import auth

    barrier = threading.Barrier(40)
    with _served(app) as url, ThreadPoolExecutor(40) as pool:
        statuses = [pool.submit(_login_over_http, url, "wrong", barrier) for _ in range(40)]
        _until(lambda: sum(f.done() for f in statuses) + len(slow_check.wrong) == 40)
        slow_check.release.set()
        counts = Counter(f.result() for f in statuses)
    assert len(slow_check.wrong) == auth.MAX_ATTEMPTS
    assert counts == {401: auth.MAX_ATTEMPTS, 429: 40 - auth.MAX_ATTEMPTS}


def test_a_login_amid_parallel_wrong_passwords_does_not_lift_the_limit(app, password: str, slow_check) -> None:
    """Four wrong passwords are being checked when a right one logs in from the same address; then 40 more wrong
    ones arrive at once. Those four still count: at most MAX_ATTEMPTS wrong passwords get checked in the window."""
    from annotate.web import auth

    barrier = threading.Barrier(40)
    with _served(app) as url, ThreadPoolExecutor(44) as pool:
        first = [pool.submit(_login_over_http, url, "wrong") for _ in range(auth.MAX_ATTEMPTS - 1)]
        _until(lambda: len(slow_check.wrong) == auth.MAX_ATTEMPTS - 1)
        assert _login_over_http(url, password) == 302
        more = [pool.submit(_login_over_http, url, "wrong", barrier) for _ in range(40)]
        _until(lambda: sum(f.done() for f in more) + len(slow_check.wrong) == 40 + auth.MAX_ATTEMPTS - 1)
        slow_check.release.set()
        counts = Counter(f.result() for f in first + more)
    assert len(slow_check.wrong) <= auth.MAX_ATTEMPTS, f"{len(slow_check.wrong)} wrong passwords checked"
    assert counts == {401: auth.MAX_ATTEMPTS - 1, 429: 40}  # the right login was the fifth attempt


def _until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_login_sets_httponly_samesite_cookie(client: FlaskClient, password: str) -> None:
    response = login(client, LEAD, password)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_login_goes_back_to_the_page_asked_for(client: FlaskClient, password: str) -> None:
    token = csrf_from(_text(client.get("/login")))
    response = client.post("/login?next=/documents/2", data={"email": LEAD, "password": password, "csrf_token": token})
    assert response.headers["Location"] == "/documents/2"


# Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so "/\t/evil" is "//evil".
OFF_SITE = ["https://evil.example/", "//evil.example/", "/\\evil.example", "/%09/evil.example", "/%0a/evil.example",
            "/%0d%0a/evil.example", "%0d%0aLocation:%20//evil.example", "/%2f%2fevil.example", "%2f%2fevil.example",
            "/%5cevil.example", "/%252f%252fevil.example", "https:evil.example", "javascript:alert(1)",
            "JavaScript%3Aalert(1)", "/%20/evil.example", "%20//evil.example", "/%00/evil.example",
            "/%e2%80%83/evil.example", "evil.example", "http://localhost@evil.example/"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(client: FlaskClient, password: str, target: str) -> None:
    token = csrf_from(_text(client.get("/login")))
    response = client.post(f"/login?next={target}", data={"email": LEAD, "password": password, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/documents/?page=2", "/documents/?annotator=amal%40example.org&open=1",
                                    "/documents/1"])
def test_login_follows_a_same_site_next(client: FlaskClient, password: str, target: str) -> None:
    from urllib.parse import quote, unquote

    token = csrf_from(_text(client.get("/login")))
    response = client.post(f"/login?next={quote(target)}", data={"email": LEAD, "password": password,
                                                                 "csrf_token": token})
    assert response.status_code == 302 and unquote(response.headers["Location"]) == unquote(target)


def test_logout_ends_the_session(logged_in: FlaskClient) -> None:
    response = logged_in.post("/logout", data={"csrf_token": page_token(logged_in)})
    assert response.status_code == 302
    assert logged_in.get("/").status_code == 302


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("annotate_session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app, cookie: str):
    """GET / in a new browser that sends a captured session cookie."""
    other = app.test_client()
    other.set_cookie("annotate_session", cookie)
    return other.get("/")


def _refused(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("restart", [False, True], ids=["same-app", "restarted"])
def test_a_cookie_copied_before_logout_is_refused(app, logged_in: FlaskClient, settings, restart: bool) -> None:
    cookie = _cookie(logged_in)
    later = (lambda: create_app(settings, APP_CONFIG)) if restart else (lambda: app)
    assert _replay(later(), cookie).status_code == 200  # the copy works while the session lives
    logged_in.post("/logout", data={"csrf_token": page_token(logged_in)})
    assert _refused(_replay(later(), cookie))


@pytest.mark.parametrize("restart", [False, True], ids=["same-app", "restarted"])
def test_a_password_reset_ends_the_leads_sessions(app, logged_in: FlaskClient, settings, restart: bool) -> None:
    from annotate.web.users import reset_password

    cookie = _cookie(logged_in)
    reset_password(settings, LEAD)  # what `annotate serve --reset-password` does, from another process
    assert _refused(logged_in.get("/"))
    assert _refused(_replay(create_app(settings, APP_CONFIG) if restart else app, cookie))


def test_a_lead_removed_from_leads_is_logged_out(logged_in: FlaskClient, settings) -> None:
    from annotate.config import Settings

    cookie = _cookie(logged_in)
    assert _replay(create_app(settings, APP_CONFIG), cookie).status_code == 200
    demoted = Settings(root=settings.root, leads=("other@example.org",))
    assert _refused(_replay(create_app(demoted, APP_CONFIG), cookie))


def test_a_cookie_without_a_server_side_session_is_refused(app, settings, password: str) -> None:
    """A cookie signed with the right key but naming no recorded session (forged, or from before this fix)."""
    from flask.sessions import SecureCookieSessionInterface

    signer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert _refused(_replay(app, signer.dumps({"user": LEAD, "csrf_token": "x"})))
    assert _refused(_replay(app, signer.dumps({"user": LEAD, "sid": "made-up", "csrf_token": "x"})))


def test_passwords_are_stored_hashed_and_private(settings, password: str) -> None:
    path = settings.state_dir / "dashboard-users.json"
    stored = json.loads(path.read_text())["users"][LEAD]
    assert password not in path.read_text() and stored.startswith(("scrypt:", "pbkdf2:"))
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_secret_key_is_made_once_and_private(settings, password: str) -> None:
    first = create_app(settings).secret_key
    assert create_app(settings).secret_key == first
    assert os.stat(settings.state_dir / "dashboard-secret").st_mode & 0o777 == 0o600


def test_ensure_users_creates_each_login_once(settings, password: str) -> None:
    assert ensure_users(settings) == {}


# --- Host names (DNS rebinding) -----------------------------------------------------------------------------

SERVED = ["127.0.0.1:5000", "localhost", "LOCALHOST:5000", "localhost.:5000", "[::1]:5000", "[0:0::1]",
          "annotate.example.org:5000", "10.0.0.5:8000"]
FOREIGN = ["evil.example", "evil.example:5000", "127.0.0.1.evil.example", "localhost.evil.example:5000", "[::2]",
           "annotate.example.org.evil.example", "evil.example@127.0.0.1", "", "127.0.0.1:5000, evil.example"]


@pytest.fixture
def hosted(settings, password: str):
    """The dashboard as `serve --host 10.0.0.5 --allow-remote` with allowed_hosts = ["annotate.example.org"]."""
    from dataclasses import replace

    return create_app(replace(settings, allowed_hosts=("annotate.example.org",)), APP_CONFIG, host="10.0.0.5")


@pytest.mark.parametrize("host", SERVED)
def test_the_dashboard_answers_to_its_own_host_names(hosted, host: str) -> None:
    assert hosted.test_client().get("/login", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", FOREIGN)
def test_the_dashboard_refuses_other_host_names(hosted, host: str) -> None:
    response = hosted.test_client().get("/login", headers={"Host": host})
    assert response.status_code == 400 and "is not served here" in _text(response)


def test_logins_sent_with_a_foreign_host_do_not_lock_the_lead_out(client: FlaskClient, password: str) -> None:
    """A DNS-rebinding page is same-origin with the dashboard: it could read the form's token and post it."""
    from annotate.web import auth

    evil = {"Host": "evil.example:5000"}
    page = client.get("/login", headers=evil)
    assert page.status_code == 400 and 'name="csrf_token"' not in _text(page)
    token = csrf_from(_text(client.get("/login")))  # a valid token and its cookie, as if the page had got them
    client.set_cookie("annotate_session", _cookie(client), domain="evil.example")
    for _ in range(auth.MAX_ATTEMPTS + 1):
        response = client.post("/login", headers=evil, data={"email": LEAD, "password": "x", "csrf_token": token})
        assert response.status_code == 400
    assert login(client, LEAD, password).status_code == 302


def test_a_bad_allowed_hosts_entry_is_a_config_error(settings) -> None:
    from dataclasses import replace

    from annotate.errors import ConfigError

    with pytest.raises(ConfigError, match="allowed_hosts: 'https://annotate.example.org' is not a host name"):
        create_app(replace(settings, allowed_hosts=("https://annotate.example.org",)), APP_CONFIG)


# --- CSRF ---------------------------------------------------------------------------------------------------

DECIDE = {"action": "accept", "start": "7", "end": "13", "label": "OUTCOME"}


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_post_without_the_session_token_is_refused(logged_in: FlaskClient, settings, token: str | None) -> None:
    data = dict(DECIDE) if token is None else {**DECIDE, "csrf_token": token}
    response = logged_in.post("/documents/1/decide", data=data)
    assert response.status_code == 400
    assert "security token" in _text(response)
    assert not (settings.exports_dir / "decisions.jsonl").exists()


def test_login_form_needs_the_token_too(client: FlaskClient, password: str) -> None:
    """And a post without it does not count against the login limit (a cross-site page cannot lock the lead out)."""
    from annotate.web import auth

    client.get("/login")
    for _ in range(auth.MAX_ATTEMPTS + 1):
        response = client.post("/login", data={"email": LEAD, "password": password})
        assert response.status_code == 400 and "security token" in _text(response)
    assert login(client, LEAD, password).status_code == 302


def _post_routes(app) -> list[str]:
    paths = [rule.rule.replace("<int:task_id>", "1") for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert {"/login", "/logout", "/pull", "/documents/1/decide", "/exports/build"} <= set(paths)
    return sorted(paths)


@pytest.mark.parametrize("token", [None, "forged-token", "session-token-of-another-browser"])
def test_every_post_form_needs_this_sessions_token(app, logged_in: FlaskClient, settings, token: str | None) -> None:
    """Every POST route of the app (pull, decisions, exports, logout, login): our 400 page, nothing done."""
    if token == "session-token-of-another-browser":
        other = app.test_client()
        token = csrf_from(_text(other.get("/login")))
    for path in _post_routes(app):
        response = logged_in.post(path, data={} if token is None else {"csrf_token": token})
        html = _text(response)
        assert response.status_code == 400, path
        assert "<h1>400 · Bad request</h1>" in html and "security token is missing or out of date" in html, path
        assert "reload the page and submit the form again" in html
    assert logged_in.get("/").status_code == 200  # logout was refused too: still logged in
    assert not (settings.exports_dir / "decisions.jsonl").exists()


def test_post_without_login_is_forbidden(client: FlaskClient) -> None:
    token = csrf_from(_text(client.get("/login")))
    assert client.post("/documents/1/decide", data={**DECIDE, "csrf_token": token}).status_code == 403


# --- error pages --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/no-such-page", 404),
    ("get", "/documents/999", 404),
    ("get", "/documents/1/decide", 405),
    ("get", "/pull", 405),
])
def test_errors_render_as_pages(logged_in: FlaskClient, method: str, path: str, status: int) -> None:
    response = getattr(logged_in, method)(path)
    assert response.status_code == status
    assert f"<h1>{status} ·" in _text(response)
    assert "Traceback" not in _text(response)


def test_unexpected_error_is_a_500_page_without_traceback(settings, password: str, monkeypatch) -> None:
    app = create_app(settings, {"SECRET_KEY": "t", "PROPAGATE_EXCEPTIONS": False, "DATA_WAIT": True})
    client = app.test_client()
    login(client, LEAD, password)

    def boom():
        raise RuntimeError("secret internals")
    monkeypatch.setattr(app.extensions["annotate.data"], "snapshot", boom)
    response = client.get("/")
    assert response.status_code == 500
    assert "secret internals" not in _text(response) and "<h1>500 ·" in _text(response)


def test_annotate_error_renders_with_its_status(logged_in: FlaskClient, settings) -> None:
    (settings.exports_dir / "decisions.jsonl").write_text("{not json\n")
    response = logged_in.get("/documents/1")
    assert response.status_code == 400
    assert "decisions.jsonl:1: not a valid decision" in _text(response)


def test_pull_refused_when_embedded_server_is_down(logged_in: FlaskClient) -> None:
    response = logged_in.post("/pull", data={"csrf_token": page_token(logged_in)})
    assert response.status_code == 409
    assert "annotate server start" in _text(response)


def test_pull_error_from_label_studio_is_a_502_page(logged_in: FlaskClient, monkeypatch) -> None:
    from annotate import pipeline
    from annotate.errors import LabelStudioError
    from annotate.labelstudio import server

    monkeypatch.setattr(server, "server_status", lambda s: object())

    def refuse(*_args, **_kwargs):
        raise LabelStudioError("http://127.0.0.1:8089: connection refused")
    monkeypatch.setattr(pipeline.sync, "pull", refuse)
    monkeypatch.setitem(logged_in.application.config, "ISOLATE_WORK", False)  # the stand-in lives in this process
    response = logged_in.post("/pull", data={"csrf_token": page_token(logged_in)})
    assert response.status_code == 502
    assert "connection refused" in _text(response)


def test_pull_button_shows_the_lines_annotate_pull_prints(logged_in: FlaskClient, monkeypatch) -> None:
    """Each line of pipeline.PullOutcome.lines is one flash, a warning (stderr in the CLI) marked as one."""
    from types import SimpleNamespace

    from annotate import pipeline
    from annotate.labelstudio import server

    lines = [pipeline.Line("pulled 2 task(s), 3 annotation(s), 0 draft(s) -> raw.json"),
             pipeline.Line("quarantined 1 relation(s), each named by task and annotator -> q.jsonl", warning=True),
             pipeline.Line("gold dataset -> exports/gold/abc (latest: exports/gold/latest)")]
    monkeypatch.setattr(server, "server_status", lambda s: object())
    monkeypatch.setattr(pipeline.sync, "pull_and_export", lambda s, **_kw: SimpleNamespace(lines=lambda _s: lines))
    monkeypatch.setitem(logged_in.application.config, "ISOLATE_WORK", False)  # the stand-in lives in this process
    html = _text(logged_in.post("/pull", data={"csrf_token": page_token(logged_in)}, follow_redirects=True))
    assert '<p class="flash ok">pulled 2 task(s), 3 annotation(s), 0 draft(s) -&gt; raw.json</p>' in html
    assert '<p class="flash warning">quarantined 1 relation(s), each named by task and annotator -&gt; q.jsonl' in html
    assert '<p class="flash ok">gold dataset -&gt; exports/gold/abc (latest: exports/gold/latest)</p>' in html


# --- pages ------------------------------------------------------------------------------------------------

def _card(html: str, caption: str) -> int:
    match = re.search(r"<b>(\d+)</b><span>" + re.escape(caption), html)
    assert match, caption
    return int(match.group(1))


@pytest.mark.parametrize(("caption", "value"), [
    ("tasks", 4), ("annotated at least once", 3), ("annotated by 2 (planned)", 2), ("adjudicated", 0),
    ("remaining", 2), ("open disagreements in 1 tasks", 3),
])
def test_overview_counts(logged_in: FlaskClient, caption: str, value: int) -> None:
    assert _card(_text(logged_in.get("/")), caption) == value


def test_overview_per_annotator_tasks_and_median_time(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/"))
    rows = re.findall(r'annotator=[^"]+">([^<]+)</a></td><td class="n">(\d+)</td>\s*<td class="n">([\d.]+)', html)
    # amal: tasks 1, 2, 3 with 30, 20, 50 s -> median 30; bilal: tasks 1, 2 with 10, 14 s -> median 12
    assert rows == [("amal@example.org", "3", "30.0"), ("bilal@example.org", "2", "12.0")]


def test_overview_progress_chart_is_inline_svg(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/"))
    assert "<svg" in html and "2025-01-01: 2" in html and "2025-01-02: 5" in html


def test_overview_links_the_worst_open_disagreement(logged_in: FlaskClient) -> None:
    assert 'id="worst" href="/documents/1"' in _text(logged_in.get("/"))


def test_agreement_page_pairwise_span_f1_and_bootstrap_note(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/agreement"))
    # shared tasks 1 and 2: amal 5 spans, bilal 4, 3 identical -> F1 = 6 / 9
    row = re.search(r"<td>amal@example.org</td><td>bilal@example.org</td><td>all</td><td class=\"n\">([\d.]+)", html)
    assert row and row.group(1) == "0.667"
    assert "20 replicates" in html
    assert html.count("<svg") == 3  # alpha bars + two heatmaps


def test_model_page_counts_per_model_version(logged_in: FlaskClient) -> None:
    html = _text(logged_in.get("/model"))
    # m1 predicted Rebels and Idlib on task 1: both accepted by amal; bilal kept Rebels, widened Idlib
    row = re.search(r"<td>m1</td>((?:<td class=\"n\">\d+</td>){5})", html)
    assert row
    assert re.findall(r"\d+", row.group(1)) == ["3", "1", "0", "0", "1"]


def test_guidelines_page_shows_version(logged_in: FlaskClient) -> None:
    from annotate.guidelines import load_guidelines

    version = load_guidelines(Path(__file__).resolve().parents[1] / "guidelines").version
    html = _text(logged_in.get("/guidelines"))
    assert f"version {version}" in html and "ACTOR" in html


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_other_hosts(logged_in: FlaskClient, path: str) -> None:
    response = logged_in.get(path)
    assert response.status_code == 200
    assert not re.search(r'(src|href)="(https?:)?//', _text(response).replace("http://127.0.0.1:8089/", ""))
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/", "/agreement", "/model", "/documents/", "/exports"])
def test_pages_without_a_pull_say_so(tmp_path: Path, path: str) -> None:
    settings = make_project(tmp_path / "p")
    (settings.exports_dir / "raw" / ARCHIVE).unlink()
    password = ensure_users(settings)[LEAD]
    client = create_app(settings, {"TESTING": True, "SECRET_KEY": "t", "DATA_WAIT": True}).test_client()
    login(client, LEAD, password)
    response = client.get(path)
    assert response.status_code == 200
    assert "Nothing pulled yet." in _text(response)


def test_a_newer_archive_replaces_the_cached_data(logged_in: FlaskClient, settings) -> None:
    assert _card(_text(logged_in.get("/")), "tasks") == 4
    rows = json.loads((settings.exports_dir / "raw" / ARCHIVE).read_text())[:1]
    newer = settings.exports_dir / "raw" / "project-7-20250103T120000Z.json"
    newer.write_text(json.dumps(rows))
    os.utime(newer, (2e9, 2e9))
    assert _card(_text(logged_in.get("/")), "tasks") == 1


def test_pages_do_not_wait_for_the_agreement_report(settings, password: str, monkeypatch) -> None:
    import threading

    from annotate import agreement

    release, real = threading.Event(), agreement.agreement_report

    def slow_report(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(agreement, "agreement_report", slow_report)
    app = create_app(settings, {"TESTING": True, "SECRET_KEY": "t", "REPORT_BOOTSTRAP": 20, "DATA_WAIT": True})
    client = app.test_client()
    login(client, LEAD, password)
    waiting = _text(client.get("/agreement"))
    assert 'id="computing"' in waiting and 'http-equiv="refresh"' in waiting
    assert _card(_text(client.get("/")), "open disagreements in 1 tasks") == 3  # gold does not need the report
    assert "appears once the\nreport is computed" in _text(client.get("/documents/"))
    release.set()
    app.extensions["annotate.data"].report(wait=True)
    ready = _text(client.get("/agreement"))
    assert 'id="computing"' not in ready and "20 replicates" in ready
    assert re.search(r'<td class="n">0.40</td>', _text(client.get("/documents/")))  # task 1's exact F1 is in


def test_new_data_loads_in_the_background(settings, password: str, monkeypatch) -> None:
    import threading

    from annotate.web import store as data_store

    release, real = threading.Event(), data_store.read_archive_tasks

    def slow_parse(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)
    monkeypatch.setattr(data_store, "read_archive_tasks", slow_parse)
    app = create_app(settings, {"TESTING": True, "SECRET_KEY": "t", "REPORT_WAIT": True})
    client = app.test_client()
    login(client, LEAD, password)
    first = client.get("/documents/")
    assert first.status_code == 503 and 'http-equiv="refresh"' in _text(first) and ARCHIVE in _text(first)
    release.set()
    store = app.extensions["annotate.data"]
    store.warm()  # waits for the read
    assert _card(_text(client.get("/")), "tasks") == 4
    # a newer pull: the previous data stays on screen, with a note, until the new one is read
    release.clear()
    newer = settings.exports_dir / "raw" / "project-7-20250103T120000Z.json"
    newer.write_text(json.dumps(json.loads((settings.exports_dir / "raw" / ARCHIVE).read_text())[:1]))
    os.utime(newer, (2e9, 2e9))
    stale = _text(client.get("/"))
    assert _card(stale, "tasks") == 4 and "Newer data is being read" in stale
    release.set()
    store.warm()
    assert _card(_text(client.get("/")), "tasks") == 1


def test_the_dashboards_pull_never_starts_the_embedded_server(settings) -> None:
    """What the Pull button runs in its worker: a stopped embedded server is a clear error, never started."""
    from annotate import pipeline
    from annotate.errors import LabelStudioError
    from annotate.labelstudio import server

    assert not settings.external and server.server_status(settings) is None
    with pytest.raises(LabelStudioError, match="not running"):
        pipeline.pull_lines(settings)
    assert server.server_status(settings) is None
