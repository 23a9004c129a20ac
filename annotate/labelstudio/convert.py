"""Label Studio JSON (our raw archive or an export saved from the UI) -> records.Task, with quarantine.

Offsets are converted from Label Studio's unit to Python indices here, at the boundary. An annotation
that does not fit (unknown label, offsets out of range, span text not matching the task text) is
quarantined whole, with task id and annotator, never silently dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, OffsetError
from ..records import Annotation, Prediction, Relation, Span, Task
from ..schema import Schema
from .offsets import OffsetMap
from .push import ID_KEY


@dataclass(frozen=True)
class Quarantined:
    task_id: int
    article_id: str
    annotator: str
    annotation_id: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_export(path: Path | str) -> list[dict[str, Any]]:
    """Read a Label Studio JSON export (a list of tasks); a truncated or foreign file is a clear error."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("file not found; expected a Label Studio JSON export", str(path)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InputError(f"not valid JSON{where}: truncated or not a Label Studio JSON export ({exc})",
                         str(path)) from exc
    if not isinstance(rows, list) or any(not isinstance(r, dict) or "data" not in r for r in rows):
        raise InputError("expected a JSON list of Label Studio tasks, each with 'data'", str(path))
    return rows


def annotator_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("email") or f"user-{value.get('id')}")
    return f"user-{value}" if value is not None else "unknown"


def _spans(result: Iterable[dict[str, Any]], text: str, offsets: OffsetMap, schema: Schema,
           where: str) -> tuple[list[Span], list[Relation]]:
    spans, relations = [], []
    for item in result:
        kind = item.get("type")
        if kind == "relation":
            labels = item.get("labels") or []
            label = labels[0] if labels else "related"
            if labels and label not in {r.name for r in schema.relations}:
                raise OffsetError(f"{where}: unknown relation {label!r}; valid: "
                                  f"{', '.join(r.name for r in schema.relations)}")
            relations.append(Relation(str(item["from_id"]), str(item["to_id"]), label))
        elif kind == "labels":
            value = item.get("value", {})
            labels = value.get("labels") or []
            if len(labels) != 1 or labels[0] not in schema.label_names:
                raise OffsetError(f"{where}: unknown label {labels!r}; valid: {', '.join(schema.label_names)}")
            start, end = offsets.from_ls(int(value["start"])), offsets.from_ls(int(value["end"]))
            span = Span(start, end, labels[0], str(value.get("text", "")), item.get("score"),
                        (item.get("meta") or {}).get("source"), str(item.get("id")) if item.get("id") else None)
            span.check(text, where)
            spans.append(span)
    return spans, relations


def task_from_row(row: dict[str, Any], schema: Schema, quarantine: list[Quarantined]) -> Task:
    """One exported task -> Task; annotations that do not fit go to `quarantine`."""
    data = row["data"]
    text = str(data.get("text", ""))
    task_id = int(row.get("id", 0))
    article_id = str(data.get(ID_KEY) or f"task-{task_id}")
    offsets = OffsetMap(text)
    predictions = []
    for pred in row.get("predictions", []):
        if not isinstance(pred, dict):
            continue  # a plain export lists prediction ids only
        try:
            spans, _ = _spans(pred.get("result", []), text, offsets, schema, f"task {task_id} prediction")
        except OffsetError as exc:
            quarantine.append(Quarantined(task_id, article_id, f"model:{pred.get('model_version')}", pred.get("id"),
                                          str(exc)))
            continue
        predictions.append(Prediction(str(pred.get("model_version") or "unknown"), tuple(spans), pred.get("id"),
                                      pred.get("score")))
    annotations = []
    for ann in row.get("annotations", []):
        who = annotator_of(ann.get("completed_by"))
        try:
            spans, relations = _spans(ann.get("result", []), text, offsets, schema,
                                      f"task {task_id} annotation {ann.get('id')} by {who}")
        except (OffsetError, KeyError, TypeError, ValueError) as exc:
            quarantine.append(Quarantined(task_id, article_id, who, ann.get("id"), str(exc)))
            continue
        annotations.append(Annotation(
            task_id=task_id, article_id=article_id, annotator=who, spans=tuple(spans), relations=tuple(relations),
            annotation_id=ann.get("id"), lead_time=ann.get("lead_time"), created_at=ann.get("created_at"),
            updated_at=ann.get("updated_at"), ground_truth=bool(ann.get("ground_truth")),
            cancelled=bool(ann.get("was_cancelled")), parent_prediction=ann.get("parent_prediction"),
        ))
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    return Task(task_id, article_id, text, dict(meta or {}), tuple(predictions), tuple(annotations))


def tasks_from_export(rows: Iterable[dict[str, Any]], schema: Schema) -> tuple[list[Task], list[Quarantined]]:
    """All tasks of an export, and the annotations quarantined on the way."""
    quarantine: list[Quarantined] = []
    tasks = [task_from_row(row, schema, quarantine) for row in rows]
    return tasks, quarantine
