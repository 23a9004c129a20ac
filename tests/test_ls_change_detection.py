"""What tells a pull that a task changed, measured on the real Label Studio 1.23.2: one row per kind of change.

Each row asserts (a) whether the task's updated_at moves, (b) whether the Data Manager filter
`filter:tasks:updated_at greater <time before the change>` returns it, (c) exactly which other task and project
fields moved. A Label Studio that behaves otherwise fails here; the table is in annotate/labelstudio/changes.py.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from annotate.errors import LabelStudioError
from annotate.labelstudio.changes import (
    COUNTERS,
    changed_since,
    count_tasks,
    counts_disagree,
    list_tasks,
    project_mark,
    updated_after,
)
from annotate.labelstudio.client import Connection, connect
from annotate.labelstudio.pull import iter_task_rows

pytestmark = pytest.mark.integration

CONFIG = """<View><Text name="text" value="$text"/>
<Labels name="label" toName="text"><Label value="ACTOR"/><Label value="PLACE"/></Labels></View>"""
SPAN: list[dict[str, Any]] = [{"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start": 0, "end": 4, "text": "ISIL", "labels": ["ACTOR"]}}]
OTHER = [{**SPAN[0], "value": {**SPAN[0]["value"], "labels": ["PLACE"]}}]
TASK_FIELDS = ("updated_at", "total_annotations", "cancelled_annotations", "total_predictions", "draft_exists",
               "annotations_updated_at")


@dataclass(frozen=True)
class Row:
    moves: bool  # (a) the task's updated_at moves
    filtered: bool  # (b) the updated_at filter returns it
    other: frozenset[str]  # (c) the other fields that moved ("project:..." for the project's own)


def _row(moves: bool, filtered: bool, *other: str) -> Row:
    return Row(moves, filtered, frozenset(other))


EXPECTED = {
    "annotation created": _row(True, True, "total_annotations", "annotations_updated_at",
                               "project:total_annotations_number"),
    "annotation updated": _row(True, True, "annotations_updated_at"),
    "annotation deleted": _row(True, True, "total_annotations", "annotations_updated_at",
                               "project:total_annotations_number"),
    "annotation cancelled": _row(True, True, "cancelled_annotations", "annotations_updated_at",
                                 "project:skipped_annotations_number"),
    "draft saved": _row(False, False, "draft_exists"),
    "draft edited": _row(False, False),
    "prediction added": _row(True, True, "total_predictions", "project:total_predictions_number"),
    "predictions imported": _row(False, False, "total_predictions", "project:total_predictions_number"),
    "task data edited": _row(True, True),
    "task deleted": _row(False, False, "gone", "project:task_count"),
}


def _project(conn: Connection, tasks: int = 2) -> tuple[int, list[int]]:
    project = conn.sdk.projects.create(title=f"changes-{uuid.uuid4().hex[:8]}", label_config=CONFIG)
    assert project.id is not None
    conn.request_json("POST", f"api/projects/{project.id}/import",
                      json=[{"text": f"ISIL left Saraqeb ({i})."} for i in range(tasks)])
    ids = sorted(int(r["id"]) for r in iter_task_rows(conn, project.id, include="id"))
    return project.id, ids


def _annotate(conn: Connection, task_id: int, cancelled: bool = False) -> int:
    made = conn.request_json("POST", f"api/tasks/{task_id}/annotations/",
                             json={"result": [] if cancelled else SPAN, "was_cancelled": cancelled})
    return int(made["id"])


def _draft(conn: Connection, task_id: int) -> int:
    return int(conn.request_json("POST", f"api/tasks/{task_id}/drafts", json={"result": SPAN, "lead_time": 1})["id"])


def _prediction(task_id: int) -> dict[str, Any]:
    return {"task": task_id, "result": SPAN, "model_version": "v2", "score": 0.5}


def _setup(conn: Connection, case: str, task_id: int) -> dict[str, int]:
    """What must exist before the change (an annotation to edit, a draft to edit)."""
    if case in ("annotation updated", "annotation deleted"):
        return {"annotation": _annotate(conn, task_id)}
    if case == "draft edited":
        return {"draft": _draft(conn, task_id)}
    return {}


def _change(conn: Connection, case: str, project_id: int, task_id: int, made: dict[str, int]) -> None:
    if case == "annotation created":
        _annotate(conn, task_id)
    elif case == "annotation updated":
        conn.request_json("PATCH", f"api/annotations/{made['annotation']}/", json={"result": OTHER})
    elif case == "annotation deleted":
        conn.request_json("DELETE", f"api/annotations/{made['annotation']}/")
    elif case == "annotation cancelled":
        _annotate(conn, task_id, cancelled=True)
    elif case == "draft saved":
        _draft(conn, task_id)
    elif case == "draft edited":
        conn.request_json("PATCH", f"api/drafts/{made['draft']}/", json={"result": OTHER, "lead_time": 2})
    elif case == "prediction added":
        conn.request_json("POST", "api/predictions/", json=_prediction(task_id))
    elif case == "predictions imported":
        conn.request_json("POST", f"api/projects/{project_id}/import/predictions", json=[_prediction(task_id)])
    elif case == "task data edited":
        conn.request_json("PATCH", f"api/tasks/{task_id}/", json={"data": {"text": "ISIL left Idlib."}})
    elif case == "task deleted":
        conn.request_json("DELETE", f"api/tasks/{task_id}/")
    else:
        raise AssertionError(case)


def _state(conn: Connection, project_id: int, task_id: int) -> dict[str, Any]:
    """The fields that could tell: the task's (from the tasks list, as a pull reads it) and the project's."""
    rows = {int(r["id"]): r for r in iter_task_rows(conn, project_id)}
    state: dict[str, Any] = {"project:task_count": len(rows)}
    project = conn.get_json(f"api/projects/{project_id}/")
    state.update({f"project:{key}": project[key] for key in COUNTERS})
    row = rows.get(task_id)
    if row is None:
        return {**state, "gone": True}
    state.update({key: row.get(key) for key in TASK_FIELDS if key in row})
    state["annotations_updated_at"] = sorted(str(a.get("updated_at")) for a in row.get("annotations") or [])
    state["gone"] = False
    return state


def _filtered(conn: Connection, project_id: int, since: str) -> set[int]:
    query = {"filters": {"conjunction": "and", "items": [updated_after(since)]}}
    return {int(r["id"]) for r in iter_task_rows(conn, project_id, include="id", query=query)}


@pytest.fixture(scope="module")
def conn(live_server):
    return connect(live_server.settings())


@pytest.mark.parametrize("case", list(EXPECTED))
def test_what_tells_a_task_changed(conn, case):
    project_id, (task_id, control) = _project(conn)
    made = _setup(conn, case, task_id)
    before = _state(conn, project_id, task_id)
    since = project_mark(conn, project_id)[1].updated_at  # the newest update time before the change: a pull's mark
    time.sleep(0.01)  # updated_at has microseconds; make "after" unmistakable
    _change(conn, case, project_id, task_id, made)
    after = _state(conn, project_id, task_id)
    moved = {key for key in before.keys() & after.keys() if before[key] != after[key]}  # a deleted task: gone only
    filtered = _filtered(conn, project_id, since)
    assert control not in filtered, "the filter returned an untouched task"
    observed = Row(moves="updated_at" in moved, filtered=task_id in filtered, other=frozenset(moved - {"updated_at"}))
    assert observed == EXPECTED[case]


def test_the_filter_is_strictly_after_and_needs_microseconds(conn):
    project_id, (first, second) = _project(conn)
    rows = {int(r["id"]): r["updated_at"] for r in iter_task_rows(conn, project_id, include="id,updated_at")}
    assert _filtered(conn, project_id, rows[first]) == ({second} if rows[second] > rows[first] else set())
    query = {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:updated_at", "operator": "greater",
                                                          "type": "Datetime", "value": "2020-01-01T00:00:00Z"}]}}
    with pytest.raises(LabelStudioError, match="HTTP"):  # a value without microseconds is refused
        conn.call("filter", conn.get_json, "api/tasks/", {"project": project_id, "query": json.dumps(query)},
                  retry=False)


def _stamps(conn: Connection, project_id: int) -> dict[int, str]:
    """id -> updated_at, as a store would keep them after a pull."""
    return {int(r["id"]): r["updated_at"] for r in iter_task_rows(conn, project_id, include="id,updated_at")}


def test_changed_since_sees_annotations_and_deletions(conn):
    project_id, ids = _project(conn, tasks=6)
    known = _stamps(conn, project_id)
    _, mark = project_mark(conn, project_id)
    time.sleep(0.01)
    _annotate(conn, ids[0])
    _annotate(conn, ids[1], cancelled=True)
    conn.request_json("DELETE", f"api/tasks/{ids[2]}/")
    for overlap in (timedelta(0), timedelta(seconds=5)):  # the look-back re-lists the rest; the store drops them
        changes = changed_since(conn, project_id, mark, known=known, overlap=overlap)
        assert set(changes.changed) == {ids[0], ids[1]}
        assert changes.deleted == {ids[2]} and changes.ids == set(ids) - {ids[2]}
        assert not changes.needs_full_pull, changes.reason
    assert changes.mark is not None and counts_disagree(changes.mark, iter_task_rows(conn, project_id)) == ""
    again = changed_since(conn, project_id, changes.mark, known=_stamps(conn, project_id))
    assert again.changed == {} and again.ids == set(ids) - {ids[2]} and again.deleted == frozenset()


def test_deleted_tasks_are_found_by_counting_id_ranges(conn):
    project_id, ids = _project(conn, tasks=40)
    known = _stamps(conn, project_id)
    _, mark = project_mark(conn, project_id)
    assert count_tasks(conn, project_id, ids[0], ids[9]) == 10  # the Number "in" filter on id is inclusive
    gone = {ids[0], ids[17], ids[39]}
    for task_id in gone:
        conn.request_json("DELETE", f"api/tasks/{task_id}/")
    changes = changed_since(conn, project_id, mark, known=known)
    assert changes.deleted == gone and changes.ids == set(ids) - gone and changes.changed == {}


def test_listing_by_id_pages_loses_no_task_deleted_around_it(conn):
    project_id, ids = _project(conn, tasks=7)
    listed = []
    for row in list_tasks(conn, project_id, "id", page_size=2):
        listed.append(int(row["id"]))
        if len(listed) == 2:  # between pages: delete two tasks already read; page numbers would skip ids[2:4]
            for task_id in ids[:2]:
                conn.request_json("DELETE", f"api/tasks/{task_id}/")
    assert listed == ids
    assert [int(r["id"]) for r in list_tasks(conn, project_id, "id", page_size=2)] == ids[2:]


def test_a_bulk_prediction_import_is_caught_by_the_counts(conn):
    """Invisible to updated_at; changed_since flags it when nothing else moved, and counts_disagree always does."""
    project_id, ids = _project(conn)
    rows = list(iter_task_rows(conn, project_id))  # the store as the previous pull left it
    _, mark = project_mark(conn, project_id)
    assert counts_disagree(mark, rows) == ""
    conn.request_json("POST", f"api/projects/{project_id}/import/predictions", json=[_prediction(ids[0])])
    changes = changed_since(conn, project_id, mark, known=_stamps(conn, project_id))
    assert changes.needs_full_pull and "prediction" in changes.reason
    assert changes.mark is not None
    assert counts_disagree(changes.mark, rows) == ("the merged tasks do not add up: "
                                                   "total_predictions_number 0 here, 1 in Label Studio")
    assert counts_disagree(changes.mark, iter_task_rows(conn, project_id)) == ""
