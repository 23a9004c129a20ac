"""Relations in Label Studio 1.23.2's editor, driven in real Chromium like an annotator, then pulled by the tool.

What we learned (see also annotate/labelstudio/labelconfig.py):
- A prediction's relation items (`{"type": "relation", "from_id", "to_id", "direction": "right", "labels": [t]}`,
  ids of the prediction's regions, e.g. "23-27-ACTOR") are stored as sent and pre-drawn: one arc per relation
  (`g[class*=relationItem]` in the overlay's SVG) with its type written on it, and one row per relation under the
  Relations tab (`.lsf-relations__item`), naming the two regions by number and label only ("1 ACTOR / 2 OUTCOME").
- Opening the task gives the annotator an annotation pre-filled from the prediction; regions keep their ids, so on
  Submit the annotation's relation items point at the annotation's own regions ("23-27-ACTOR" again).
- Drawing: click a region's highlight (selects it), press Alt+R (or "Create Relation" in its details), click the
  other region. The arc has no label until a type is picked: hover the row, press "..." ("Show Relation Labels"),
  open the select under the row and pick. With `choice="single"` the select closes on a pick and a second pick
  replaces the first. A result that already holds two types (a prediction made elsewhere) still shows and submits
  both ("agent_of, target_of" on the arc).
- The row's arrow icon turns the direction right -> bi -> left -> right; hovering the row shows "Delete Relation".
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_fixtures import (
    Annotator,
    browser_page,
    drag_over,
    open_task_ready,
    press_label,
    project_settings,
    screenshot,
    select_label,
    sign_up_annotator,
    submit_annotation,
    wait_for_highlights,
)

from annotate.config import Settings
from annotate.gold.adjudicate import build_gold
from annotate.labelstudio.payloads import task_payload
from annotate.pipeline import preannotate_inputs, pull, push
from annotate.records import Document, Relation, Span, span_id
from annotate.schema import load_schema

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# From seeds/000_d73790f0d0b3e06f.txt, with its seed-gold spans and relations (GUIDELINES.md section 6).
TEXT = "Abdel Rahman also said ISIL summarily executed several rebels captured during the fighting."
ARC_LABELS_JS = "els => els.map(e => e.textContent)"
ARCS = "g[class*=relationItem]"


def span(word: str, label: str) -> Span:
    start = TEXT.index(word)
    return Span(start, start + len(word), label, word, 0.9, "rule", span_id(start, start + len(word), label))


ISIL, EXECUTED, REBELS, CAPTURED = (span("ISIL", "ACTOR"), span("executed", "OUTCOME"), span("rebels", "ACTOR"),
                                    span("captured", "OUTCOME"))
RELATIONS = (Relation(ISIL.id, EXECUTED.id, "agent_of"), Relation(REBELS.id, EXECUTED.id, "target_of"),
             Relation(REBELS.id, CAPTURED.id, "target_of"))


def predicted(doc_id: str) -> Document:
    return Document(doc_id, TEXT, (ISIL, EXECUTED, REBELS, CAPTURED), {"title": doc_id}, "rules-rel", RELATIONS)


class Project:
    """One project for the module: pre-annotated tasks with relations, a plain one, and one whose prediction holds a
    relation with two types (imported through the API: our Documents cannot say that)."""

    def __init__(self, live_server: Any, root: Path):
        self.settings: Settings = project_settings(live_server, root, "relations")
        docs = [predicted("pre-drawn"), predicted("retyped"), Document("plain", TEXT, (), {"title": "plain"})]
        ref, report = push(self.settings, docs)
        self.id, self.tasks = ref.id, dict(report.task_ids)
        task = task_payload(predicted("two-types"))
        task["predictions"][0]["result"][-1]["labels"] = ["target_of", "agent_of"]
        answer = httpx.post(f"{live_server.url}/api/projects/{self.id}/import?return_task_ids=true", json=[task],
                            headers={"Authorization": f"Token {live_server.token}"}, timeout=30)
        answer.raise_for_status()
        self.tasks["two-types"] = answer.json()["task_ids"][0]


@pytest.fixture(scope="module")
def project(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(live_server, tmp_path_factory.mktemp("relations") / "project")


@pytest.fixture(scope="module")
def anna(chromium: Any, live_server: Any, ls_login_state: dict[str, Any]) -> Annotator:
    return sign_up_annotator(chromium, live_server.url, ls_login_state, f"anna-{uuid.uuid4().hex[:6]}@relations.test")


def arc_labels(page: Any) -> list[str]:
    return page.eval_on_selector_all(f"{ARCS} text", ARC_LABELS_JS)


def open_relations_panel(page: Any, count: int) -> None:
    """Show the Relations tab and wait for `count` rows."""
    page.locator(".lsf-panel-tabs__tab", has_text="Relations").first.click()
    page.wait_for_function("n => document.querySelectorAll('.lsf-relations__item').length === n", arg=count)


def pick_type(page: Any, row: int, name: str) -> None:
    """Open the type menu of relation `row` (hover, "..."), then pick `name` from its select."""
    item = page.locator(".lsf-relations__item").nth(row)
    item.hover()
    if not item.locator(".lsf-relation-meta").count():
        item.get_by_role("button", name="Show Relation Labels").click()
    item.locator(".lsf-relation-meta button").click()
    page.locator(f"[data-testid=select-option-{name}]").click()


def relations_of(stored: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(r["from_id"], r["to_id"], r["direction"], tuple(r.get("labels") or ()))
            for r in stored["result"] if r["type"] == "relation"]


def show(what: str, stored: dict[str, Any]) -> None:
    print(f"--- {what}:\n{json.dumps(stored, indent=1, ensure_ascii=False)}")


def test_pushed_relations_are_pre_drawn_in_words_and_an_accepted_prediction_keeps_them(
        project: Project, anna: Annotator, live_server: Any, chromium: Any) -> None:
    task_id = project.tasks["pre-drawn"]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project.id, task_id)
        wait_for_highlights(page, 4)
        page.wait_for_function(f"() => document.querySelectorAll('{ARCS} text').length === 3")
        assert arc_labels(page) == ["agent_of", "target_of", "target_of"]
        open_relations_panel(page, 3)
        rows = page.eval_on_selector_all(".lsf-relations__item", "els => els.map(e => e.innerText.split(/\\s+/))")
        assert rows == [["1", "ACTOR", "2", "OUTCOME"], ["3", "ACTOR", "2", "OUTCOME"], ["3", "ACTOR", "4", "OUTCOME"]]
        screenshot(page, "relations-pre-drawn")
        stored = submit_annotation(page)  # accepted as predicted
    show("accepted prediction", stored)
    regions = {r["id"] for r in stored["result"] if r["type"] == "labels"}
    assert regions == {s.id for s in (ISIL, EXECUTED, REBELS, CAPTURED)}
    assert relations_of(stored) == [(r.from_id, r.to_id, "right", (r.label,)) for r in RELATIONS]

    pulled = pull(project.settings)
    task = next(t for t in pulled.tasks if t.task_id == task_id)
    assert [q for q in pulled.quarantine if q.task_id == task_id] == []
    assert task.predictions[0].relations == RELATIONS and task.predictions[0].model_version == "rules-rel"
    (ann,) = task.completed
    assert (ann.annotator, ann.relations) == (anna.email, RELATIONS)


def test_a_seed_pushed_through_the_real_pipeline_shows_its_proposed_relations_as_arcs(
        anna: Annotator, live_server: Any, chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The whole way a lead runs it: ingest and pre-annotate a seed with the real rules, push, open the task."""
    settings = project_settings(live_server, tmp_path_factory.mktemp("seed-relations") / "project", "seed relations")
    docs, _ = preannotate_inputs(settings, [settings.root / "seeds" / "001_67a0044d06e7e842.txt"])
    (doc,) = docs
    assert len(doc.relations) >= 10, "the pre-annotator proposes the seed's relations"
    ref, report = push(settings, docs)
    task_id = report.task_ids[doc.id]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, ref.id, task_id)
        wait_for_highlights(page, len(doc.spans))
        page.wait_for_function(f"n => document.querySelectorAll('{ARCS} text').length === n", arg=len(doc.relations))
        assert sorted(arc_labels(page)) == sorted(r.label for r in doc.relations)
        screenshot(page, "relations-seed-pre-drawn")


