"""changed_since and its helpers on a fake Label Studio (httpx.MockTransport): the requests, the mark, the fallbacks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from annotate.errors import LabelStudioError
from annotate.labelstudio.changes import Mark, changed_since, counts_disagree, filter_time, list_tasks
from annotate.labelstudio.client import Connection, make_client

URL = "http://127.0.0.1:9"
COUNTS = {"total_annotations_number": 3, "total_predictions_number": 2, "skipped_annotations_number": 0}


class FakeLabelStudio:
    """Tasks (id -> updated_at) and project counters, answering the three requests changed_since makes."""

    def __init__(self, tasks: dict[int, str], counters: dict[str, int] | None = None):
        self.tasks = tasks
        self.counters = dict(counters or COUNTS)
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        self.requests.append({"path": request.url.path, **params})
        if request.url.path == "/api/projects/7/":
            return httpx.Response(200, json={"id": 7, **self.counters})
        query = json.loads(params.get("query", "{}"))
        rows: list[dict[str, Any]] = [{"id": k, "updated_at": v} for k, v in sorted(self.tasks.items())]
        if query.get("ordering") == ["-tasks:updated_at"]:
            rows.sort(key=lambda r: r["updated_at"], reverse=True)
        for item in (query.get("filters") or {}).get("items", []):
            assert params.get("page") == "1"
            if item["filter"] == "filter:tasks:id" and item["operator"] == "in":
                rows = [r for r in rows if item["value"]["min"] <= r["id"] <= item["value"]["max"]]
                continue
            assert item["operator"] == "greater"
            if item["filter"] == "filter:tasks:id":
                rows = [r for r in rows if r["id"] > item["value"]]
                continue
            assert item["filter"] == "filter:tasks:updated_at" and item["type"] == "Datetime"
            after = datetime.strptime(item["value"], "%Y-%m-%dT%H:%M:%S.%fZ")
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"].rstrip("Z")) > after]
        size = int(params.get("page_size", 100))
        return httpx.Response(200, json={"tasks": rows[:size], "total": len(rows)})

    def kinds(self) -> list[str]:
        """What each request was for: mark, project, filter or listing."""
        out = []
        for r in self.requests:
            query = r.get("query", "")
            out.append("project" if "projects" in r["path"] else "mark" if "-tasks:updated_at" in query
                       else "filter" if "tasks:updated_at" in query else "count" if '"in"' in query else "listing")
        return out


def _conn(fake: FakeLabelStudio) -> Connection:
    return Connection(URL, make_client(URL, "secret-token", httpx.MockTransport(fake)), sleep=lambda _: None)


T0 = "2026-12-02T05:00:00.000000Z"
TASKS = {1: "2026-12-02T04:00:00.000000Z", 2: "2026-12-02T04:59:58.500000Z", 3: T0}
KNOWN = dict(TASKS)  # the store, as the previous pull left it


def test_without_an_earlier_pull_it_asks_for_a_full_pull_and_gives_the_mark():
    fake = FakeLabelStudio(dict(TASKS))
    changes = changed_since(_conn(fake), 7, None)
    assert changes.needs_full_pull and changes.reason == "no earlier pull to compare with"
    assert changes.mark == Mark(T0, COUNTS)
    assert fake.kinds() == ["mark", "project"]


def test_changed_tasks_come_from_the_filter_looking_back_by_the_overlap():
    fake = FakeLabelStudio({**TASKS, 3: "2026-12-02T05:10:00.250000Z", 4: "2026-12-02T05:20:00Z"})
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=KNOWN)
    assert changes.changed == {3: "2026-12-02T05:10:00.250000Z", 4: "2026-12-02T05:20:00Z"}
    sent = json.loads(fake.requests[2]["query"])["filters"]["items"][0]["value"]
    assert sent == "2026-12-02T04:59:55.000000Z"
    assert changes.mark == Mark("2026-12-02T05:20:00Z", COUNTS) and not changes.needs_full_pull


def test_a_task_the_overlap_brings_back_counts_as_changed_only_if_it_differs_from_the_store():
    """Task 2 was saved 1.5 s before the mark: inside the overlap, so it is listed again, but it has not changed."""
    fake = FakeLabelStudio(dict(TASKS))
    assert changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=KNOWN).changed == {}
    stale = {**KNOWN, 2: "2026-12-02T04:59:57.000000Z"}  # committed after the previous pull had read it
    assert changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=stale).changed == {2: TASKS[2]}


def test_the_listing_pages_by_id_not_by_page_number():
    fake = FakeLabelStudio({i: TASKS[1] for i in range(1, 6)})
    assert [r["id"] for r in list_tasks(_conn(fake), 7, "id", page_size=2)] == [1, 2, 3, 4, 5]
    afters = [json.loads(r["query"])["filters"]["items"][-1]["value"] for r in fake.requests]
    assert afters == [0, 2, 4] and all(r["page"] == "1" and "fields" not in r for r in fake.requests)


def test_when_the_count_adds_up_the_id_listing_is_skipped():
    fake = FakeLabelStudio({**TASKS, 4: "2026-12-02T05:20:00.000000Z"})
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=KNOWN, overlap=timedelta(0))
    assert changes.changed == {4: "2026-12-02T05:20:00.000000Z"}
    assert changes.ids == {1, 2, 3, 4} and changes.deleted == frozenset()
    assert fake.kinds() == ["mark", "project", "filter"]


@pytest.mark.parametrize("gone", [{2}, {1}, {3}, {1, 3}, {1, 2, 3}, {5, 17, 18, 40}])
def test_a_few_deletions_are_found_by_counting_id_ranges(gone):
    known = {i: TASKS[1] for i in range(1, 41)}
    fake = FakeLabelStudio({**{i: v for i, v in known.items() if i not in gone}, 41: "2026-12-02T05:20:00.000000Z"})
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=known, overlap=timedelta(0))
    assert changes.deleted == gone and changes.ids == (set(known) - gone) | {41}
    assert "listing" not in fake.kinds() and fake.kinds().count("count") <= len(gone) * 6


def test_many_deletions_are_found_by_listing_every_id():
    known = {i: TASKS[1] for i in range(1, 101)}
    fake = FakeLabelStudio({i: v for i, v in known.items() if i % 2})
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=known, overlap=timedelta(0))
    assert changes.deleted == set(range(2, 101, 2))
    assert fake.kinds() == ["mark", "project", "filter", "listing"] and fake.requests[-1]["include"] == "id"


def test_counts_that_cannot_add_up_fall_back_to_the_listing():
    """A range holding more tasks than the store knows there (the store missed task 2): list, do not guess."""
    fake = FakeLabelStudio({1: TASKS[1], 2: TASKS[1], 3: TASKS[1], 7: TASKS[1]})
    known = {i: TASKS[1] for i in (1, 3, 5, 6, 7)}
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=known, overlap=timedelta(0))
    assert changes.deleted == {5, 6} and changes.ids == {1, 2, 3, 7} and fake.kinds()[-1] == "listing"


def test_without_known_ids_it_lists_them_and_reports_no_deletion():
    fake = FakeLabelStudio(dict(TASKS))
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), overlap=timedelta(0))
    assert changes.ids == {1, 2, 3} and changes.deleted == frozenset() and changes.changed == {}


def test_predictions_counted_without_any_task_moving_need_a_full_pull():
    fake = FakeLabelStudio(dict(TASKS), {**COUNTS, "total_predictions_number": 5})
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=KNOWN)
    assert changes.needs_full_pull and "predictions imported in bulk" in changes.reason


def test_predictions_counted_with_a_task_moving_are_left_to_the_counts_check():
    fake = FakeLabelStudio({**TASKS, 3: "2026-12-02T05:10:00.000000Z"}, {**COUNTS, "total_predictions_number": 5})
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=KNOWN)
    assert not changes.needs_full_pull


def test_an_update_time_that_is_not_iso_is_one_clear_error():
    fake = FakeLabelStudio(dict(TASKS))
    with pytest.raises(LabelStudioError, match="not ISO 8601: 'yesterday'"):
        changed_since(_conn(fake), 7, Mark("yesterday", COUNTS))


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-12-02T05:41:52Z", "2026-12-02T05:41:52.000000Z"),  # DRF drops zero microseconds
    ("2026-12-02T05:41:52.5Z", "2026-12-02T05:41:52.500000Z"),
    ("2026-12-02T07:41:52.123456+02:00", "2026-12-02T05:41:52.123456Z"),
])
def test_filter_time_is_utc_with_microseconds(value, expected):
    assert filter_time(value) == expected


def test_filter_time_refuses_a_time_without_zone():
    with pytest.raises(ValueError, match="without a time zone"):
        filter_time("2026-12-02T05:41:52")


def _task(annotations: int = 0, skipped: int = 0, predictions: int = 0) -> dict[str, Any]:
    return {"annotations": [{"was_cancelled": False}] * annotations + [{"was_cancelled": True}] * skipped,
            "predictions": [{}] * predictions}


def test_counts_agree_when_the_merged_tasks_add_up():
    assert counts_disagree(Mark(T0, COUNTS), [_task(2, predictions=1), _task(1, predictions=1)]) == ""


def test_counts_name_every_counter_that_does_not_add_up():
    reason = counts_disagree(Mark(T0, {**COUNTS, "skipped_annotations_number": 1}), [_task(3, predictions=1)])
    assert reason == ("the merged tasks do not add up: total_predictions_number 1 here, 2 in Label Studio; "
                      "skipped_annotations_number 0 here, 1 in Label Studio")


def test_ids_known_from_elsewhere_need_no_request_for_deletions():
    """`present` (the embedded server's own database) says which tasks are held: no counting, no listing; when it
    cannot tell (None), the API is asked as before."""
    known = {i: TASKS[1] for i in range(1, 101)}
    fake = FakeLabelStudio({i: v for i, v in known.items() if i % 2})
    asked: list[int] = []

    def held() -> frozenset[int]:
        asked.append(1)
        return frozenset(range(1, 101, 2))
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=known, overlap=timedelta(0), present=held)
    assert changes.deleted == set(range(2, 101, 2)) and changes.ids == set(range(1, 101, 2)) and asked == [1]
    assert fake.kinds() == ["mark", "project", "filter"]
    fake.requests.clear()
    changes = changed_since(_conn(fake), 7, Mark(T0, COUNTS), known=known, overlap=timedelta(0), present=lambda: None)
    assert changes.deleted == set(range(2, 101, 2)) and fake.kinds()[-1] == "listing"


def test_the_embedded_servers_database_is_read_only_when_it_is_ours(tmp_path, caplog):
    import sqlite3

    from annotate.config import load_settings
    from annotate.labelstudio import server

    external = load_settings({"label_studio_url": URL, "label_studio_api_key": "k"}, env={}, root=tmp_path)
    assert server.database_task_ids(external, 1) is None
    embedded = load_settings({}, env={}, root=tmp_path)
    assert server.database_task_ids(embedded, 1) is None  # no database yet
    path = server.sqlite_file(embedded)
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, project_id INTEGER)")
        db.executemany("INSERT INTO task VALUES (?, ?)", [(1, 1), (2, 2), (5, 1)])
    assert server.database_task_ids(embedded, 1) == {1, 5}
    path.write_bytes(b"not a database at all, but long enough to be read as one" * 100)
    assert server.database_task_ids(embedded, 1) is None and "listing them through the API" in caplog.text
    postgres = load_settings({"database": "postgresql"}, env={}, root=tmp_path)
    assert server.database_task_ids(postgres, 1) is None
