"""Analyst tables through pandas and pyarrow: one row per gold span, and one row per gold OUTCOME (events)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..events.table import COLUMNS, meta_json
from .rows import SPAN_FIELDS

ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "bool": pa.bool_(), "date": pa.date32(),
               "strings": pa.list_(pa.string())}
# The same for every export whatever its data, so exports stack (pd.read_parquet([a, b]), pyarrow.dataset): a
# column is never Arrow `null` because no row has a value, and metadata is one JSON column (`meta`), not one column
# per input key.
SPAN_COLUMNS = [name for name, _ in SPAN_FIELDS]
SPAN_SCHEMA = pa.schema([pa.field(name, ARROW_TYPES[kind]) for name, kind in SPAN_FIELDS])
EVENT_SCHEMA = pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in COLUMNS])
PANDAS_DTYPES = {"string": "string", "int": "Int64", "bool": "boolean"}


def span_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per gold span, with its article's status, split and metadata (`meta`, JSON), typed as SPAN_SCHEMA."""
    records = []
    for row in rows:
        meta = meta_json(row["meta"])
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
                "meta": meta,
            })
    # Nullable dtypes: a column with no value in this export keeps its type instead of becoming all-NaN objects.
    frame = pd.DataFrame(records, columns=SPAN_COLUMNS)
    return frame.astype({name: PANDAS_DTYPES[kind] for name, kind in SPAN_FIELDS})


def span_arrow(frame: pd.DataFrame) -> pa.Table:
    """The span table as Arrow with SPAN_SCHEMA (no pandas index or metadata, as for events)."""
    table = pa.Table.from_pandas(frame[SPAN_COLUMNS], schema=SPAN_SCHEMA, preserve_index=False)
    return table.replace_schema_metadata(None)


def write_span_parquet(frame: pd.DataFrame, handle: Any) -> None:
    """Write spans.parquet with SPAN_SCHEMA, whatever the data."""
    pq.write_table(span_arrow(frame), handle)


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
