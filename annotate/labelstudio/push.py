"""Idempotent push: upsert tasks keyed on the article id in the task data, predictions once per model version.

Safe to interrupt and safe against lost answers. The SDK never re-sends a request by itself (client.py). When an
import's answer is lost (the connection dropped, a proxy closed it, a timeout) the request may still have reached
the server, and may even still be running there. So before anything is sent again, the push waits for the
batch's articles to appear among the tasks created since it was sent (Label Studio creates a batch's tasks and
predictions in one transaction: all or nothing) and re-sends only what never arrived. If a late commit still
doubles a task, the check at the end of the push finds it and removes the copy this push made (it has no
annotations: it was just created).

Pushes into one project are serialised by a lock in .annotate/ (pipeline.py); pushes from elsewhere are not, so
every push reports articles that are in the project more than once, naming the task ids, and `dedupe=True`
removes the copies that carry no annotations (an annotated task is never deleted).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..errors import ConfigError, InputError, LabelStudioError, OffsetError
from ..records import Document
from . import manifest
from .client import Connection, is_transient, never_sent
from .dedupe import Dedupe, handle_duplicates, remove_retry_copies
from .manifest import Existing
from .payloads import ID_KEY, prediction_payload, prediction_version, task_payload, text_sha
from .project import Change, update_model_version
from .tasks import Listing, list_tasks, tasks_since

__all__ = ["PushReport", "push_documents"]
log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
ATTEMPTS = 3  # sends of one batch at most
SETTLE = 10.0  # seconds at least to wait for a batch whose answer was lost to show up before re-sending it
POLL = 0.5


@dataclass
class PushReport(Dedupe):
    """What a push did; `removed` holds duplicates deleted by --dedupe and copies a lost answer left behind."""

    created: int = 0
    skipped: int = 0
    predictions_added: int = 0
    task_ids: dict[str, int] = field(default_factory=dict)
    recovered: int = 0  # batches whose answer was lost and that were checked on the server
    model_version: Change | None = None  # set because this push added predictions of a new version
    kept_backend: str | None = None  # the connected ML backend's title that model_version kept (not overwritten)

    def summary(self) -> str:
        return (f"{self.created} task(s) created, {self.predictions_added} prediction(s) added to existing tasks, "
                f"{self.skipped} unchanged task(s) skipped")

    def setting_lines(self) -> list[str]:
        """What the push changed in the project's settings, or why it left the model version alone."""
        if self.model_version is not None:
            return [f"{self.model_version.describe()} (the editor pre-fills from this push's predictions)"]
        if self.kept_backend is not None:
            return [f"model_version: kept {self.kept_backend!r}, the connected ML backend's title (the new predictions "
                    "are in the project; choose their version in the project's settings to show them instead)"]
        return []

    def duplicate_lines(self) -> list[str]:
        """One line per article still in several tasks, and per task removed."""
        lines = [f"article {doc_id!r} is in {len(ids)} tasks: {', '.join(map(str, ids))}"
                 for doc_id, ids in sorted(self.duplicates.items())]
        lines += [f"removed duplicate task {task_id} (it had no annotations)" for task_id in self.removed]
        lines += [f"article {doc_id!r}: tasks {', '.join(map(str, ids))} all have annotations; not removed, "
                  "merge them by hand" for doc_id, ids in sorted(self.kept_annotated.items())]
        return lines


def check_documents(docs: Sequence[Document]) -> None:
    """Every span must select its own text before anything is sent; fail loudly otherwise."""
    seen: dict[str, str] = {}
    for doc in docs:
        try:
            doc.check()
        except OffsetError as exc:
            raise OffsetError(f"not pushing anything: {exc}") from exc
        if doc.id in seen and seen[doc.id] != doc.text:
            raise InputError(f"two articles share the id {doc.id!r} with different text; ids must be unique")
        seen[doc.id] = doc.text


