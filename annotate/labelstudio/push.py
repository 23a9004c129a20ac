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

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError, LabelStudioError, OffsetError
from ..records import Document
from . import manifest
from .client import Connection, is_transient, never_sent
from .labelconfig import FROM_NAME, TO_NAME
from .manifest import Existing
from .offsets import OffsetMap
from .project import set_model_version
from .pull import iter_task_rows

log = logging.getLogger(__name__)
ID_KEY = "doc_id"  # the article id inside task data: filterable in Label Studio, unlike task meta
ATTEMPTS = 3  # sends of one batch at most
SETTLE = 10.0  # seconds at least to wait for a batch whose answer was lost to show up before re-sending it
POLL = 0.5
LIGHT_FIELDS = "id,data,predictions_model_versions,total_annotations,cancelled_annotations,draft_exists"


@dataclass(frozen=True)
class Copy:
    """One task holding an article, with what people have done on it."""

    task_id: int
    annotations: int  # submitted, cancelled (skipped) included
    drafts: bool

    @property
    def annotated(self) -> bool:
        return self.annotations > 0 or self.drafts


@dataclass
class PushReport:
    created: int = 0
    skipped: int = 0
    predictions_added: int = 0
    task_ids: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, tuple[int, ...]] = field(default_factory=dict)  # article id -> its tasks, when several
    removed: list[int] = field(default_factory=list)  # duplicate tasks deleted (--dedupe, or our own retry copies)
    kept_annotated: dict[str, tuple[int, ...]] = field(default_factory=dict)  # duplicates not removed: annotated
    recovered: int = 0  # batches whose answer was lost and that were checked on the server

    def summary(self) -> str:
        return (f"{self.created} task(s) created, {self.predictions_added} prediction(s) added to existing tasks, "
                f"{self.skipped} unchanged task(s) skipped")

    def duplicate_lines(self) -> list[str]:
        """One line per article still in several tasks, and per task removed."""
        lines = [f"article {doc_id!r} is in {len(ids)} tasks: {', '.join(map(str, ids))}"
                 for doc_id, ids in sorted(self.duplicates.items())]
        lines += [f"removed duplicate task {task_id} (it had no annotations)" for task_id in self.removed]
        lines += [f"article {doc_id!r}: tasks {', '.join(map(str, ids))} all have annotations; not removed, "
                  "merge them by hand" for doc_id, ids in sorted(self.kept_annotated.items())]
        return lines


@dataclass
class Listing:
    """What the project holds, per article id: the task we treat as its task, and every copy when several."""

    tasks: dict[str, Existing] = field(default_factory=dict)
    copies: dict[str, list[Copy]] = field(default_factory=dict)

    @property
    def duplicates(self) -> dict[str, list[Copy]]:
        return {doc_id: c for doc_id, c in self.copies.items() if len(c) > 1}


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def prediction_result(doc: Document, offsets: OffsetMap | None = None) -> list[dict[str, Any]]:
    """Label Studio result items for a document's spans, offsets converted to Label Studio's unit."""
    offsets = offsets or OffsetMap(doc.text)
    return [
        {
            "id": span.id or f"p{i}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "origin": "prediction",
            "value": {"start": offsets.to_ls(span.start), "end": offsets.to_ls(span.end), "text": span.text,
                      "labels": [span.label]},
            **({"score": span.score} if span.score is not None else {}),
            **({"meta": {"source": span.source}} if span.source else {}),
        }
        for i, span in enumerate(doc.spans)
    ]


def _prediction_version(doc: Document) -> str | None:
    """The model version of the prediction a new task for `doc` carries, or None when it carries none."""
    return (doc.model_version or "unknown") if doc.spans or doc.model_version else None


def _prediction(doc: Document) -> dict[str, Any]:
    scores = [s.score for s in doc.spans if s.score is not None]
    return {
        "model_version": _prediction_version(doc) or "unknown",
        "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
        "result": prediction_result(doc),
    }


def task_payload(doc: Document) -> dict[str, Any]:
    """One Label Studio task: text and article id in `data` (what the editor and filters see)."""
    meta = dict(doc.meta)
    title = str(meta.get("title") or Path(str(meta.get("source_file") or doc.id)).name)
    data = {"text": doc.text, ID_KEY: doc.id, "text_sha": text_sha(doc.text), "title": title}
    data.update({k: v for k, v in meta.items() if k in ("url", "date", "source", "source_file")})
    task: dict[str, Any] = {"data": data, "meta": meta}
    if _prediction_version(doc) is not None:
        task["predictions"] = [_prediction(doc)]
    return task


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


def _versions(task: dict[str, Any]) -> frozenset[str]:
    versions = task.get("predictions_model_versions") or ""
    if isinstance(versions, str):
        versions = [v.strip() for v in versions.split(",") if v.strip()]
    return frozenset(str(v) for v in versions)


def _copy(task: dict[str, Any]) -> Copy:
    count = int(task.get("total_annotations") or 0) + int(task.get("cancelled_annotations") or 0)
    return Copy(int(task["id"]), count, bool(task.get("draft_exists") or task.get("drafts")))


