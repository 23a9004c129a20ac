"""Browser-tier fixtures and helpers: Debian's Chromium driven by Playwright, logged in to the live server.

Import what a test module needs (`from browser_fixtures import chromium, ls_login_state, ls_page, ...`);
pytest picks fixtures up from the importing module. Every wait is on a selector or a response, never a sleep.
The browser and the login are module-scoped, not session-scoped: a fixture imported into two modules is two
fixtures to pytest, and a second Playwright started while the first still runs fails ("Sync API inside the
asyncio loop"). Module scope closes one before the next starts, for about 2 s per module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
    """One headless Chromium per test module (Debian's binary; `playwright install` cannot download here)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package to run browser tests")
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
    """Open one task in the editor and wait until its text is rendered."""
    page.goto(f"{base_url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(".lsf-richtext__line")


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