def test_a_relation_drawn_with_mouse_and_hotkey_but_no_type_is_quarantined_and_the_spans_count(
        project: Project, anna: Annotator, live_server: Any, chromium: Any) -> None:
    task_id = project.tasks["plain"]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project.id, task_id)
        press_label(page, "a", "ACTOR")
        drag_over(page, "ISIL")
        wait_for_highlights(page, 1)
        select_label(page, "OUTCOME")
        drag_over(page, "executed")
        wait_for_highlights(page, 2)
        page.locator(".htx-highlight", has_text="ISIL").click()  # select the from-region
        page.keyboard.press("Alt+r")  # Label Studio's "Create relation between regions" hotkey
        page.locator(".htx-highlight", has_text="executed").click()
        open_relations_panel(page, 1)
        assert page.locator(ARCS).count() == 1 and arc_labels(page) == []  # an arc, no type on it
        screenshot(page, "relations-untyped")
        stored = submit_annotation(page)
    show("annotation with an untyped relation", stored)
    ((_, _, _, labels),) = relations_of(stored)
    assert labels == ()

    pulled = pull(project.settings)  # must not raise
    found = [q for q in pulled.quarantine if q.task_id == task_id]
    assert [(q.scope, q.annotator, q.annotation_id) for q in found] == [("relation", anna.email, stored["id"])]
    assert f"task {task_id}" in found[0].reason and "has no type" in found[0].reason
    gold = next(g for g in build_gold(pulled.tasks, [], load_schema(project.settings.guidelines_dir)).tasks
                if g.task_id == task_id)
    assert sorted((s.text, s.label) for s in gold.spans) == [("ISIL", "ACTOR"), ("executed", "OUTCOME")]
    assert gold.relations == ()


