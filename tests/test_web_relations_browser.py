"""Relations in real headless Chromium: two annotators drew different relations, a lead settles the relation
disagreement on the dashboard by clicking, and the gold (gold.jsonl relations) and events.csv follow.

Screenshots go to test-artifacts/screenshots/dashboard-relation-*.png.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser_fixtures import SCREENSHOTS, TIMEOUT_MS
from test_web_relations import AMAL, BILAL, relation_rows
from web_fixtures import LEAD, make_project
from werkzeug.serving import make_server

from annotate.web import create_app
from annotate.web.users import ensure_users

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """The dashboard on a free 127.0.0.1 port over one task: amal drew ISIL -agent_of-> seized, bilal did not."""
    settings = make_project(tmp_path_factory.mktemp("rel") / "project", relation_rows())
    password = ensure_users(settings)[LEAD]
    app = create_app(settings, {"REPORT_BOOTSTRAP": 20})
    app.extensions["annotate.data"].warm()
    app.extensions["annotate.data"].report(wait=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}", password, settings.root
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(chromium: Any, dashboard: tuple[str, str, Path]) -> Iterator[Any]:
    url, password, _ = dashboard
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.foreign = []
    page.on("request", lambda r: None if r.url.startswith(url) or r.url.startswith("data:")
            else page.foreign.append(r.url))
    page.goto(url + "/login")
    page.fill("input[name=email]", LEAD)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("h1:has-text('Overview')")
    try:
        yield page
    finally:
        context.close()


AGENT = '[data-relation="0-4-ACTOR 5-11-OUTCOME agent_of"]'


def test_a_lead_changes_the_type_of_a_disputed_relation_and_gold_and_events_follow(page: Any, dashboard) -> None:
    url, _, root = dashboard
    page.goto(url + "/documents/1")
    block = page.locator(f"#disagreements .disagreement.relation{AGENT}")
    assert "ISIL —agent_of→ seized" in block.inner_text()
    assert f"drawn by {AMAL}; not by {BILAL}" in block.inner_text()
    assert page.locator(f".column.annotator li.diff{AGENT}").count() == 1  # amal's version, flagged
    assert "ISIL —target_of→ seized" in page.inner_text(".column.prediction")  # the model's relation
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-relation-open.png"), full_page=True)

    block.locator("select[name=new_label]").select_option("target_of")
    block.locator("button[value=change]").click()
    page.wait_for_selector(".flash.ok")
    assert "Recorded: change to target_of ISIL —agent_of→ seized." in page.inner_text(".flash.ok")
    assert page.locator("#disagreements .disagreement").count() == 0
    assert "Status adjudicated" in page.inner_text("main")
    decided = page.locator('.column.gold li.decided[data-relation="0-4-ACTOR 5-11-OUTCOME target_of"]')
    assert decided.inner_text() == "ISIL —target_of→ seized"
    page.screenshot(path=str(SCREENSHOTS / "dashboard-relation-decided.png"), full_page=True)

    [line] = [json.loads(x) for x in (root / "exports" / "decisions.jsonl").read_text().splitlines()]
    assert (line["kind"], line["action"], line["new_label"], line["by"]) == ("relation", "change", "target_of", LEAD)

    page.goto(url + "/exports")
    page.click("text=Build gold dataset")
    page.wait_for_selector(".flash")
    assert "Gold built in" in page.inner_text(".flash"), page.inner_text(".flash")
    latest = root / "exports" / "gold" / "latest"
    [gold] = [json.loads(x) for x in (latest / "gold.jsonl").read_text().splitlines()]
    assert sorted((r["from_id"], r["to_id"], r["label"]) for r in gold["relations"]) == [
        ("0-4-ACTOR", "5-11-OUTCOME", "target_of"), ("5-11-OUTCOME", "12-19-LOCATION", "located_at")]
    assert (gold["status"], gold["open_disagreements"]) == ("adjudicated", 0)
    [event] = pd.read_csv(latest / "events.csv", keep_default_na=False).to_dict("records")
    assert (event["outcome"], event["agent_of"], event["located_at"]) == ("seized", "", "Palmyra")
    assert "ISIL" in event["target_of"]
    assert page.foreign == []
