"""Our tasks on the Label Studio server: what a task we push looks like, and the light listing of what is there.

Each task keeps the article id in `data.doc_id` (filterable in Label Studio, unlike task meta) and a hash of the
text, so a push can recognise articles already imported, by anyone, and notice an id reused for another text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import Document
from .client import Connection
from .labelconfig import FROM_NAME, TO_NAME
from .manifest import Existing
from .offsets import OffsetMap
from .pull import iter_task_rows

ID_KEY = "doc_id"  # the article id inside task data: filterable in Label Studio, unlike task meta
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
    """Label Studio result items for a document's spans and the relations between them, offsets converted to
    Label Studio's unit.

    A relation item names its regions by the spans' ids (`records.span_id`, e.g. "20-28-OUTCOME"): Label Studio
    1.23.2 keys a region as "<id>#<annotation>" and writes back the part before "#", so any id without "#" keeps;
    accepting the prediction copies its regions with their ids, so the annotation's relations still point at them.
    """
    offsets = offsets or OffsetMap(doc.text)
    spans = [
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
    # "right" is from_id -> to_id, how records.Relation points (source -> target).
    links = [{"type": "relation", "from_id": rel.from_id, "to_id": rel.to_id, "direction": "right",
              "labels": [rel.label]} for rel in doc.relations]
    return spans + links


def prediction_version(doc: Document) -> str | None:
    """The model version of the prediction a new task for `doc` carries, or None when it carries none."""
    return (doc.model_version or "unknown") if doc.spans or doc.model_version else None


def prediction_payload(doc: Document) -> dict[str, Any]:
    scores = [s.score for s in doc.spans if s.score is not None]
    return {
        "model_version": prediction_version(doc) or "unknown",
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
    if prediction_version(doc) is not None:
        task["predictions"] = [prediction_payload(doc)]
    return task


def _versions(task: dict[str, Any]) -> frozenset[str]:
    versions = task.get("predictions_model_versions") or ""
    if isinstance(versions, str):
        versions = [v.strip() for v in versions.split(",") if v.strip()]
    return frozenset(str(v) for v in versions)


def copy_of(task: dict[str, Any]) -> Copy:
    """What people did on a task; `draft_exists` counts every user's drafts (the `drafts` list only the token's)."""
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
            (copy_of(task), Existing(int(task["id"]), str(sha), _versions(task))))
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
