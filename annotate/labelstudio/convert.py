"""Label Studio JSON (our raw archive or an export saved from the UI) -> records.Task, with quarantine.

Label Studio 1.23 stores offsets as Python code-point indices, astral characters included (measured in real
Chromium: tests/test_browser_offsets.py), so they pass through unchanged and are only checked. Nothing that an
annotator or a hand-edited file can put into an annotation raises out of this module: what does not fit is
quarantined with task id, article id, annotator and annotation id, never silently dropped.
- An annotation with a span that does not fit (unknown label, missing or non-integer offsets, out of range,
  text not matching the task text, an item that is not an object) is quarantined whole. A span without
  `value.text` fits when its offsets and label do: its text is taken from the task text.
- A relation that does not fit is quarantined alone and the annotation's spans still count: Label Studio
  stores a relation without a type (no `labels`, or `"labels": []`) until the annotator opens its menu, keeps
  several types when a stored or predicted result has them (our `choice="single"` only makes the menu a single
  select; a project made elsewhere may offer Label Studio's default, "multiple"), and draws arrows either way
  (`direction` "right" means from_id -> to_id, "left" to_id -> from_id, "bi" both), so each relation is checked
  against the schema.
  A prediction's relations are read and checked the same way (quarantined as the model's, "model:<version>").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, OffsetError
from ..gold.relations import relation_misfit
from ..records import Annotation, Prediction, Relation, Span, Task
from ..schema import Schema
from .payloads import ID_KEY

log = logging.getLogger(__name__)
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

    def note(self) -> str:
        """One line for reports and the dataset card: which task, whose work, what was wrong."""
        return f"task {self.task_id} by {self.annotator}: {self.reason}"


def read_export(path: Path | str) -> list[dict[str, Any]]:
    """Read a Label Studio JSON export (a list of tasks); a truncated, foreign or misshapen file is a one-line error
    naming the file (and the task index), and Label Studio's other export types say to export JSON instead."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found; expected a Label Studio JSON export", str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: not a Label Studio JSON export ({exc.reason})", str(path)) from exc
    try:
        rows = json.loads(raw)
    except json.JSONDecodeError as exc:
        if _looks_like_csv(raw):
            raise InputError(f"this is Label Studio's CSV export; {USE_JSON}", str(path)) from exc
        raise InputError(f"not valid JSON (line {exc.lineno}): truncated or not a Label Studio JSON export ({exc})",
                         str(path)) from exc
    if not isinstance(rows, list):
        raise InputError(f"expected a JSON list of Label Studio tasks, got a JSON {type(rows).__name__}", str(path))
    if rows and all(isinstance(r, dict) and "data" not in r and ("annotator" in r or "annotation_id" in r)
                    for r in rows):
        raise InputError("this is Label Studio's JSON_MIN export (one flat row per annotation: no task data, "
                         f"regions or predictions); {USE_JSON}", str(path))
    for index, row in enumerate(rows):
        problem = _shape_problem(row)
        if problem:
            ident = row.get("id") if isinstance(row, dict) else None
            named = f" (id {ident})" if isinstance(ident, int) and not isinstance(ident, bool) else ""
            raise InputError(f"task {index} of the list{named}: {problem}; expected Label Studio's JSON export shape",
                             str(path))
    return rows


USE_JSON = "export the project as JSON instead (Export > JSON in Label Studio, or exportType=JSON through the API)"


def _looks_like_csv(raw: str) -> bool:
    first = raw.lstrip("\ufeff").split("\n", 1)[0]
    return not first.lstrip().startswith(("[", "{")) and "," in first and ("id" in first or "annotat" in first)


def _shape_problem(row: Any) -> str | None:
    """What is wrong with one task's outer shape (what convert relies on), or None."""
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not an object"
    ident = row.get("id")
    if isinstance(ident, bool) or not isinstance(ident, int | str) or not str(ident).strip().isdigit():
        return f"id {ident!r} is not a task number"
    if not isinstance(row.get("data"), dict):
        return f"'data' is {type(row.get('data')).__name__}, not an object with the text"
    if not isinstance(row["data"].get("text", ""), str):
        return f"data.text is {type(row['data']['text']).__name__}, not the article text"
    for key in ("annotations", "predictions"):
        if row.get(key) is not None and not isinstance(row[key], list):
            return f"'{key}' is {type(row[key]).__name__}, not a list"
    return None


