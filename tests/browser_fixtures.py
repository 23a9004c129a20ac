"""Browser-tier fixtures and helpers: Debian's Chromium driven by Playwright, logged in to the live server.

Its fixtures (`chromium`, `ls_login_state`, `ls_page`) are registered once, as a plugin in conftest.py; test modules
import only the helpers. Every wait is on a selector or a response, never a sleep. The browser and the login are
module-scoped, not session-scoped: a second Playwright started while the first still runs fails ("Sync API inside
the asyncio loop"), and module scope closes one before the next module's starts, for about 2 s per module.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool

from annotate.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (runs as root in containers), and nothing that would phone home from an offline machine.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
TIMEOUT_MS = 30_000  # generous: the suite shares 2 cores with a Label Studio server
VIEWPORT = {"width": 1400, "height": 900}

# The bounding box of the first occurrence of `word` inside one text node of the editor's text.
WORD_BOX_JS = """(word) => {
  const root = document.querySelector('.lsf-richtext__container');
  if (!root) return null;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(word);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    const box = range.getBoundingClientRect();
    return {x: box.x, y: box.y, width: box.width, height: box.height};
  }
  return null;
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module (Debian's binary; `playwright install` cannot download here).
    Without either, the tier fails under CI and skips elsewhere (conftest.require_tool)."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None  # type: ignore[assignment]
    require_tool("playwright", sync_api, "pip install -r requirements.txt (make install does)")
    require_tool("chromium", CHROMIUM.exists(), f"apt-get install chromium (make test does; looked for {CHROMIUM})")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def ls_login_state(chromium: Any, live_server: Any) -> dict[str, Any]:
    """Log in once through the real login form; later pages reuse the session cookies."""
    context = chromium.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{live_server.url}/user/login/")
        page.fill("input[name=email]", live_server.email)
        page.fill("input[name=password]", live_server.password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/user/login" not in url)
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def ls_page(chromium: Any, ls_login_state: dict[str, Any]) -> Iterator[Any]:
    """A fresh, logged-in browser page (own context, so no state leaks between tests)."""
    context = chromium.new_context(viewport=VIEWPORT, storage_state=ls_login_state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


def project_settings(live_server: Any, root: Path, title_prefix: str) -> Settings:
    """Settings for a project of its own on the live server, under a root that has the real guidelines and seeds."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("guidelines", "seeds"):
        if not (root / name).exists():
            (root / name).symlink_to(PROJECT_ROOT / name, target_is_directory=True)
    return live_server.settings(root=root, project_title=f"{title_prefix} {uuid.uuid4().hex[:8]}")


def open_task(page: Any, base_url: str, project_id: int, task_id: int) -> None:
    """Open one task in the editor and wait until it is ready (the editor renders twice: a label picked during the
    first render is lost, see wait_editor_ready)."""
    page.goto(f"{base_url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(".lsf-richtext__line")
    wait_editor_ready(page)


def select_label(page: Any, name: str) -> None:
    """Pick the label to draw with and wait until the editor shows it selected (a hotkey pressed too early is lost)."""
    page.locator(".lsf-label", has_text=name).first.click()
    page.locator(".lsf-label_selected", has_text=name).wait_for()


def word_box(page: Any, word: str) -> dict[str, float]:
    """Screen box of `word` in the editor's text; fails if the word is not rendered in one text node."""
    box = page.evaluate(WORD_BOX_JS, word)
    assert box, f"{word!r} not found in the editor's text"
    return box


def drag_over(page: Any, word: str) -> None:
    """Select `word` with the mouse, as an annotator does: press at its left edge, release at its right edge."""
    box = word_box(page, word)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, y, steps=3)
    page.mouse.move(box["x"] + box["width"] - 1, y, steps=3)
    page.mouse.up()


def highlight_texts(page: Any) -> list[str]:
    """Text of every rendered region highlight, in document order."""
    return page.eval_on_selector_all(".htx-highlight", "els => els.map(e => e.textContent)")


def submit_annotation(page: Any) -> dict[str, Any]:
    """Click Submit and wait until the server has stored the annotation; returns the stored annotation."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/annotations" in r.url
                              and r.status == 201) as created:
        page.get_by_role("button", name="Submit").click()
    return created.value.json()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-window screenshot under test-artifacts/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# Annotators: real members of the organisation, each in a browser context of their own.
# Established on Label Studio 1.23.2: the invite link (`GET /api/invite`, then `/user/signup/?token=...`) makes a
# member who can log in, and the signup form logs the new member straight in. `POST /api/users/` makes a user
# without a password, and `label-studio reset_password` then takes about 12 s (Django start-up, plus a PyPI
# version check unless LABEL_STUDIO_LATEST_VERSION_CHECK=false is set): the invite is the quick, real path.

@dataclass(frozen=True)
class Annotator:
    """A member who signed up through the invite link; `state` is a session opened through the login form."""

    email: str
    user_id: int
    state: dict[str, Any] = field(repr=False)


def log_in(page: Any, base_url: str, email: str, password: str) -> None:
    """Log in through Label Studio's login form, as a person does."""
    page.goto(f"{base_url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/user/login" not in url)


def sign_up_annotator(chromium: Any, base_url: str, admin_state: dict[str, Any], email: str) -> Annotator:
    """Sign `email` up through the organisation's invite link, then log in afresh with the new password."""
    password = secrets.token_urlsafe(12)  # never printed; the session in `state` is all a test needs
    with browser_page(chromium, admin_state) as admin:
        invite = admin.request.get(f"{base_url}/api/invite").json()["invite_url"]
    with browser_page(chromium) as page:
        page.goto(f"{base_url}{invite}")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/user/signup" not in url)
    with browser_page(chromium) as page:
        log_in(page, base_url, email, password)
        me = page.request.get(f"{base_url}/api/current-user/whoami").json()
        assert me["email"] == email, f"logged in as {me['email']!r}, not {email!r}"
        return Annotator(email, int(me["id"]), page.context.storage_state())


@contextmanager
def browser_page(chromium: Any, state: dict[str, Any] | None = None) -> Iterator[Any]:
    """A page in a context of its own (a person's own browser), closed afterwards."""
    context = chromium.new_context(viewport=VIEWPORT, storage_state=state)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


# The Data Manager renders the editor twice: first under a loading overlay (`.lsf-label-view_loading`), then it
# tears it down (`.ant-spin-spinning`, no text) and renders it again once the task has loaded. A label picked in
# the first editor is gone in the second, so the drag after it draws nothing. Measured timeline: overlay on,
# text on, overlay off and text off with the spinner, text on: only the last state has text and neither marker.
EDITOR_READY_JS = """() => !!document.querySelector('.lsf-richtext__line')
  && !document.querySelector('.lsf-label-view_loading') && !document.querySelector('.ant-spin-spinning')"""


def wait_editor_ready(page: Any) -> None:
    """Wait until the editor shows the task's text and nothing is loading any more (see EDITOR_READY_JS)."""
    page.wait_for_function(EDITOR_READY_JS)


def open_task_ready(page: Any, base_url: str, project_id: int, task_id: int) -> None:
    """Open one task in the editor (as `open_task`) and wait until the editor is ready for labels and hotkeys."""
    open_task(page, base_url, project_id, task_id)
    wait_editor_ready(page)


def press_label(page: Any, hotkey: str, name: str) -> None:
    """Pick the label to draw with by its hotkey and wait until the editor shows it selected."""
    page.keyboard.press(hotkey)
    page.locator(".lsf-label_selected", has_text=name).wait_for()


def drag_across(page: Any, first: str, last: str) -> None:
    """Select from the left edge of word `first` to the right edge of word `last`, as one mouse drag."""
    a, b = word_box(page, first), word_box(page, last)
    page.mouse.move(a["x"] + 1, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=4)
    page.mouse.move(b["x"] + b["width"] - 1, b["y"] + b["height"] / 2, steps=3)
    page.mouse.up()


def wait_for_highlights(page: Any, count: int) -> None:
    """Wait until the editor renders at least `count` region highlights."""
    page.wait_for_function("n => document.querySelectorAll('.htx-highlight').length >= n", arg=count)


def is_next_task(response: Any) -> bool:
    # The labelling stream asks for its next task with this Data Manager action (not GET /api/projects/{id}/next).
    return response.request.method == "POST" and "/api/dm/actions" in response.url and "id=next_task" in response.url


def enter_stream(page: Any, base_url: str, project_id: int) -> int:
    """Open the labelling stream ("Label All Tasks"), close the instructions pop-up; the id of the task handed out."""
    with page.expect_response(is_next_task) as handed:
        page.goto(f"{base_url}/projects/{project_id}/data?labeling=1")
    page.locator(".lsf-modal-ls__body").wait_for()
    page.keyboard.press("Escape")
    page.locator(".lsf-modal-ls__body").wait_for(state="hidden")
    wait_editor_ready(page)
    return int(handed.value.json()["id"])


def skip_task(page: Any) -> tuple[dict[str, Any], int]:
    """Press Skip in the stream: the cancelled annotation the server stored, and the id of the next task handed out."""
    with page.expect_response(is_next_task) as handed, page.expect_response(
            lambda r: r.request.method == "POST" and "/annotations" in r.url and r.status == 201) as skipped:
        page.locator("[data-testid=bottombar-skip-button]").click()
    return skipped.value.json(), int(handed.value.json()["id"])


def open_from_data_manager(page: Any, base_url: str, project_id: int, row_text: str) -> None:
    """Click the Data Manager row showing `row_text` and wait until the editor shows the task's regions."""
    page.goto(f"{base_url}/projects/{project_id}/data")
    page.locator("[data-testid=table-row]", has_text=row_text).click()
    wait_editor_ready(page)


def update_annotation(page: Any) -> dict[str, Any]:
    """Press Update (shown instead of Submit on a stored annotation); returns the annotation the server saved."""
    # The button's accessible name is "submit" (aria-label), whatever it shows: find it by its test id.
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/api/annotations/" in r.url
                              and r.status == 200) as saved:
        page.locator("[data-testid=bottombar-update-button]:not([disabled])").click()
    return saved.value.json()


def submit_by_test_id(page: Any) -> dict[str, Any]:
    """Submit, anywhere: in the stream a "Submit annotation" dropdown sits beside Submit, so the role name of
    `submit_annotation` matches two buttons there. Returns the stored annotation."""
    with page.expect_response(lambda r: r.request.method == "POST" and "/annotations" in r.url
                              and r.status == 201) as created:
        page.locator("[data-testid=bottombar-submit-button]").click()
    return created.value.json()
