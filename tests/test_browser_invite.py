"""An account made by `annotate annotators invite` logs in, in real Chromium, with the password it printed, and
reaches the project's labelling stream through the "Label All Tasks" button of the Data Manager; there it fixes
a pre-annotated span as guidelines/ANNOTATORS.md says (click it, Backspace, draw it again) and submits.

Measured on Label Studio 1.23.2: Backspace deletes the selected region (the editor's `region:delete` hotkey).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import (
    browser_page,
    drag_over,
    highlight_texts,
    is_next_task,
    log_in,
    press_label,
    project_settings,
    screenshot,
    submit_by_test_id,
    wait_editor_ready,
)
from click.testing import CliRunner

from annotate.cli import main
from annotate.pipeline import push
from annotate.records import Document, Span

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PRINTED = re.compile(r"^(\S+): account made, password (\S+) \(shown once; log in at (\S+)\)$")


def test_an_invited_annotator_logs_in_with_the_printed_password_and_reaches_label_all_tasks(
        chromium: Any, live_server: Any, tmp_path: Path) -> None:
    settings = project_settings(live_server, tmp_path / "project", "invite-browser")
    text = "Rebels seized the bridge on Monday."
    wrong = Span(0, 13, "ACTOR", "Rebels seized")  # a pre-annotation with a boundary to fix
    project, report = push(settings, [Document("doc-invite", text, (wrong,), model_version="invite-test")])
    email = f"carla-{uuid.uuid4().hex[:6]}@annotators.test"
    run = CliRunner().invoke(main, ["--root", str(settings.root), "--url", live_server.url, "--api-key",
                                    live_server.token, "annotators", "invite", email],
                             env={"ANNOTATE_PROJECT_TITLE": settings.project_title}, catch_exceptions=False)
    assert run.exit_code == 0, run.output
    printed = PRINTED.match(run.stdout.strip())
    assert printed, run.stdout
    assert printed.group(1) == email and printed.group(3) == f"{live_server.url}/user/login/"

    with browser_page(chromium) as page:
        log_in(page, live_server.url, email, printed.group(2))
        assert page.request.get(f"{live_server.url}/api/current-user/whoami").json()["email"] == email
        page.goto(f"{live_server.url}/projects/{project.id}/data")
        try:
            with page.expect_response(is_next_task) as handed:
                page.get_by_text("Label All Tasks").click()
            page.locator(".lsf-modal-ls__body").wait_for()  # the project's instructions pop up first
            page.keyboard.press("Escape")
            wait_editor_ready(page)
            assert highlight_texts(page) == ["Rebels seized"]
            page.locator(".htx-highlight", has_text="Rebels seized").click()
            page.keyboard.press("Backspace")
            page.wait_for_function("() => document.querySelectorAll('.htx-highlight').length === 0")
            press_label(page, "a", "ACTOR")
            drag_over(page, "Rebels")
            page.locator(".htx-highlight", has_text="Rebels").wait_for()
            stored = submit_by_test_id(page)
        except Exception:
            screenshot(page, "invite-label-all-tasks")
            raise
        assert "labeling=1" in page.url
        assert int(handed.value.json()["id"]) == report.task_ids["doc-invite"]
    assert [(r["value"]["start"], r["value"]["end"], r["value"]["labels"]) for r in stored["result"]] == \
        [(0, 6, ["ACTOR"])]
