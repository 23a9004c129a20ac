"""Analyst tables through pandas and pyarrow: one row per gold span, and one row per gold OUTCOME (events)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..events.table import COLUMNS, INTERNAL_META

SPAN_COLUMNS = ["article_id", "task_id", "split", "status", "span_id", "start", "end", "source_start", "source_end",
                "label", "text",
                "annotators", "n_annotators", "origin", "correction", "model_version", "lead_action", "decided_by",
                "token_aligned", "in_ents"]
ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "date": pa.date32(), "strings": pa.list_(pa.string())}
# The same for every export whatever its data, so exports stack (pd.read_parquet([a, b]), pyarrow.dataset).
EVENT_SCHEMA = pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in COLUMNS])


def _meta_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return sorted({f"meta_{k}" for row in rows for k in row["meta"] if k not in INTERNAL_META})


def _meta_values(row: Mapping[str, Any]) -> dict[str, Any]:
    # Nested metadata becomes JSON text so every cell of the table is a scalar.
    return {f"meta_{k}": v if v is None or isinstance(v, str | int | float | bool) else json.dumps(v, sort_keys=True)
            for k, v in row["meta"].items() if k not in INTERNAL_META}


def span_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per gold span, with its article's status, split and metadata (meta_* columns)."""
    records = []
    for row in rows:
        for span in row["spans"]:
            decision = span["lead_decision"] or {}
            records.append({
                "article_id": row["id"], "task_id": row["task_id"], "split": row["split"], "status": row["status"],
                "span_id": span["id"], "start": span["start"], "end": span["end"],
                "source_start": span["source_start"], "source_end": span["source_end"], "label": span["label"],
                "text": span["text"], "annotators": "|".join(span["annotators"]),
                "n_annotators": len(span["annotators"]), "origin": span["origin"], "correction": span["correction"],
                "model_version": span["model_version"], "lead_action": decision.get("action"),
                "decided_by": decision.get("by"), "token_aligned": span["token_aligned"], "in_ents": span["in_ents"],
                **_meta_values(row),
            })
    return pd.DataFrame(records, columns=SPAN_COLUMNS + _meta_columns(rows))


def event_table(events: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Event rows (annotate.events.table) as an Arrow table with EVENT_SCHEMA."""
    return pa.Table.from_pylist(list(events), schema=EVENT_SCHEMA)


def write_event_parquet(table: pa.Table, handle: Any) -> None:
    """Write the events table as Parquet (its schema as given: no pandas index or metadata)."""
    pq.write_table(table, handle)


def event_csv_frame(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Event rows for events.csv: lists "|"-joined, dates ISO, integer columns kept integers (empty when none)."""
    frame = pd.DataFrame(
        [{c.name: _csv_cell(row[c.name], c.kind) for c in COLUMNS} for row in events],
        columns=[c.name for c in COLUMNS],
    )
    for column in COLUMNS:
        if column.kind == "int":
            frame[column.name] = frame[column.name].astype("Int64")
    return frame


def _csv_cell(value: Any, kind: str) -> Any:
    if kind == "strings":
        return "|".join(value)
    if kind == "date":
        return None if value is None else value.isoformat()
    return value
