"""What real annotators do in Label Studio's editor, and what the tool makes of it after `pull`.

Two annotators sign up through the organisation's invite link and each works in a browser context of their own,
with the mouse and the label hotkeys. Each test then runs the tool's real path (pipeline.pull, build_gold,
export_gold) against what Label Studio stored. The stored annotations are printed, so a failure shows them.

What we learned from Label Studio 1.23.2 in Chromium (community edition):
- Accounts: `GET /api/invite` gives `/user/signup/?token=...`; its form (email, password) makes a member of the
  organisation and logs them straight in. `POST /api/users/` makes a user with no password and no active
  organisation; `label-studio reset_password` can set one but takes about 12 s and checks PyPI unless told not to.
- Opening a task: `/projects/{id}/data?task=N` renders the editor twice (first under `.lsf-label-view_loading`,
  then torn down and rebuilt once the task has loaded); a label picked in the first is lost and the next drag
  draws nothing, about one run in three here. `wait_editor_ready` waits for the second.
- Relations: select a region (click its highlight), press "Create Relation" (aria-label) in the region's
  details panel, click the other region. The relation then lists under the "Relations" panel tab
  (`.lsf-relations__item`). Submitted without a type it is stored as `{"from_id", "to_id", "type": "relation",
  "direction": "right"}`: no `labels` key at all, not `labels: []`.
- Overlaps: a drag that starts on plain text and ends inside an existing highlight draws a second, overlapping
  span without a warning; the nested highlights both render. Nothing prevents even an exact duplicate span.
- Skip: the stream (`?labeling=1`) asks for its task with `POST /api/dm/actions?id=next_task` (not
  `/api/projects/{id}/next`). Skip (`[data-testid=bottombar-skip-button]`, aria-label "skip-task") POSTs an
  annotation with `was_cancelled: true` and the regions drawn so far, then hands out the next task. A skipped
  task goes back to the queue for the others (the default skip queue): the next annotator is handed it.
- Editing a colleague's work: a Data Manager row (`[data-testid=table-row]`) opens the task on the existing
  annotation, its tab still naming the author (`.lsf-annotation-button`). Any change enables Update
  (`[data-testid=bottombar-update-button]`, whose accessible name is "submit"), which PATCHes
  `/api/annotations/{id}`: `completed_by` stays the author, `updated_by` becomes the editor; `last_action` and
  `last_created_by` stay null and the History tab and `/api/fsm/entities/annotation/{id}/history` are empty.
  So `updated_by != completed_by` is the only trace of the edit.
- Drafts: a change not (yet) saved is autosaved as the editor's draft of that annotation
  (`POST /api/tasks/{task}/annotations/{id}/drafts`) and comes back when the editor reopens the task. The task
  API lists only the requesting user's drafts (tasks/serializers.py get_drafts), so a pull with the admin's
  token sees none of the annotators' drafts.
- Submit: in the stream a "Submit annotation" dropdown (`bottombar-submit-dropdown`) sits beside Submit, so a
  role-name lookup for "Submit" matches two buttons there; `submit_by_test_id` clicks `bottombar-submit-button`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from browser_fixtures import (
    Annotator,
    browser_page,
    drag_across,
    drag_over,
    enter_stream,
    highlight_texts,
    open_from_data_manager,
    open_task_ready,
    press_label,
    project_settings,
    screenshot,
    select_label,
    sign_up_annotator,
    skip_task,
    submit_annotation,
    submit_by_test_id,
    update_annotation,
    wait_for_highlights,
)

from annotate.agreement import agreement_report
from annotate.config import Settings
from annotate.export import ExportResult, export_gold
from annotate.gold.adjudicate import build_gold
from annotate.pipeline import PullResult, describe_source, pull, push
from annotate.records import Document
from annotate.schema import load_schema

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TEXT = "Rebels seized {place} yesterday after government troops withdrew from the town."


@pytest.fixture(scope="module")
def annotators(chromium: Any, live_server: Any, ls_login_state: dict[str, Any]) -> tuple[Annotator, Annotator]:
    """Two members of the organisation, signed up through the invite link and logged in through the form."""
    tag = uuid.uuid4().hex[:6]
    return tuple(sign_up_annotator(chromium, live_server.url, ls_login_state, f"{name}-{tag}@annotators.test")
                 for name in ("anna", "ben"))  # type: ignore[return-value]


def new_project(live_server: Any, tmp_path: Path, places: list[str]) -> tuple[Settings, int, dict[str, int]]:
    """A project of its own with one plain task (no pre-annotation) per place: settings, project id, task ids."""
    settings = project_settings(live_server, tmp_path / "project", "annotators")
    docs = [Document(f"doc-{place.lower()}", TEXT.format(place=place), ()) for place in places]
    project, report = push(settings, docs)
    return settings, project.id, report.task_ids


def show(what: str, stored: dict[str, Any]) -> None:
    """Print what Label Studio stored (pytest shows it when the test fails)."""
    print(f"--- {what}:\n{json.dumps(stored, indent=1, ensure_ascii=False)}")


def export(settings: Settings, pulled: PullResult) -> tuple[ExportResult, list[dict[str, Any]], list[dict[str, Any]]]:
    """export_gold on the pulled tasks: the result, gold.jsonl rows and problems.jsonl rows."""
    result = export_gold(pulled.tasks, settings, source=describe_source(pulled.stats.path))
    rows = [json.loads(line) for line in (result.folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    problems = [json.loads(x) for x in (result.folder / "problems.jsonl").read_text(encoding="utf-8").splitlines()]
    print("--- problems.jsonl:", *problems, sep="\n")
    return result, rows, problems


def test_a_relation_submitted_without_a_type_is_quarantined_and_the_spans_reach_the_gold(
        annotators: tuple[Annotator, Annotator], live_server: Any, chromium: Any, tmp_path: Path) -> None:
    anna, _ = annotators
    settings, project_id, ids = new_project(live_server, tmp_path, ["Kidal"])
    task_id = ids["doc-kidal"]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project_id, task_id)
        select_label(page, "ACTOR")  # the mouse for one label, the hotkey for the other
        drag_over(page, "Rebels")
        wait_for_highlights(page, 1)
        press_label(page, "o", "OUTCOME")
        drag_over(page, "seized")
        wait_for_highlights(page, 2)
        page.locator(".htx-highlight", has_text="Rebels").click()
        page.get_by_role("button", name="Create Relation").click()
        page.locator(".htx-highlight", has_text="seized").click()
        page.locator(".lsf-panel-tabs__tab", has_text="Relations").first.click()
        page.locator(".lsf-relations__item").wait_for()  # drawn; its "..." type menu never opened
        screenshot(page, "annotators-untyped-relation")
        stored = submit_annotation(page)
    show("annotation with an untyped relation", stored)
    (link,) = [item for item in stored["result"] if item["type"] == "relation"]
    assert not link.get("labels"), "the relation was meant to be stored without a type"

    pulled = pull(settings)  # must not raise
    found = [q for q in pulled.quarantine if q.task_id == task_id and q.scope == "relation"]
    assert [(q.annotator, q.annotation_id) for q in found] == [(anna.email, stored["id"])], pulled.quarantine
    assert "relation" in found[0].reason and f"task {task_id}" in found[0].reason
    # The pull already left the relation out, so the export has nothing to gate on (`annotate export` passes the
    # pull's quarantine notes too, and then exits 3 with the files written).
    _, rows, _ = export(settings, pulled)
    (row,) = [r for r in rows if r["task_id"] == task_id]
    assert sorted((s["text"], s["label"]) for s in row["spans"]) == [("Rebels", "ACTOR"), ("seized", "OUTCOME")]
    assert row["relations"] == [] and row["annotators"] == [anna.email]


def test_an_overlapping_span_is_reported_naming_the_annotator_and_the_task(
        annotators: tuple[Annotator, Annotator], live_server: Any, chromium: Any, tmp_path: Path) -> None:
    anna, _ = annotators
    settings, project_id, ids = new_project(live_server, tmp_path, ["Gao"])
    task_id = ids["doc-gao"]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project_id, task_id)
        press_label(page, "o", "OUTCOME")
        drag_across(page, "troops", "withdrew")
        wait_for_highlights(page, 1)
        press_label(page, "a", "ACTOR")
        drag_across(page, "government", "troops")  # ends inside the OUTCOME: Label Studio says nothing
        wait_for_highlights(page, 2)
        screenshot(page, "annotators-overlap")
        stored = submit_annotation(page)
    show("annotation with overlapping spans", stored)
    assert sorted(r["value"]["text"] for r in stored["result"]) == ["government troops", "troops withdrew"]

    _, _, problems = export(settings, pull(settings))
    found = [p for p in problems if p["kind"] == "overlapping_spans"]
    assert len(found) == 1, problems
    assert found[0]["where"] == f"task {task_id}"
    assert anna.email in found[0]["message"] and f"annotation {stored['id']}" in found[0]["message"]


def test_a_skipped_task_counts_for_neither_gold_nor_agreement_and_the_next_task_is_handed_out(
        annotators: tuple[Annotator, Annotator], live_server: Any, chromium: Any, tmp_path: Path) -> None:
    anna, ben = annotators
    settings, project_id, ids = new_project(live_server, tmp_path, ["Menaka", "Timbuktu"])
    with browser_page(chromium, ben.state) as page:
        first = enter_stream(page, live_server.url, project_id)
        place = next(p for p in ("Menaka", "Timbuktu") if ids[f"doc-{p.lower()}"] == first)
        press_label(page, "l", "LOCATION")  # starts, then thinks better of it and skips
        drag_over(page, place)
        wait_for_highlights(page, 1)
        skipped, handed = skip_task(page)
        other = next(p for p in ("Menaka", "Timbuktu") if p != place)
        page.locator(".lsf-richtext__container", has_text=other).wait_for()
        screenshot(page, "annotators-after-skip")
    show("skipped annotation", skipped)
    assert skipped["was_cancelled"] is True and skipped["task"] == first
    assert handed != first and handed in ids.values()

    with browser_page(chromium, anna.state) as page:
        assert enter_stream(page, live_server.url, project_id) == first  # the skipped task is back in the queue
        press_label(page, "a", "ACTOR")
        drag_over(page, "Rebels")
        wait_for_highlights(page, 1)
        submitted = submit_by_test_id(page)
    show("submitted annotation", submitted)

    pulled = pull(settings)
    task = next(t for t in pulled.tasks if t.task_id == first)
    assert sorted((a.annotator, a.cancelled) for a in task.annotations) == [(anna.email, False), (ben.email, True)]
    assert [a.annotator for a in task.completed] == [anna.email]
    gold = next(g for g in build_gold(pulled.tasks, [], load_schema(settings.guidelines_dir)).tasks
                if g.task_id == first)
    assert (gold.status, gold.annotators, [(s.text, s.label) for s in gold.spans]) == \
        ("single", (anna.email,), [("Rebels", "ACTOR")])
    data = agreement_report(pulled.tasks, load_schema(settings.guidelines_dir), bootstrap=0)["data"]
    assert (data["annotators"], data["n_tasks_shared"]) == ([anna.email], 0)


def test_an_edit_of_a_colleagues_annotation_is_reported_and_not_counted_as_the_editors(
        annotators: tuple[Annotator, Annotator], live_server: Any, chromium: Any, tmp_path: Path) -> None:
    anna, ben = annotators
    settings, project_id, ids = new_project(live_server, tmp_path, ["Kidal"])
    task_id = ids["doc-kidal"]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project_id, task_id)
        press_label(page, "a", "ACTOR")
        drag_over(page, "Rebels")
        wait_for_highlights(page, 1)
        press_label(page, "o", "OUTCOME")
        drag_over(page, "seized")
        wait_for_highlights(page, 2)
        submitted = submit_annotation(page)
    show("author's annotation", submitted)

    with browser_page(chromium, ben.state) as page:
        open_from_data_manager(page, live_server.url, project_id, "doc-kidal")
        wait_for_highlights(page, 2)
        tabs = page.locator(".lsf-annotation-button img[alt]")
        assert [alt.upper() for alt in tabs.evaluate_all("els => els.map(e => e.alt)")] == [anna.email.upper()]
        assert sorted(highlight_texts(page)) == ["Rebels", "seized"]  # landed on anna's annotation
        press_label(page, "l", "LOCATION")
        drag_over(page, "Kidal")
        wait_for_highlights(page, 3)
        screenshot(page, "annotators-edited-by-other")  # ben's LOCATION on the tab that names anna
        updated = update_annotation(page)
    show("annotation after the colleague's Update", updated)
    assert updated["id"] == submitted["id"]
    assert (updated["completed_by"], updated["updated_by"]) == (anna.user_id, ben.user_id)

    pulled = pull(settings)
    (ann,) = next(t for t in pulled.tasks if t.task_id == task_id).completed
    assert ann.annotator == anna.email  # the author stays the author
    _, rows, problems = export(settings, pulled)
    (row,) = [r for r in rows if r["task_id"] == task_id]
    assert ben.email not in row["annotators"]
    found = [p for p in problems if p["kind"] == "edited_by_other"]
    assert len(found) == 1, f"no edited_by_other problem; problems.jsonl: {problems}"
    message = found[0]["where"] + " " + found[0]["message"]
    assert f"task {task_id}" in message and f"annotation {submitted['id']}" in message
    assert anna.email in message and ben.email in message
