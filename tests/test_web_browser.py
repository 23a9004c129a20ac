"""The dashboard in real headless Chromium: log in, open the worst disagreement, settle it, see the gold change.

Screenshots of every page go to test-artifacts/screenshots/dashboard-*.png.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import SCREENSHOTS, TIMEOUT_MS
from web_fixtures import LEAD, busy_rows, make_project
from werkzeug.serving import make_server

from annotate.web import create_app
from annotate.web.users import ensure_users

pytestmark = pytest.mark.browser


class Dashboard:
    def __init__(self, url: str, password: str, root: Path):
        self.url, self.password, self.root = url, password, root


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The dashboard on a free 127.0.0.1 port, in a thread, over 64 tasks by three annotators."""
    settings = make_project(tmp_path_factory.mktemp("dash") / "project", busy_rows())
    password = ensure_users(settings)[LEAD]
    app = create_app(settings, {"REPORT_BOOTSTRAP": 50})
    app.extensions["annotate.data"].warm()  # as `annotate serve` does in the background
    app.extensions["annotate.data"].report(wait=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Dashboard(f"http://127.0.0.1:{server.port}", password, settings.root)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def session_state(chromium: Any, dashboard: Dashboard) -> dict[str, Any]:
    """Log in once through the form (screenshot of the login page); reuse the cookie afterwards."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(dashboard.url + "/")
        assert "/login" in page.url
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-login.png"))
        page.fill("input[name=email]", LEAD)
        page.fill("input[name=password]", dashboard.password)
        page.click("form.login button[type=submit]")
        page.wait_for_selector("h1:has-text('Overview')")
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def page(chromium: Any, dashboard: Dashboard, session_state: dict[str, Any]) -> Iterator[Any]:
    """A logged-in page that records requests to other hosts and script dialogs."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, storage_state=session_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.foreign = []
    page.dialogs = []
    page.on("request", lambda r: None if r.url.startswith(dashboard.url) or r.url.startswith("data:")
            else page.foreign.append(r.url))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        yield page
    finally:
        context.close()


def _open_count(page: Any) -> int:
    return page.locator("#disagreements .disagreement").count()


def test_settle_the_worst_disagreement(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url + "/")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-overview.png"), full_page=True)
    page.click("#worst")
    page.wait_for_selector("#disagreements")
    before = _open_count(page)
    assert before >= 1
    page.screenshot(path=str(SCREENSHOTS / "dashboard-document.png"), full_page=True)
    first = page.locator("#disagreements .disagreement").first
    key = first.get_attribute("data-span")
    start, end, label = key.split("-")
    first.locator("button[value=accept]").click()
    page.wait_for_selector(".flash.ok")
    assert "Recorded: accept" in page.inner_text(".flash.ok")
    assert page.locator(f'#disagreements [data-span="{key}"]').count() == 0
    assert _open_count(page) == before - 1
    decided = page.locator(f'.column.gold mark.decided[title*="{label} {start}–{end}"]')
    assert decided.count() >= 1
    page.locator("#disagreements").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-document-decided.png"), full_page=True)
    left = before - 1  # the other disagreements of the task are still open
    assert (f"Status in adjudication ({left} open)" if left else "Status adjudicated") in page.inner_text("main")
    assert page.foreign == []


def test_choose_between_versions(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url + "/documents/1")
    page.click('[data-span="14-19-LOCATION"] button[value=choose]')
    page.wait_for_selector(".flash.ok")
    assert page.locator('.column.gold mark.decided[title="LOCATION 14–19"]').inner_text() == "IdlibLOCATION"
    assert page.locator('.column.gold mark[title*="14–22"]').count() == 0
    assert page.locator('#disagreements [data-span^="14-"]').count() == 0


def test_article_script_is_shown_as_text_not_run(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url + "/documents/2")
    assert "<script>alert(1)</script>" in page.inner_text(".column.gold .text")
    assert page.dialogs == []


@pytest.mark.parametrize(("name", "path", "heading"), [
    ("agreement", "/agreement", "Agreement"),
    ("model", "/model", "Model vs human"),
    ("documents", "/documents/", "Documents"),
    ("guidelines", "/guidelines", "Annotation guidelines"),
])
def test_page_renders_with_local_assets_only(page: Any, dashboard: Dashboard, name: str, path: str,
                                             heading: str) -> None:
    page.goto(dashboard.url + path)
    assert page.inner_text("h1").startswith(heading)
    assert page.evaluate("getComputedStyle(document.body).fontFamily")  # the local stylesheet applied
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=name != "guidelines")
    assert page.foreign == []


def test_build_and_download_exports(page: Any, dashboard: Dashboard) -> None:
    page.goto(dashboard.url + "/exports")
    page.click("text=Build gold dataset")
    page.wait_for_selector(".flash")
    assert "Gold built in" in page.inner_text(".flash") or "quality gate" in page.inner_text(".flash")
    assert page.locator("a[href='/exports/files/latest/gold.jsonl']").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "dashboard-exports.png"), full_page=True)
    with page.expect_download() as info:
        page.click("a[href='/exports/files/latest/gold.jsonl']")
    assert info.value.suggested_filename == "gold.jsonl"
