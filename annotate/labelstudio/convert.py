"""Label Studio JSON (our raw archive or an export saved from the UI) -> records.Task, with quarantine.

Offsets are converted from Label Studio's unit to Python indices here, at the boundary. Nothing that an
annotator or a hand-edited file can put into an annotation raises out of this module: what does not fit is
quarantined with task id, article id, annotator and annotation id, never silently dropped.
- An annotation with a span that does not fit (unknown label, missing or non-integer offsets, out of range,
  text not matching the task text, an item that is not an object) is quarantined whole. A span without
  `value.text` fits when its offsets and label do: its text is taken from the task text.
- A relation that does not fit is quarantined alone and the annotation's spans still count: Label Studio
  stores a relation without a type (`"labels": []`) until the annotator opens its menu, lets several types be
  ticked (`<Relations>` defaults to choice="multiple"), and draws arrows either way (`direction` "right" means
  from_id -> to_id, "left" to_id -> from_id, "bi" both), so each relation is checked against the schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, OffsetError
from ..gold import relation_misfit
from ..records import Annotation, Prediction, Relation, Span, Task
from ..schema import Schema
from .offsets import OffsetMap
from .push import ID_KEY

# What a result item not shaped as Label Studio writes it raises on the way (a string where an object belongs...).
MALFORMED = (OffsetError, KeyError, TypeError, ValueError, AttributeError)


@dataclass(frozen=True)
class Quarantined:
    """Something left out of the tasks: a whole annotation, one relation of it, or a prediction (`scope`)."""

    task_id: int
    article_id: str
    annotator: str
    annotation_id: int | None
    reason: str
    scope: str = "annotation"

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


EDIT_GRACE = 1.0  # seconds between created_at and updated_at that are still the creating save


def annotator_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("email") or f"user-{value.get('id')}")
    return f"user-{value}" if value is not None else "unknown"


def _user_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _seconds(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def editor_of(ann: dict[str, Any]) -> str | None:
    """Who saved the annotation last, when that is not its author; None otherwise.

    Label Studio 1.23.2 sets `updated_by` to the requesting user on every save (tasks/api.py): on creation too,
    so an annotation created through the API on someone's behalf (`completed_by`) names the creator, with
    `updated_at` within microseconds of `created_at`. Only a later save (the Update button on a colleague's
    annotation, opened from the Data Manager) counts. The task list API and the UI JSON export both give
    `updated_by` as a user id; a pull inlines it as {id, email}.
    """
    editor, author = ann.get("updated_by"), ann.get("completed_by")
    if editor is None or _user_id(editor) == _user_id(author):
        return None
    created, updated = _seconds(ann.get("created_at")), _seconds(ann.get("updated_at"))
    if created is not None and updated is not None and updated - created <= EDIT_GRACE:
        return None
    return annotator_of(editor)


def _offset(value: Any, name: str, where: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise OffsetError(f"{where}: span {name} {value!r} is not an integer offset")
    return value


def _span(item: dict[str, Any], text: str, offsets: OffsetMap, schema: Schema, where: str) -> Span:
    value = item.get("value")
    if not isinstance(value, dict):
        raise OffsetError(f"{where}: span {item.get('id')!r} has no 'value' object")
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1 or labels[0] not in schema.label_names:
        raise OffsetError(f"{where}: unknown label {labels!r}; valid: {', '.join(schema.label_names)}")
    if "start" not in value or "end" not in value:
        raise OffsetError(f"{where}: span {labels[0]} {item.get('id')!r} has no start/end offsets")
    start = offsets.from_ls(_offset(value["start"], "start", where))
    end = offsets.from_ls(_offset(value["end"], "end", where))
    score = item.get("score")
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    # Label Studio accepts (and its editor sometimes saves) a region without `text`: the offsets are the truth,
    # so its text is cut from the task's; out-of-range offsets still fail the check below.
    said = value.get("text")
    span = Span(start, end, labels[0], text[start:end] if said is None else str(said),
                float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
                meta.get("source"), str(item["id"]) if item.get("id") else None)
    span.check(text, where)
    return span


def _result(result: Any, text: str, offsets: OffsetMap, schema: Schema,
            where: str) -> tuple[list[Span], list[dict[str, Any]]]:
    """The spans of one result (raises OffsetError when one does not fit) and its relation items, unchecked."""
    if not isinstance(result, list):
        raise OffsetError(f"{where}: 'result' is {type(result).__name__}, not a list of regions")
    spans, links = [], []
    for item in result:
        if not isinstance(item, dict):
            raise OffsetError(f"{where}: a result item is {type(item).__name__}, not an object")
        if item.get("type") == "labels":
            spans.append(_span(item, text, offsets, schema, where))
        elif item.get("type") == "relation":
            links.append(item)
    return spans, links


def _relation(item: dict[str, Any], spans: dict[str, Span], schema: Schema) -> Relation | str:
    """A relation item as a Relation pointing source -> target, or why it does not fit."""
    a, b = item.get("from_id"), item.get("to_id")
    what = f"relation {a} -> {b}"
    names = ", ".join(r.name for r in schema.relations) or "none (the schema defines no relation types)"
    labels = item.get("labels")
    if not isinstance(labels, list) or not labels:
        return f"{what} has no type (Label Studio leaves it empty until one is picked in its menu); valid: {names}"
    if len(labels) > 1:
        return f"{what} has several types {labels}; pick one of: {names}"
    direction = item.get("direction", "right")
    kind = next((r for r in schema.relations if r.name == labels[0]), None)
    if direction == "left":
        a, b = b, a
    elif direction == "bi" and not (kind and kind.source == kind.target):
        return f"{what} ({labels[0]}) is bidirectional; relation types are directed (source -> target)"
    elif direction not in ("right", "bi"):
        return f"{what} has direction {direction!r}; valid: right, left"
    relation = Relation(str(a), str(b), str(labels[0]))
    return relation_misfit(relation, spans, schema) or relation


def _annotation(ann: dict[str, Any], task_id: int, article_id: str, text: str, offsets: OffsetMap, schema: Schema,
                quarantine: list[Quarantined]) -> Annotation | None:
    who, aid = annotator_of(ann.get("completed_by")), ann.get("id")
    where = f"task {task_id} (article {article_id}) annotation {aid} by {who}"
    try:
        spans, links = _result(ann.get("result", []), text, offsets, schema, where)
    except MALFORMED as exc:
        reason = str(exc) if isinstance(exc, OffsetError) else f"{where}: malformed result item ({exc!r})"
        quarantine.append(Quarantined(task_id, article_id, who, aid, reason))
        return None
    by_id = {s.id: s for s in spans if s.id is not None}
    relations = []
    for item in links:
        found = _relation(item, by_id, schema)
        if isinstance(found, str):
            quarantine.append(Quarantined(task_id, article_id, who, aid,
                                          f"{where}: {found}; the relation is left out, the spans count", "relation"))
        else:
            relations.append(found)
    return Annotation(
        task_id=task_id, article_id=article_id, annotator=who, spans=tuple(spans), relations=tuple(relations),
        annotation_id=aid, lead_time=ann.get("lead_time"), created_at=ann.get("created_at"),
        updated_at=ann.get("updated_at"), ground_truth=bool(ann.get("ground_truth")),
        cancelled=bool(ann.get("was_cancelled")), parent_prediction=ann.get("parent_prediction"),
        edited_by=editor_of(ann),
    )


def _prediction(pred: dict[str, Any], task_id: int, article_id: str, text: str, offsets: OffsetMap, schema: Schema,
                quarantine: list[Quarantined]) -> Prediction | None:
    where = f"task {task_id} (article {article_id}) prediction {pred.get('id')}"
    try:
        spans, _ = _result(pred.get("result", []), text, offsets, schema, where)
    except MALFORMED as exc:
        reason = str(exc) if isinstance(exc, OffsetError) else f"{where}: malformed result item ({exc!r})"
        quarantine.append(Quarantined(task_id, article_id, f"model:{pred.get('model_version')}", pred.get("id"),
                                      reason, "prediction"))
        return None
    return Prediction(str(pred.get("model_version") or "unknown"), tuple(spans), pred.get("id"), pred.get("score"))


def task_from_row(row: dict[str, Any], schema: Schema, quarantine: list[Quarantined]) -> Task:
    """One exported task -> Task; annotations (or relations) that do not fit go to `quarantine`."""
    data = row["data"]
    text = str(data.get("text", ""))
    task_id = int(row.get("id", 0))
    article_id = str(data.get(ID_KEY) or f"task-{task_id}")
    offsets = OffsetMap(text)
    predictions = []
    for pred in row.get("predictions") or []:
        if isinstance(pred, dict):  # a plain export lists prediction ids only
            found = _prediction(pred, task_id, article_id, text, offsets, schema, quarantine)
            predictions += [found] if found else []
    annotations = []
    for ann in row.get("annotations") or []:
        if not isinstance(ann, dict):
            quarantine.append(Quarantined(task_id, article_id, "unknown", None,
                                          f"task {task_id}: an annotation is {type(ann).__name__}, not an object"))
            continue
        found_ann = _annotation(ann, task_id, article_id, text, offsets, schema, quarantine)
        annotations += [found_ann] if found_ann else []
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    return Task(task_id, article_id, text, dict(meta or {}), tuple(predictions), tuple(annotations))


def tasks_from_export(rows: Iterable[dict[str, Any]], schema: Schema) -> tuple[list[Task], list[Quarantined]]:
    """All tasks of an export, and what was quarantined on the way."""
    quarantine: list[Quarantined] = []
    tasks = [task_from_row(row, schema, quarantine) for row in rows]
    return tasks, quarantine
