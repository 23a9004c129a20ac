"""Many annotators at once against a real Label Studio (test and benchmark code, not the product).

Each annotator is a real account made through the invite sign-up (accounts.sign_up), logs in through Label
Studio's login form as a browser does, reads their own legacy API token (`GET /api/current-user/token`), and works
the "Label All Tasks" stream in a thread of its own: `GET /api/projects/{id}/next`, then submit an annotation to
that task (`POST /api/tasks/{id}/annotations/`), as the editor does.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from annotate.labelstudio import accounts
from annotate.labelstudio.client import Connection

TIMEOUT = 120.0


@dataclass(frozen=True)
class Annotator:
    email: str
    token: str = field(repr=False)


@dataclass
class LoadResult:
    """What the annotators did: submissions made, every failed request, and each request's seconds."""

    submitted: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    tasks: Counter = field(default_factory=Counter)  # task id -> submissions it received
    repeats: int = 0  # submissions to a task the same annotator had already submitted
    seconds: float = 0.0

    def percentile(self, share: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(share * len(values)))] if values else 0.0


def login(base_url: str, email: str, password: str) -> httpx.Client:
    """A client logged in through /user/login/ (CSRF cookie, form POST, 302), as a browser is; close it yourself."""
    page = f"{base_url}/user/login/"
    http = httpx.Client(timeout=TIMEOUT)
    http.get(page)
    answer = http.post(page, headers={"Referer": page},
                       data={"email": email, "password": password,
                             "csrfmiddlewaretoken": http.cookies.get("csrftoken") or ""})
    if answer.status_code != 302:
        http.close()
        raise RuntimeError(f"login of {email} answered HTTP {answer.status_code}, not 302")
    return http


def login_token(base_url: str, email: str, password: str) -> str:
    """Log in and read that user's own legacy API token."""
    http = login(base_url, email, password)
    try:
        token = http.get(f"{base_url}/api/current-user/token")
        token.raise_for_status()
        return str(token.json()["token"])
    finally:
        http.close()


def make_annotators(conn: Connection, count: int, prefix: str) -> list[Annotator]:
    """`count` real accounts (invite sign-up, then a login each) and their tokens."""
    invite = accounts.invite_token(conn)
    made = []
    for k in range(count):
        account = accounts.sign_up(conn, invite, f"{prefix}{k}@example.org")
        made.append(Annotator(account.email, login_token(conn.base_url, account.email, account.password)))
    return made


def _label(task: dict[str, Any]) -> list[dict[str, Any]]:
    word = task["data"]["text"].split()[0]
    return [{"id": "load1", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": 0, "end": len(word), "text": word, "labels": ["ACTOR"]}}]


def _work(base_url: str, project_id: int, who: Annotator, tasks: int, start: threading.Barrier,
          result: LoadResult, lock: threading.Lock) -> None:
    headers = {"Authorization": f"Token {who.token}"}
    mine: set[int] = set()
    with httpx.Client(base_url=base_url, headers=headers, timeout=TIMEOUT) as http:
        start.wait()
        for _ in range(tasks):
            try:
                began = time.perf_counter()
                task = http.get(f"/api/projects/{project_id}/next")
                middle = time.perf_counter()
                if task.status_code != 200:
                    raise RuntimeError(f"next: HTTP {task.status_code} {task.text[:200]}")
                body = task.json()
                sent = http.post(f"/api/tasks/{body['id']}/annotations/",
                                 json={"result": _label(body), "lead_time": 1.0})
                if sent.status_code != 201:
                    raise RuntimeError(f"submit to task {body['id']}: HTTP {sent.status_code} {sent.text[:200]}")
                done = time.perf_counter()
            except (httpx.HTTPError, RuntimeError, ValueError, KeyError) as exc:
                with lock:
                    result.errors.append(f"{who.email}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                result.submitted += 1
                result.latencies += [middle - began, done - middle]
                result.tasks[body["id"]] += 1
                result.repeats += body["id"] in mine
            mine.add(body["id"])


def submit_concurrently(base_url: str, project_id: int, annotators: list[Annotator], tasks_each: int) -> LoadResult:
    """Every annotator, each in its own thread and all released at once, takes and submits `tasks_each` tasks."""
    result, lock = LoadResult(), threading.Lock()
    start = threading.Barrier(len(annotators) + 1)
    threads = [threading.Thread(target=_work, args=(base_url, project_id, who, tasks_each, start, result, lock))
               for who in annotators]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result
