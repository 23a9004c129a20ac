"""UI smoke tests: what an annotator sees after the seeds are pre-annotated and pushed.

Screenshots go to test-artifacts/screenshots/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from browser_fixtures import (
    highlight_texts,
    open_task,
    project_settings,
    screenshot,
)

from annotate.guidelines import load_guidelines
from annotate.labelstudio.project import ProjectRef
from annotate.pipeline import preannotate_inputs, push
from annotate.records import Document
from annotate.schema import load_schema

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@dataclass(frozen=True)
class Seeded:
    project: ProjectRef
    docs: list[Document]
    task_ids: dict[str, int]
    guidelines_version: str
    label_names: list[str]


@pytest.fixture(scope="module")
def seeded(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The demo path: the seed articles pre-annotated by the real pipeline and pushed to a project of their own."""
    settings = project_settings(live_server, tmp_path_factory.mktemp("browser-ui"), "browser ui")
    docs, _ = preannotate_inputs(settings, [settings.seeds_dir])
    project, report = push(settings, docs)
    return Seeded(project, docs, report.task_ids, load_guidelines(settings.guidelines_dir).version,
                  load_schema(settings.guidelines_dir).label_names)


def test_seed_task_shows_every_predicted_span(seeded: Seeded, live_server: Any, ls_page: Any) -> None:
    doc = seeded.docs[0]
    assert doc.spans, "the first seed should have predicted spans"
    open_task(ls_page, live_server.url, seeded.project.id, seeded.task_ids[doc.id])
    ls_page.wait_for_selector(".htx-highlight")
    screenshot(ls_page, "ui-seed-task")
    texts = highlight_texts(ls_page)
    assert len(texts) > 0
    assert sorted(texts) == sorted(span.text for span in doc.spans)


def test_labelling_stream_opens_with_the_instructions(seeded: Seeded, live_server: Any,
                                                      ls_page: Any) -> None:
    """Entering the stream pops up the project's expert_instruction: the guidelines with their version."""
    ls_page.goto(f"{live_server.url}/projects/{seeded.project.id}/data?labeling=1")
    body = ls_page.locator(".lsf-modal-ls__body")
    body.wait_for()
    screenshot(ls_page, "ui-stream-instructions")
    shown = body.inner_text()
    assert f"Guidelines version {seeded.guidelines_version}" in shown
    assert all(name in shown for name in seeded.label_names)


def test_labelling_stream_task_is_prefilled_after_closing_the_instructions(seeded: Seeded, live_server: Any,
                                                                            ls_page: Any) -> None:
    ls_page.goto(f"{live_server.url}/projects/{seeded.project.id}/data?labeling=1")
    ls_page.locator(".lsf-modal-ls__body").wait_for()
    ls_page.keyboard.press("Escape")
    ls_page.locator(".lsf-modal-ls__body").wait_for(state="hidden")
    ls_page.wait_for_selector(".htx-highlight")
    screenshot(ls_page, "ui-stream-task")
    shown = ls_page.locator(".lsf-richtext__container").inner_text()
    doc = next(d for d in seeded.docs if d.text.split("\n")[0] in shown)  # whichever task the stream handed out
    assert sorted(highlight_texts(ls_page)) == sorted(span.text for span in doc.spans)


def test_instructions_keep_label_colours_and_bullets_in_label_studio(seeded: Seeded, live_server: Any,
                                                                    ls_page: Any) -> None:
    """In Label Studio's own instructions pop-up (after its bleach cleaning, in real Chromium), the example spans
    keep their label colours and lists their bullets: they come from the scoped <style> block, not style=."""
    ls_page.goto(f"{live_server.url}/projects/{seeded.project.id}/data?labeling=1")
    body = ls_page.locator(".lsf-modal-ls__body")
    body.wait_for()
    mark = body.locator("mark.span-outcome").first
    mark.scroll_into_view_if_needed()
    screenshot(ls_page, "ui-instructions-colours")
    assert mark.get_attribute("style") is None  # Label Studio stripped the inline style...
    background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background == "rgba(44, 160, 44, 0.2)", background  # ...and OUTCOME's #2ca02c33 still shows
    bullet = body.locator("ul > li").first.evaluate("li => getComputedStyle(li).listStyleType")
    assert bullet == "disc"
