"""An account made by `annotate annotators invite` logs in, in real Chromium, with the password it printed, and
reaches the project's labelling stream through the "Label All Tasks" button of the Data Manager."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import browser_page, is_next_task, log_in, project_settings, screenshot, wait_editor_ready
from click.testing import CliRunner

from annotate.cli import main
from annotate.pipeline import push
from annotate.records import Document

pytestmark = [pytest.mark.browser, pytest.mark.integration]
PRINTED = re.compile(r"^(\S+): account made, password (\S+) \(shown once; log in at (\S+)\)$")


def test_an_invited_annotator_logs_in_with_the_printed_password_and_reaches_label_all_tasks(
        chromium: Any, live_server: Any, tmp_path: Path) -> None:
    settings = project_settings(live_server, tmp_path / "project", "invite-browser")
    project, report = push(settings, [Document("doc-invite", "Rebels seized the bridge on Monday.", ())])
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
        except Exception:
            screenshot(page, "invite-label-all-tasks")
            raise
        assert "labeling=1" in page.url
        assert int(handed.value.json()["id"]) == report.task_ids["doc-invite"]
        assert "Rebels seized the bridge" in page.locator(".lsf-richtext__container").inner_text()