def list_tasks(conn: Connection, project_id: int, rows: Iterable[dict[str, Any]] | None = None) -> Listing:
    """Every task of ours in the project (paginated, light fields), grouped by article id."""
    listing = Listing()
    rows = iter_task_rows(conn, project_id, page_size=500, include=LIGHT_FIELDS) if rows is None else rows
    found: dict[str, list[tuple[Copy, Existing]]] = {}
    for task in rows:
        data = task.get("data") or {}
        if not isinstance(data, dict) or ID_KEY not in data:
            continue  # a task someone imported by hand: not ours to manage
        sha = data.get("text_sha") or text_sha(str(data.get("text", "")))
        found.setdefault(str(data[ID_KEY]), []).append(
            (_copy(task), Existing(int(task["id"]), str(sha), _versions(task))))
    for doc_id, entries in found.items():
        # The task we keep adding to: the most annotated copy, then the oldest.
        entries.sort(key=lambda e: (-e[0].annotations, not e[0].drafts, e[0].task_id))
        listing.tasks[doc_id] = entries[0][1]
        listing.copies[doc_id] = [c for c, _ in entries]
    return listing


def existing_tasks(conn: Connection, project_id: int) -> dict[str, Existing]:
    """Article id -> the task that holds it (the most annotated one when there are several)."""
    return list_tasks(conn, project_id).tasks


def tasks_since(conn: Connection, project_id: int, after_id: int) -> Iterator[dict[str, Any]]:
    """Tasks created after task `after_id` (ids only grow), light fields only."""
    query = {"filters": {"conjunction": "and", "items": [
        {"filter": "filter:tasks:id", "operator": "greater", "type": "Number", "value": after_id}]},
        "ordering": ["tasks:id"]}
    return iter_task_rows(conn, project_id, page_size=500, include=LIGHT_FIELDS, query=query)


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
    _handle_duplicates(conn, project_id, listing, report, dedupe)
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
        _remove_retry_copies(conn, project_id, before.max_task_id, {d.id for d in new}, report)
    versions = [d.model_version for d in docs if d.model_version]
    if versions:
        set_model_version(conn, project_id, versions[-1])
    if state is not None and not report.duplicates and (cached is None or new or add_predictions or report.removed):
        _record(conn, project_id, state, before, existing, new, add_predictions, report)
    return report


def _handle_duplicates(conn: Connection, project_id: int, listing: Listing, report: PushReport,
                       dedupe: bool) -> None:
    """Report articles held by several tasks; with `dedupe`, delete the copies without annotations."""
    for doc_id, copies in sorted(listing.duplicates.items()):
        ids = tuple(sorted(c.task_id for c in copies))
        if not dedupe:
            report.duplicates[doc_id] = ids
            continue
        keep = listing.tasks[doc_id].task_id
        remaining = [keep]
        for copy in copies:
            if copy.task_id != keep and not _delete_if_unannotated(conn, copy.task_id):
                remaining.append(copy.task_id)
            elif copy.task_id != keep:
                report.removed.append(copy.task_id)
        if len(remaining) > 1:
            report.kept_annotated[doc_id] = tuple(sorted(remaining))
            report.duplicates[doc_id] = tuple(sorted(remaining))


def _delete_if_unannotated(conn: Connection, task_id: int) -> bool:
    """Delete one task unless it has annotations or drafts now (read just before); True when deleted."""
    task = conn.call(f"read task {task_id}", conn.get_json, f"api/tasks/{task_id}/")
    # draft_exists counts every user's drafts; the task's `drafts` list holds only ours (the token's user).
    if (task.get("annotations") or task.get("drafts") or task.get("draft_exists")
            or int(task.get("total_annotations") or 0) or int(task.get("cancelled_annotations") or 0)):
        return False
    try:
        conn.call(f"delete duplicate task {task_id}", conn.request_json, "DELETE", f"api/tasks/{task_id}/")
    except LabelStudioError as exc:
        if getattr(exc.__cause__, "status_code", None) != 404:  # already gone: what we wanted
            raise
    return True


def _record(conn: Connection, project_id: int, state: Path | None, before: manifest.Fingerprint,
            existing: dict[str, Existing], new: list[Document], added: list[tuple[int, Document]],
            report: PushReport) -> None:
    """Save the manifest if the server now holds exactly what this push expected; else forget it."""
    if report.removed:  # deletions change the count in ways `after` does not model: list everything next time
        manifest.forget(state)
        return
    created = {report.task_ids.get(d.id, -1): _prediction_version(d) for d in new}
    expected = before.after(created, [str(d.model_version) for _, d in added])
    if -1 in created or len(created) != len(new) or manifest.fingerprint(conn, project_id) != expected:
        manifest.forget(state)  # someone else changed the project meanwhile: list every task next time
        return
    tasks = dict(existing)
    for doc in new:
        version = _prediction_version(doc)
        tasks[doc.id] = Existing(report.task_ids[doc.id], text_sha(doc.text), frozenset([version] if version else []))
    for task_id, doc in added:
        old = tasks[doc.id]
        tasks[doc.id] = Existing(task_id, old.text_sha, old.model_versions | {str(doc.model_version)})
    manifest.save(state, project_id, expected, tasks)


