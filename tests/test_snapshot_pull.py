"""The full pull's export snapshot on a fake Label Studio (httpx.MockTransport): unordered rows come out in id
order, a failed export falls back to the pages, a lost answer to the create request is found by its title, the
export is always deleted, and a truncated download leaves no archive."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from annotate.errors import LabelStudioError
from annotate.labelstudio.client import Connection, make_client
from annotate.labelstudio.pull import pull_raw

URL = "http://127.0.0.1:9"
T = "2026-12-02T05:00:00.000000Z"


def _task(task_id: int) -> dict[str, Any]:
    return {"id": task_id, "data": {"text": f"t{task_id}"}, "updated_at": T, "annotations": [
        {"id": task_id * 10, "completed_by": {"id": 1, "email": "a@x.org", "first_name": "", "last_name": ""},
         "result": [], "was_cancelled": False, "unique_id": "u", "result_count": 0}],
        "drafts": [], "predictions": [], "allow_skip": True, "updated_by": 1}


class FakeServer:
    def __init__(self, ids: list[int], status: str = "completed", lose_create: bool = False,
                 download: bytes | None = None):
        self.ids, self.status, self.lose_create, self.download = ids, status, lose_create, download
        self.exports: dict[int, str] = {}
        self.deleted: list[int] = []
        self.listed_pages = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, params = request.url.path, dict(request.url.params)
        if path == "/api/users/":
            return httpx.Response(200, json=[{"id": 1, "email": "a@x.org", "username": "a"}])
        if path == "/api/projects/7/exports/" and request.method == "POST":
            self.exports[len(self.exports) + 1] = json.loads(request.content)["title"]
            if self.lose_create:
                raise httpx.ReadTimeout("timed out", request=request)
            return httpx.Response(201, json={"id": len(self.exports)})
        if path == "/api/projects/7/exports/":
            return httpx.Response(200, json=[{"id": k, "title": t} for k, t in self.exports.items()])
        if path.startswith("/api/projects/7/exports/") and path.endswith("/download"):
            rows = [_task(i) for i in self.ids]
            return httpx.Response(200, content=self.download if self.download is not None else json.dumps(rows).encode())
        if path.startswith("/api/projects/7/exports/"):
            export_id = int(path.rstrip("/").split("/")[-1])
            if request.method == "DELETE":
                self.deleted.append(export_id)
                return httpx.Response(204)
            return httpx.Response(200, json={"id": export_id, "status": self.status})
        if path == "/api/tasks/":
            query = json.loads(params.get("query", "{}"))
            rows = [{**_task(i), "draft_exists": False} for i in sorted(self.ids)]
            if query.get("ordering") == ["-tasks:updated_at"]:
                return httpx.Response(200, json={"tasks": rows[:1], "total": len(rows)})
            self.listed_pages += 1
            size, page = int(params["page_size"]), int(params["page"])
            return httpx.Response(200, json={"tasks": rows[(page - 1) * size:page * size], "total": len(rows)})
        raise AssertionError(f"unexpected request {request.method} {request.url}")


def _conn(fake: FakeServer) -> Connection:
    return Connection(URL, make_client(URL, "secret-token", httpx.MockTransport(fake)), sleep=lambda _: None)


def test_unordered_snapshot_rows_are_archived_in_id_order_and_the_export_deleted(tmp_path):
    fake = FakeServer([5, 2, 9, 1])
    stats = pull_raw(_conn(fake), 7, tmp_path / "raw.json")
    rows = json.loads((tmp_path / "raw.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in rows] == [1, 2, 5, 9] and stats.tasks == 4 and stats.annotations == 4
    assert fake.listed_pages == 0 and fake.deleted == [1]
    assert rows[0]["annotations"][0]["completed_by"] == {"id": 1, "email": "a@x.org"}
    assert "allow_skip" not in rows[0] and "unique_id" not in rows[0]["annotations"][0]
    assert rows[0]["updated_by"] == {"id": 1, "email": "a@x.org"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw.json"]  # no spool or staging file left


def test_a_failed_export_falls_back_to_the_pages(tmp_path, caplog):
    fake = FakeServer([3, 1, 2], status="failed")
    stats = pull_raw(_conn(fake), 7, tmp_path / "raw.json")
    assert stats.tasks == 3 and fake.listed_pages == 1 and fake.deleted == [1]
    assert "export snapshot 1 of project 7 failed" in caplog.text and "page by page" in caplog.text


def test_a_lost_answer_to_the_create_request_is_followed_by_title(tmp_path):
    fake = FakeServer([1, 2], lose_create=True)
    stats = pull_raw(_conn(fake), 7, tmp_path / "raw.json")
    assert stats.tasks == 2 and len(fake.exports) == 1 and fake.deleted == [1] and fake.listed_pages == 0


@pytest.mark.parametrize("body", [b'[{"id": 1, "data": {}}, {"id": 2, "da', b'{"detail": "no"}'])
def test_a_truncated_or_foreign_download_is_a_clear_error_and_leaves_nothing(tmp_path, body):
    fake = FakeServer([1, 2], download=body)
    with pytest.raises(LabelStudioError, match="reading export 1 of project 7 failed"):
        pull_raw(_conn(fake), 7, tmp_path / "raw.json")
    assert list(tmp_path.iterdir()) == [] and fake.deleted == [1]