def push_documents(conn: Connection, project_id: int, docs: Iterable[Document], batch_size: int = 100,
                   progress: Callable[[int], None] | None = None, state: Path | None = None,
                   dedupe: bool = False) -> PushReport:
    """Upsert documents as tasks with predictions; unchanged ones are skipped, annotations never touched.

    `state`: where to keep the project's manifest (see manifest.py); without it every task is listed.
    `dedupe`: delete the copies of an article that carry no annotations, keeping one task per article.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1 (tasks per import request), got {batch_size}")
    docs = list({d.id: d for d in docs}.values())
    check_documents(docs)
    before = manifest.fingerprint(conn, project_id)
    cached = manifest.load(state, project_id, before) if state else None
    listing = Listing(cached) if cached is not None else list_tasks(conn, project_id)
    report = PushReport()
    handle_duplicates(conn, project_id, listing, report, dedupe)
    existing = listing.tasks
    new: list[Document] = []
    add_predictions: list[tuple[int, Document]] = []
    for doc in docs:
        have = existing.get(doc.id)
        if have is None:
            new.append(doc)
        elif have.text_sha != text_sha(doc.text):
            raise InputError(f"article {doc.id!r} is already task {have.task_id} with different text; "
                             "an id must always name the same text (give the changed article a new id)")
        elif doc.model_version and doc.model_version not in have.model_versions and doc.spans:
            add_predictions.append((have.task_id, doc))
        else:
            report.skipped += 1
        report.task_ids[doc.id] = have.task_id if have else -1
    newest = before.max_task_id
    for start in range(0, len(new), batch_size):
        newest = _import_batch(conn, project_id, new[start : start + batch_size], report, newest)
        if progress:
            progress(min(batch_size, len(new) - start))
    for start in range(0, len(add_predictions), batch_size):
        batch = add_predictions[start : start + batch_size]
        _import_predictions(conn, project_id, batch, report)
        if progress:
            progress(len(batch))
    if progress:
        progress(report.skipped)
    if report.recovered:
        report.task_ids.update(remove_retry_copies(conn, project_id, before.max_task_id, {d.id for d in new}, report))
    version = _new_version(existing, new, add_predictions)
    if version is not None:
        report.model_version, report.kept_backend = update_model_version(conn, project_id, version)
    if state is not None and not report.duplicates and (cached is None or new or add_predictions or report.removed):
        _record(conn, project_id, state, before, existing, new, add_predictions, report)
    return report


def _new_version(existing: dict[str, Existing], new: list[Document],
                 added: list[tuple[int, Document]]) -> str | None:
    """The last model version whose predictions this push added and that no task carried before, if any.

    Only then does a push touch the project's model_version: a push of known versions leaves the lead's choice be.
    """
    before = {version for task in existing.values() for version in task.model_versions}
    pushed = [prediction_version(d) for d in new] + [str(d.model_version) for _, d in added]
    fresh = [version for version in pushed if version is not None and version not in before]
    return fresh[-1] if fresh else None


def _record(conn: Connection, project_id: int, state: Path | None, before: manifest.Fingerprint,
            existing: dict[str, Existing], new: list[Document], added: list[tuple[int, Document]],
            report: PushReport) -> None:
    """Save the manifest if the server now holds exactly what this push expected; else forget it."""
    if report.removed:  # deletions change the count in ways `after` does not model: list everything next time
        manifest.forget(state)
        return
    created = {report.task_ids.get(d.id, -1): prediction_version(d) for d in new}
    expected = before.after(created, [str(d.model_version) for _, d in added])
    if -1 in created or len(created) != len(new) or manifest.fingerprint(conn, project_id) != expected:
        manifest.forget(state)  # someone else changed the project meanwhile: list every task next time
        return
    tasks = dict(existing)
    for doc in new:
        version = prediction_version(doc)
        tasks[doc.id] = Existing(report.task_ids[doc.id], text_sha(doc.text), frozenset([version] if version else []))
    for task_id, doc in added:
        old = tasks[doc.id]
        tasks[doc.id] = Existing(task_id, old.text_sha, old.model_versions | {str(doc.model_version)})
    manifest.save(state, project_id, expected, tasks)


def _send_checked(what: str, items: list[T], send: Callable[[list[T]], None],
                  arrived: Callable[[list[T], float], list[T]], report: PushReport) -> None:
    """Send `items` once; when the answer is lost, re-send only those that `arrived(items, wait)` did not find.

    A request that could not connect never reached the server and is simply sent again.
    """
    pending = items
    for attempt in range(1, ATTEMPTS + 1):
        started = time.monotonic()
        try:
            send(pending)
            return
        except LabelStudioError as exc:
            cause = exc.__cause__
            if attempt == ATTEMPTS or cause is None or not is_transient(cause):
                raise
            if never_sent(cause):
                log.warning("%s: could not connect (%s); sending again", what, exc)
                time.sleep(POLL * attempt)
                continue
            # The request may have reached the server, and may still be running there: wait for it to show.
            report.recovered += 1
            log.warning("%s: answer lost (%s); checking the server before sending again", what, exc)
            found = arrived(pending, max(SETTLE, 3 * (time.monotonic() - started)))
            pending = [item for item in pending if item not in found]
            if not pending:
                return
    raise AssertionError("unreachable")


def _poll(check: Callable[[], tuple[bool, R]], wait: float) -> R:
    """Call `check` until it says done or `wait` seconds have passed; its last answer."""
    deadline = time.monotonic() + wait
    while True:
        done, answer = check()
        if done or time.monotonic() >= deadline:
            return answer
        time.sleep(POLL)


def _import_batch(conn: Connection, project_id: int, batch: list[Document], report: PushReport,
                  after_id: int) -> int:
    """Import one batch (tasks above `after_id` are new), checked on a lost answer; the highest task id after it."""

    def send(docs: list[Document]) -> None:
        result = conn.call("import tasks", conn.sdk.projects.import_tasks, id=project_id,
                           request=[task_payload(d) for d in docs], return_task_ids=True, retry=False)
        ids = getattr(result, "task_ids", None) or []  # sent with return_task_ids: an extra field, not in the SDK's model
        report.task_ids.update(zip((d.id for d in docs), (int(t) for t in ids), strict=False))
        report.created += len(docs)

    def arrived(docs: list[Document], wait: float) -> list[Document]:
        found = _await_tasks(conn, project_id, {d.id for d in docs}, after_id, wait)
        report.task_ids.update(found)
        report.created += len(found)
        return [d for d in docs if d.id in found]

    _send_checked(f"import of {len(batch)} task(s)", batch, send, arrived, report)
    return max([after_id, *(report.task_ids.get(d.id, -1) for d in batch)])


def _await_tasks(conn: Connection, project_id: int, doc_ids: set[str], after_id: int,
                 wait: float) -> dict[str, int]:
    """Article id -> task id for those of `doc_ids` created after `after_id`, polling up to `wait` seconds."""

    def check() -> tuple[bool, dict[str, int]]:
        found: dict[str, int] = {}
        for task in tasks_since(conn, project_id, after_id):
            doc_id = str((task.get("data") or {}).get(ID_KEY))
            if doc_id in doc_ids:
                found.setdefault(doc_id, int(task["id"]))
        return len(found) == len(doc_ids), found

    return _poll(check, wait)


def _import_predictions(conn: Connection, project_id: int, batch: list[tuple[int, Document]],
                        report: PushReport) -> None:
    """Add one prediction per (task, document); on a lost answer, re-send only to tasks still without it."""

    def send(pairs: list[tuple[int, Document]]) -> None:
        request = [{"task": task_id, **prediction_payload(doc)} for task_id, doc in pairs]
        conn.call("import predictions", conn.sdk.projects.import_predictions, id=project_id, request=request,
                  retry=False)
        report.predictions_added += len(pairs)

    def arrived(pairs: list[tuple[int, Document]], wait: float) -> list[tuple[int, Document]]:
        missing = _predictions_missing(conn, project_id, pairs, wait)
        found = [pair for pair in pairs if pair not in missing]
        report.predictions_added += len(found)
        return found

    _send_checked(f"import of {len(batch)} prediction(s)", batch, send, arrived, report)


def _predictions_missing(conn: Connection, project_id: int, pending: list[tuple[int, Document]],
                         wait: float) -> list[tuple[int, Document]]:
    """The (task, document) pairs whose task does not carry the document's model version yet."""

    def check() -> tuple[bool, list[tuple[int, Document]]]:
        versions = {e.task_id: e.model_versions for e in list_tasks(conn, project_id).tasks.values()}
        missing = [(t, d) for t, d in pending if str(d.model_version) not in versions.get(t, frozenset())]
        return not missing, missing

    return _poll(check, wait)