def test_with_choice_single_a_second_type_replaces_the_first_but_two_predicted_types_are_quarantined(
        project: Project, anna: Annotator, live_server: Any, chromium: Any) -> None:
    retyped, doubled = project.tasks["retyped"], project.tasks["two-types"]
    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project.id, retyped)
        open_relations_panel(page, 3)
        pick_type(page, 0, "target_of")  # the annotator changes their mind, then picks a second type
        page.locator("[data-testid=select-popup]").wait_for(state="detached")  # a single select closes on a pick
        page.wait_for_function(f"() => document.querySelector('{ARCS} text')?.textContent === 'target_of'")
        pick_type(page, 0, "agent_of")
        display = page.locator(".lsf-relations__item").nth(0).locator("[data-testid=select-display-value]")
        assert display.inner_text() == "agent_of"
        page.wait_for_function(f"() => document.querySelector('{ARCS} text')?.textContent === 'agent_of'")
        screenshot(page, "relations-single-choice")
        stored = submit_annotation(page)
    show("retyped annotation", stored)
    assert relations_of(stored)[0] == (ISIL.id, EXECUTED.id, "right", ("agent_of",))

    with browser_page(chromium, anna.state) as page:
        open_task_ready(page, live_server.url, project.id, doubled)
        page.wait_for_function(f"() => document.querySelectorAll('{ARCS} text').length === 3")
        assert "target_of, agent_of" in arc_labels(page)  # choice="single" does not check what is stored
        stored_two = submit_annotation(page)
    show("annotation accepted from a two-type prediction", stored_two)
    assert (REBELS.id, CAPTURED.id, "right", ("target_of", "agent_of")) in relations_of(stored_two)

    pulled = pull(project.settings)
    assert [q for q in pulled.quarantine if q.task_id == retyped] == []
    (ann,) = next(t for t in pulled.tasks if t.task_id == retyped).completed
    assert ann.relations == RELATIONS  # picked agent_of last, as predicted
    doubled_q = {(q.annotator, q.scope) for q in pulled.quarantine if q.task_id == doubled}
    assert doubled_q == {("model:rules-rel", "relation"), (anna.email, "relation")}
    assert all("several types" in q.reason for q in pulled.quarantine if q.task_id == doubled)