def _import_batch(conn: Connection, project_id: int, batch: list[Document], report: PushReport,
                  after_id: int) -> int:
    """Import one batch (tasks above `after_id` are new); on a lost answer, check the server before re-sending.

    Returns the highest task id known after the batch.
    """
    pending = batch
    for attempt in range(1, ATTEMPTS + 1):
        started = time.monotonic()
        try:
            result = conn.call("import tasks", conn.sdk.projects.import_tasks, id=project_id,
                               request=[task_payload(d) for d in pending], return_task_ids=True, retry=False)
        except LabelStudioError as exc:
            cause = exc.__cause__
            if attempt == ATTEMPTS or cause is None or not is_transient(cause):
                raise
            if never_sent(cause):
                log.warning("import of %d task(s) could not connect (%s); sending again", len(pending), exc)
                time.sleep(POLL * attempt)
                continue
            # The request may have reached the server, and may still be running there: wait for it to show.
            report.recovered += 1
            log.warning("import of %d task(s): answer lost (%s); checking the server before sending again",
                        len(pending), exc)
            arrived = _await_tasks(conn, project_id, {d.id for d in pending}, after_id,
                                   max(SETTLE, 3 * (time.monotonic() - started)))
            for doc in pending:
                if doc.id in arrived:
                    report.task_ids[doc.id] = arrived[doc.id]
                    report.created += 1
            after_id = max([after_id, *arrived.values()])
            pending = [d for d in pending if d.id not in arrived]
            if not pending:
                return after_id
            continue
        ids = [int(t) for t in (result.task_ids or [])]
        for doc, task_id in zip(pending, ids, strict=False):
            report.task_ids[doc.id] = task_id
        report.created += len(pending)
        return max([after_id, *ids])
    raise AssertionError("unreachable")


def _await_tasks(conn: Connection, project_id: int, doc_ids: set[str], after_id: int,
                 wait: float) -> dict[str, int]:
    """Article id -> task id for those of `doc_ids` created after `after_id`, polling up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        arrived: dict[str, int] = {}
        for task in tasks_since(conn, project_id, after_id):
            doc_id = str((task.get("data") or {}).get(ID_KEY))
            if doc_id in doc_ids:
                arrived.setdefault(doc_id, int(task["id"]))
        if len(arrived) == len(doc_ids) or time.monotonic() >= deadline:
            return arrived
        time.sleep(POLL)


def _import_predictions(conn: Connection, project_id: int, batch: list[tuple[int, Document]],
                        report: PushReport) -> None:
    """Add one prediction per (task, document); on a lost answer, re-send only to tasks still without it."""
    pending = batch
    for attempt in range(1, ATTEMPTS + 1):
        started = time.monotonic()
        request = [{"task": task_id, **_prediction(doc)} for task_id, doc in pending]
        try:
            conn.call("import predictions", conn.sdk.projects.import_predictions, id=project_id, request=request,
                      retry=False)
        except LabelStudioError as exc:
            cause = exc.__cause__
            if attempt == ATTEMPTS or cause is None or not is_transient(cause):
                raise
            if not never_sent(cause):
                report.recovered += 1
                log.warning("import of %d prediction(s): answer lost (%s); checking the server", len(pending), exc)
                pending = _predictions_missing(conn, project_id, pending,
                                               max(SETTLE, 3 * (time.monotonic() - started)))
            report.predictions_added += len(batch) - len(pending)
            batch = pending
            if not pending:
                return
            continue
        report.predictions_added += len(pending)
        return


def _predictions_missing(conn: Connection, project_id: int, pending: list[tuple[int, Document]],
                         wait: float) -> list[tuple[int, Document]]:
    """The (task, document) pairs whose task does not carry the document's model version yet."""
    deadline = time.monotonic() + wait
    while True:
        versions = {e.task_id: e.model_versions for e in list_tasks(conn, project_id).tasks.values()}
        missing = [(t, d) for t, d in pending if str(d.model_version) not in versions.get(t, frozenset())]
        if not missing or time.monotonic() >= deadline:
            return missing
        time.sleep(POLL)


def _remove_retry_copies(conn: Connection, project_id: int, after_id: int, ours: set[str],
                         report: PushReport) -> None:
    """After a lost answer: if a late commit still doubled an article this push created, delete the extra copy."""
    seen: dict[str, list[Copy]] = {}
    for task in tasks_since(conn, project_id, after_id):
        doc_id = str((task.get("data") or {}).get(ID_KEY))
        if doc_id in ours:
            seen.setdefault(doc_id, []).append(_copy(task))
    for doc_id, copies in seen.items():
        keep = min(copies, key=lambda c: (not c.annotated, c.task_id))
        for copy in copies:
            if copy is not keep and _delete_if_unannotated(conn, copy.task_id):
                log.warning("removed task %d: a second copy of article %r left by a lost answer", copy.task_id, doc_id)
                report.removed.append(copy.task_id)
        report.task_ids[doc_id] = keep.task_id
