"""The dashboard's data store, through its public methods: one background read per data version, the pages'
"being read" answer meanwhile, stale versions dropped, a failing read shown as its error, nothing read unasked."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from web_fixtures import APP_CONFIG, ARCHIVE, LEAD, export_rows, login, make_project

from annotate.config import Settings
from annotate.errors import InputError
from annotate.web import background, create_app
from annotate.web.store import DataLoading, DataStore
from annotate.web.users import ensure_users


class Manual(Executor):
    """Runs nothing until the test says which job: the order in which background work finishes is the test's."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future, Any, tuple, dict]] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        self.jobs.append((future, fn, args, kwargs))
        return future

    def run(self, index: int) -> None:
        future, fn, args, kwargs = self.jobs[index]
        assert future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - the store reads it from the future, as from the real executor
            future.set_exception(exc)


def _newer_archive(settings: Settings, rows: list[dict[str, Any]], text: str | None = None) -> Path:
    newer = settings.exports_dir / "raw" / "project-7-20250103T120000Z.json"
    newer.write_text(text if text is not None else json.dumps(rows), encoding="utf-8")
    os.utime(newer, (2e9, 2e9))
    return newer


@pytest.fixture
def manual() -> Manual:
    return Manual()


@pytest.fixture
def store(settings: Settings, manual: Manual) -> DataStore:
    return DataStore(settings, bootstrap=20, executor=manual)


def test_create_app_reads_nothing(settings: Settings, password: str, monkeypatch) -> None:
    submitted: list[Any] = []
    monkeypatch.setattr(background.DaemonExecutor, "submit", lambda self, fn, *a, **k: submitted.append(fn))
    app = create_app(settings, APP_CONFIG)
    store = app.extensions["annotate.data"]
    assert submitted == [] and store.loading() is None and store.report_started() is None


def test_one_read_per_data_version_and_the_busy_answer_meanwhile(store: DataStore, manual: Manual,
                                                                  settings: Settings) -> None:
    for _ in range(3):  # every page asks; the version is read once
        with pytest.raises(DataLoading, match=f"Reading {ARCHIVE} \\(started 0 s ago") as busy:
            store.snapshot()
    assert busy.value.status == 503 and len(manual.jobs) == 1
    manual.run(0)
    assert store.snapshot().n_tasks == 4 and store.loading() is None and len(manual.jobs) == 1
    _newer_archive(settings, export_rows()[:1])
    assert store.snapshot().n_tasks == 4  # the previous pull stays on screen while the new one is read
    assert store.loading() is not None and len(manual.jobs) == 2
    manual.run(1)
    assert store.snapshot().n_tasks == 1 and store.loading() is None and len(manual.jobs) == 2


def test_a_slow_read_of_an_older_version_never_replaces_a_newer_one(store: DataStore, manual: Manual,
                                                                    settings: Settings) -> None:
    with pytest.raises(DataLoading):
        store.snapshot()
    _newer_archive(settings, export_rows()[:1])
    with pytest.raises(DataLoading, match="project-7-20250103T120000Z.json"):
        store.snapshot()
    manual.run(1)
    assert store.snapshot().n_tasks == 1
    manual.run(0)  # the old archive's read finishes last: dropped
    assert store.snapshot().n_tasks == 1 and store.snapshot().n_tasks == 1


def test_a_failing_read_raises_its_error_until_the_archive_changes(store: DataStore, manual: Manual,
                                                                  settings: Settings) -> None:
    (settings.exports_dir / "raw" / ARCHIVE).write_text('[{"id": 1, "data": {"text": "x"', encoding="utf-8")
    with pytest.raises(DataLoading):
        store.snapshot()
    manual.run(0)
    for _ in range(2):
        with pytest.raises(InputError, match="truncated"):
            store.snapshot()
    assert len(manual.jobs) == 1  # not read again and again
    _newer_archive(settings, export_rows())
    with pytest.raises(DataLoading):
        store.snapshot()
    manual.run(1)
    assert store.snapshot().n_tasks == 4


def test_the_report_is_computed_once_per_version_in_the_background(store: DataStore, manual: Manual) -> None:
    with pytest.raises(DataLoading):
        store.snapshot()
    manual.run(0)
    assert store.report() is None and store.report_started() is not None
    assert [r.exact_f1 for r in store.snapshot().rows([1, 2, 3, 4])] == [None] * 4  # the rows do not wait for it
    assert len(manual.jobs) == 2
    manual.run(1)
    report = store.report()
    assert report is not None and report["bootstrap"]["replicates"] == 20 and store.report_started() is None
    assert store.report() is report and len(manual.jobs) == 2
    assert store.snapshot().rows([1])[0].exact_f1 == pytest.approx(0.4)  # in the rows once it is in


def test_warm_waits_for_the_read_and_starts_the_report(settings: Settings) -> None:
    store = DataStore(settings, bootstrap=20)
    store.warm()
    assert store.snapshot().n_tasks == 4 and store.report(wait=True) is not None


def test_a_page_shows_a_failing_read_as_its_error_instead_of_loading_forever(tmp_path: Path) -> None:
    settings = make_project(tmp_path / "project")
    (settings.exports_dir / "raw" / ARCHIVE).write_text('[{"id": 1, "data": {"text": "x"', encoding="utf-8")
    password = ensure_users(settings)[LEAD]
    client = create_app(settings, {**APP_CONFIG, "DATA_WAIT": False}).test_client()
    login(client, LEAD, password)
    deadline, response = time.monotonic() + 30, client.get("/")
    while response.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
        response = client.get("/")
    assert response.status_code == 400 and "truncated" in response.get_data(as_text=True)


CHILD = """
import time
from annotate.web.background import DaemonExecutor
DaemonExecutor().submit(time.sleep, 120)  # a report on 10,000 documents takes about a minute
print("ready", flush=True)
time.sleep(120)
"""


def test_ctrl_c_does_not_wait_for_background_work() -> None:
    """ThreadPoolExecutor joins its workers at exit: `annotate serve` would hang on Ctrl+C until a report ends."""
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=Path(__file__).resolve().parents[1])
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        start = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
        assert time.monotonic() - start < 10
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the dashboard process read every task itself")


def _bad_input(name: str) -> None:
    raise InputError(f"{name}: line 3: not JSON")


def test_run_in_child_hands_back_the_result_and_the_error() -> None:
    assert background.run_in_child(os.getpid) != os.getpid()
    with pytest.raises(InputError, match="tasks.json: line 3: not JSON"):
        background.run_in_child(_bad_input, "tasks.json")


def test_an_isolating_store_leaves_reading_every_task_to_a_child_process(settings: Settings, monkeypatch) -> None:
    """The summary and the agreement report of a new archive are made in a child process (the refusing stand-ins
    patched here do not reach it), and the dashboard's store reads their results back."""
    from annotate.gold import summary
    from annotate.web import store as web_store

    for module, name in ((web_store, "read_archive_tasks"), (summary, "read_archive_tasks"),
                         (web_store, "make_report"), (summary, "make_report")):
        monkeypatch.setattr(module, name, _refuse)
    store = DataStore(settings, bootstrap=20, isolate=True)
    store.warm()
    assert store.snapshot().n_tasks == 4
    report = store.report(wait=True)
    assert report is not None and report["bootstrap"]["replicates"] == 20  # made with our settings
    view = store.snapshot()
    assert view.index.exact_f1[~np.isnan(view.index.exact_f1)].size > 0  # the per-task measures came back too
