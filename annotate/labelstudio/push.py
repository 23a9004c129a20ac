"""Idempotent push: upsert tasks keyed on the article id in the task data, predictions once per model version.

Safe to interrupt: every batch is re-checked against the server before it is sent again, so a push that
died half-way (or whose last request reached the server but not its answer) completes with no duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, LabelStudioError, OffsetError
from ..records import Document
from . import manifest
from .client import Connection, is_transient
from .labelconfig import FROM_NAME, TO_NAME
from .manifest import Existing
from .offsets import OffsetMap
from .project import set_model_version
from .pull import iter_task_rows

log = logging.getLogger(__name__)
ID_KEY = "doc_id"  # the article id inside task data: filterable in Label Studio, unlike task meta


@dataclass
class PushReport:
    created: int = 0
    skipped: int = 0
    predictions_added: int = 0
    task_ids: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"{self.created} task(s) created, {self.predictions_added} prediction(s) added to existing tasks, "
                f"{self.skipped} unchanged task(s) skipped")


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


def existing_tasks(conn: Connection, project_id: int) -> dict[str, Existing]:
    """Article id -> task already in the project (paginated, light fields only)."""
    found: dict[str, Existing] = {}
    # fields=all is needed for predictions_model_versions to be filled; `include` keeps the rows light
    rows = iter_task_rows(conn, project_id, page_size=500, include="id,data,predictions_model_versions")
    for task in rows:
        data = task.get("data") or {}
        if ID_KEY not in data:
            continue  # a task someone imported by hand: not ours to manage
        versions = task.get("predictions_model_versions") or ""
        if isinstance(versions, str):
            versions = [v.strip() for v in versions.split(",") if v.strip()]
        sha = data.get("text_sha") or text_sha(str(data.get("text", "")))
        found[str(data[ID_KEY])] = Existing(int(task["id"]), sha, frozenset(versions))
    return found


def push_documents(conn: Connection, project_id: int, docs: Iterable[Document], batch_size: int = 100,
                   progress: Callable[[int], None] | None = None, state: Path | None = None) -> PushReport:
    """Upsert documents as tasks with predictions; unchanged ones are skipped, annotations never touched.

    `state`: where to keep the project's manifest (see manifest.py); without it every task is listed.
    """
    docs = list({d.id: d for d in docs}.values())
    check_documents(docs)
    before = manifest.fingerprint(conn, project_id) if state else None
    cached = manifest.load(state, project_id, before) if before else None
    existing = cached if cached is not None else existing_tasks(conn, project_id)
    report = PushReport()
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
    for start in range(0, len(new), batch_size):
        _import_batch(conn, project_id, new[start : start + batch_size], report)
        if progress:
            progress(min(batch_size, len(new) - start))
    for start in range(0, len(add_predictions), batch_size):
        batch = add_predictions[start : start + batch_size]
        request = [{"task": task_id, **_prediction(doc)} for task_id, doc in batch]
        conn.call("import predictions", conn.sdk.projects.import_predictions, id=project_id, request=request,
                  retry=False)
        report.predictions_added += len(batch)
        if progress:
            progress(len(batch))
    if progress:
        progress(report.skipped)
    versions = [d.model_version for d in docs if d.model_version]
    if versions:
        set_model_version(conn, project_id, versions[-1])
    if before is not None and (cached is None or new or add_predictions):
        _record(conn, project_id, state, before, existing, new, add_predictions, report)
    return report


def _record(conn: Connection, project_id: int, state: Path | None, before: manifest.Fingerprint,
            existing: dict[str, Existing], new: list[Document], added: list[tuple[int, Document]],
            report: PushReport) -> None:
    """Save the manifest if the server now holds exactly what this push expected; else forget it."""
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


def _import_batch(conn: Connection, project_id: int, batch: list[Document], report: PushReport) -> None:
    """Import one batch; on a transient failure re-check which of its articles arrived before resending."""
    pending = batch
    for attempt in range(1, 4):
        try:
            result = conn.call("import tasks", conn.sdk.projects.import_tasks, id=project_id,
                               request=[task_payload(d) for d in pending], return_task_ids=True, retry=False)
        except LabelStudioError as exc:
            # The request may have reached the server even though its answer did not reach us.
            if attempt == 3 or exc.__cause__ is None or not is_transient(exc.__cause__):
                raise
            log.warning("import of %d task(s) failed (%s); checking the server before retrying", len(pending), exc)
            arrived = existing_tasks(conn, project_id)
            for doc in pending:
                if doc.id in arrived:
                    report.task_ids[doc.id] = arrived[doc.id].task_id
                    report.created += 1
            pending = [d for d in pending if d.id not in arrived]
            if not pending:
                return
            continue
        for doc, task_id in zip(pending, result.task_ids or [], strict=False):
            report.task_ids[doc.id] = int(task_id)
        report.created += len(pending)
        return