EDIT_GRACE = 1.0  # seconds between created_at and updated_at that are still the creating save


@dataclass
class Users:
    """Names for the user ids an export carries: its inlined emails, else `emails` (from the API), else "user-<id>"
    (remembered, so the caller can warn once)."""

    emails: Mapping[int, str] = field(default_factory=dict)
    unresolved: set[int] = field(default_factory=set)

    def name(self, value: Any) -> str:
        if isinstance(value, dict):
            value = value.get("email") or value.get("id")
            if isinstance(value, str):
                return value
        if isinstance(value, int) and not isinstance(value, bool):
            if value in self.emails:
                return self.emails[value]
            self.unresolved.add(value)
        return f"user-{value}" if value is not None else "unknown"


def annotator_of(value: Any) -> str:
    """An annotator's name from `completed_by` alone: the email when inlined, else "user-<id>"."""
    return Users().name(value)


def _user_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _seconds(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def editor_of(ann: dict[str, Any], users: Users | None = None) -> str | None:
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
    return (users or Users()).name(editor)


def _offset(value: Any, name: str, where: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise OffsetError(f"{where}: span {name} {value!r} is not an integer offset")
    return value


def _span(item: dict[str, Any], text: str, schema: Schema, where: str) -> Span:
    value = item.get("value")
    if not isinstance(value, dict):
        raise OffsetError(f"{where}: span {item.get('id')!r} has no 'value' object")
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1 or labels[0] not in schema.label_names:
        raise OffsetError(f"{where}: unknown label {labels!r}; valid: {', '.join(schema.label_names)}")
    if "start" not in value or "end" not in value:
        raise OffsetError(f"{where}: span {labels[0]} {item.get('id')!r} has no start/end offsets")
    start = _offset(value["start"], "start", where)
    end = _offset(value["end"], "end", where)
    score = item.get("score")
    meta: dict[str, Any] = item["meta"] if isinstance(item.get("meta"), dict) else {}
    # Label Studio accepts (and its editor sometimes saves) a region without `text`: the offsets are the truth,
    # so its text is cut from the task's; out-of-range offsets still fail the check below.
    said = value.get("text")
    span = Span(start, end, labels[0], text[start:end] if said is None else str(said),
                float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None,
                meta.get("source"), str(item["id"]) if item.get("id") else None)
    span.check(text, where)
    return span


def _result(result: Any, text: str, schema: Schema,
            where: str) -> tuple[list[Span], list[dict[str, Any]]]:
    """The spans of one result (raises OffsetError when one does not fit) and its relation items, unchecked."""
    if not isinstance(result, list):
        raise OffsetError(f"{where}: 'result' is {type(result).__name__}, not a list of regions")
    spans, links = [], []
    for item in result:
        if not isinstance(item, dict):
            raise OffsetError(f"{where}: a result item is {type(item).__name__}, not an object")
        if item.get("type") == "labels":
            spans.append(_span(item, text, schema, where))
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


def _relations(links: list[dict[str, Any]], spans: list[Span], schema: Schema, owner: Quarantined,
               quarantine: list[Quarantined]) -> tuple[Relation, ...]:
    """The relation items that fit; each that does not goes to `quarantine` alone, named as `owner` (whose work,
    its reason saying where), so the spans still count."""
    by_id = {s.id: s for s in spans if s.id is not None}
    kept = []
    for item in links:
        found = _relation(item, by_id, schema)
        if isinstance(found, str):
            reason = f"{owner.reason}: {found}; the relation is left out, the spans count"
            quarantine.append(replace(owner, reason=reason, scope="relation"))
        else:
            kept.append(found)
    return tuple(kept)


def _annotation(ann: dict[str, Any], task_id: int, article_id: str, text: str, schema: Schema,
                quarantine: list[Quarantined], users: Users) -> Annotation | None:
    who, aid = users.name(ann.get("completed_by")), ann.get("id")
    where = f"task {task_id} (article {article_id}) annotation {aid} by {who}"
    try:
        spans, links = _result(ann.get("result", []), text, schema, where)
    except MALFORMED as exc:
        reason = str(exc) if isinstance(exc, OffsetError) else f"{where}: malformed result item ({exc!r})"
        quarantine.append(Quarantined(task_id, article_id, who, aid, reason))
        return None
    relations = _relations(links, spans, schema, Quarantined(task_id, article_id, who, aid, where), quarantine)
    return Annotation(
        task_id=task_id, article_id=article_id, annotator=who, spans=tuple(spans), relations=tuple(relations),
        annotation_id=aid, lead_time=ann.get("lead_time"), created_at=ann.get("created_at"),
        updated_at=ann.get("updated_at"), ground_truth=bool(ann.get("ground_truth")),
        cancelled=bool(ann.get("was_cancelled")), parent_prediction=ann.get("parent_prediction"),
        edited_by=editor_of(ann, users),
    )


def _prediction(pred: dict[str, Any], task_id: int, article_id: str, text: str, schema: Schema,
                quarantine: list[Quarantined]) -> Prediction | None:
    where = f"task {task_id} (article {article_id}) prediction {pred.get('id')}"
    model = f"model:{pred.get('model_version')}"
    try:
        spans, links = _result(pred.get("result", []), text, schema, where)
    except MALFORMED as exc:
        reason = str(exc) if isinstance(exc, OffsetError) else f"{where}: malformed result item ({exc!r})"
        quarantine.append(Quarantined(task_id, article_id, model, pred.get("id"), reason, "prediction"))
        return None
    relations = _relations(links, spans, schema, Quarantined(task_id, article_id, model, pred.get("id"), where),
                           quarantine)
    return Prediction(str(pred.get("model_version") or "unknown"), tuple(spans), pred.get("id"), pred.get("score"),
                      relations)


def _inline_predictions(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The predictions of a task, full: Label Studio's UI JSON export lists prediction ids only in `predictions`
    and inlines, in each annotation, `prediction`: the prediction of the project's model version that the editor
    showed when the annotation was created (set by the server; 1.23.2 tasks/api.py). A pull has them in full."""
    full = [p for p in row.get("predictions") or [] if isinstance(p, dict)]
    seen = {p.get("id") for p in full}
    for ann in row.get("annotations") or []:
        pred = ann.get("prediction") if isinstance(ann, dict) else None
        if isinstance(pred, dict) and pred.get("result") is not None and pred.get("id") not in seen:
            full.append(pred)
            seen.add(pred.get("id"))
    return full


def task_from_row(row: dict[str, Any], schema: Schema, quarantine: list[Quarantined],
                  users: Users | None = None) -> Task:
    """One exported task -> Task; annotations (or relations) that do not fit go to `quarantine`."""
    users = users or Users()
    data = row["data"]
    text = str(data.get("text", ""))
    task_id = int(row.get("id", 0))
    article_id = str(data.get(ID_KEY) or f"task-{task_id}")
    predictions = []
    for pred in _inline_predictions(row):
        found = _prediction(pred, task_id, article_id, text, schema, quarantine)
        predictions += [found] if found else []
    annotations = []
    for ann in row.get("annotations") or []:
        if not isinstance(ann, dict):
            quarantine.append(Quarantined(task_id, article_id, "unknown", None,
                                          f"task {task_id}: an annotation is {type(ann).__name__}, not an object"))
            continue
        found_ann = _annotation(ann, task_id, article_id, text, schema, quarantine, users)
        annotations += [found_ann] if found_ann else []
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    return Task(task_id, article_id, text, dict(meta or {}), tuple(predictions), tuple(annotations))


def tasks_from_export(rows: Iterable[dict[str, Any]], schema: Schema,
                      emails: Mapping[int, str] | None = None) -> tuple[list[Task], list[Quarantined]]:
    """All tasks of an export, and what was quarantined on the way.

    `emails` names the user ids of an export that carries ids only (the UI JSON export: `completed_by` is an
    integer there); ids it cannot name become "user-<id>", with one warning.
    """
    quarantine: list[Quarantined] = []
    users = Users(emails or {})
    tasks = [task_from_row(row, schema, quarantine, users) for row in rows]
    if users.unresolved:
        ids = sorted(users.unresolved)
        log.warning("%d annotator(s) appear as user-<id> (ids %s): this export holds Label Studio user ids, not "
                    "emails, and no server answered to name them, so configured leads are not recognised; pull "
                    "instead (annotate pull), or run with the Label Studio server reachable",
                    len(ids), ", ".join(map(str, ids[:10])) + (", ..." if len(ids) > 10 else ""))
    return tasks, quarantine
